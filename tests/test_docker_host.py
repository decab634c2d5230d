"""``DOCKER_HOST`` naming another engine: images loaded through skopeo land where ``docker`` reads them.

A second, private dockerd (its own data root, exec root, socket and network namespace) stands in
for a remote or non-default engine. It runs under ``unshare --net`` so its bridge handling cannot
touch the host's: a dockerd started with ``--bridge=none`` deletes the host's docker0.
skopeo's ``docker-daemon:`` transport ignores ``DOCKER_HOST``, so without being told the host it
would write into the machine's default engine instead.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest
from containers_helpers import start_python, wait_for

from pytest_rules_rust.containers.load import daemon_args, docker_available, load_platform, remove_image
from pytest_rules_rust.containers.oci_write import write_image
from pytest_rules_rust.platforms import AMD64

_no_docker = docker_available()
pytestmark = [
    pytest.mark.container,
    pytest.mark.skipif(_no_docker is not None, reason=f"needs a Docker daemon: {_no_docker}"),
    pytest.mark.skipif(shutil.which("skopeo") is None, reason="needs skopeo: apt-get install skopeo"),
]


def _answers(host: str) -> bool:
    env = {**os.environ, "DOCKER_HOST": host}
    done = subprocess.run(["docker", "version"], env=env, capture_output=True, timeout=20, check=False)
    return done.returncode == 0


@pytest.fixture(scope="module")
def second_engine() -> Iterator[str]:
    """``unix://…`` of a private dockerd started for this module and stopped (data removed) after it."""
    dockerd, unshare = shutil.which("dockerd"), shutil.which("unshare")
    if dockerd is None or unshare is None or os.geteuid() != 0:
        pytest.skip("a second Docker engine needs dockerd (apt-get install docker.io), unshare and root")
    root = Path(tempfile.mkdtemp(prefix="rr-dd-", dir="/tmp"))  # short: a unix socket path has 107 bytes
    host = f"unix://{root}/docker.sock"
    log = root / "dockerd.log"
    argv = [unshare, "--net", dockerd, "--iptables=false", "-H", host, "--pidfile", str(root / "pid")]
    argv += ["--data-root", str(root / "data"), "--exec-root", str(root / "exec")]
    with log.open("wb") as out:
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while not _answers(host):
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the second dockerd did not come up; its log: {log}\n{log.read_text()[-2000:]}")
            time.sleep(0.5)
        yield host
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        shutil.rmtree(root, ignore_errors=True)


def _inspect(ref: str, host: str | None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env.pop("DOCKER_HOST", None)
    if host:
        env["DOCKER_HOST"] = host
    argv = ["docker", "image", "inspect", "--format", "{{.Id}}", ref]
    return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=60, check=False)


def test_daemon_args_follow_the_cli(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    docker = shutil.which("docker") or "docker"
    monkeypatch.setenv("DOCKER_HOST", "unix:///elsewhere/docker.sock")
    monkeypatch.delenv("DOCKER_TLS_VERIFY", raising=False)
    monkeypatch.delenv("DOCKER_CERT_PATH", raising=False)
    assert daemon_args(docker) == ["--dest-daemon-host", "unix:///elsewhere/docker.sock"]
    for name in ("ca.pem", "cert.pem", "key.pem"):  # the CLI opens them; skopeo reads them on use
        (tmp_path / name).touch()
    monkeypatch.setenv("DOCKER_HOST", "tcp://127.0.0.1:2376")
    monkeypatch.setenv("DOCKER_CERT_PATH", str(tmp_path))
    monkeypatch.setenv("DOCKER_TLS_VERIFY", "1")
    assert daemon_args(docker) == [
        "--dest-daemon-host",
        "tcp://127.0.0.1:2376",
        "--dest-cert-dir",
        str(tmp_path),
        "--dest-tls-verify=true",
    ]


@pytest.mark.parametrize("via", ["docker-daemon", "docker-archive"])
def test_image_lands_in_the_engine_docker_host_names(
    second_engine: str, via: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    layout = write_image(
        tmp_path / "image", files={"/hello": b"hello\n"}, platform=AMD64, entrypoint=["/hello"]
    )
    ref = f"pytest-rules-rust/docker-host-test:{uuid.uuid4().hex[:12]}"
    monkeypatch.setenv("DOCKER_HOST", second_engine)
    try:
        image = load_platform(layout.path, AMD64, ref, via=via)  # type: ignore[arg-type]
        assert _inspect(ref, second_engine).stdout.strip() == image.image_id
        assert _inspect(ref, None).returncode != 0, f"{ref} reached the default engine, not DOCKER_HOST's"
    finally:
        remove_image(ref)
        monkeypatch.delenv("DOCKER_HOST")
        remove_image(ref)  # from the default engine too, where the bug under test would put it


_CREATOR = """
import sys, time
from pytest_rules_rust.containers import detect_engine, labels
container = detect_engine().client.containers.create(sys.argv[1], labels=labels())
print(container.id, flush=True)
time.sleep(600)
"""


def test_reaper_works_on_the_engine_docker_host_names(second_engine: str, tmp_path: Path) -> None:
    """A SIGKILLed process's container on a DOCKER_HOST engine is removed there by its reaper."""

    layout = write_image(tmp_path / "image", files={"/x": b"x"}, platform=AMD64, entrypoint=["/x"])
    ref = f"pytest-rules-rust/docker-host-reaper:{uuid.uuid4().hex[:12]}"
    client = docker.DockerClient(base_url=second_engine)
    env = {"DOCKER_HOST": second_engine}
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DOCKER_HOST", second_engine)
        load_platform(layout.path, AMD64, ref, via="docker-archive")
    creator = start_python(_CREATOR, ref, env=env)
    try:
        assert creator.stdout is not None
        container_id = creator.stdout.readline().strip()
        assert container_id, creator.communicate()
        client.containers.get(container_id)  # on the DOCKER_HOST engine
    finally:
        creator.kill()
        creator.communicate()

    def gone() -> bool:
        return not client.containers.list(all=True, filters={"id": container_id})

    wait_for(gone, 10, "the reaper to remove the container on the DOCKER_HOST engine")
    client.images.remove(ref, force=True)
