"""Real Docker: load each platform of our layouts via skopeo, run them; read a docker-built image."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from pytest_rules_rust.containers.load import (
    docker_available,
    loaded,
    remove_image,
    run_command,
    run_published,
    wait_http,
)
from pytest_rules_rust.containers.oci_write import Layout, assemble_service_image
from pytest_rules_rust.inspect.oci import inspect_image
from pytest_rules_rust.platforms import ALL_PLATFORMS, AMD64, ARM64, Platform

_no_docker = docker_available()
_no_qemu = (
    None
    if Path("/proc/sys/fs/binfmt_misc/qemu-aarch64").exists()
    else (
        "qemu-aarch64 is not registered in binfmt_misc: run scripts/provision.sh (qemu-user-static, flag F)"
    )
)
pytestmark = [
    pytest.mark.container,
    pytest.mark.skipif(_no_docker is not None, reason=f"needs a Docker daemon: {_no_docker}"),
    pytest.mark.skipif(shutil.which("skopeo") is None, reason="needs skopeo: apt-get install skopeo"),
]
UNAME = {AMD64: "x86_64", ARM64: "aarch64"}


def _needs_emulation(platform: Platform) -> None:
    if platform == ARM64 and _no_qemu:
        pytest.skip(_no_qemu)


@pytest.fixture(scope="module")
def service_index(tmp_path_factory: pytest.TempPathFactory, responders: dict[Platform, Path]) -> Layout:
    out = tmp_path_factory.mktemp("service") / "image_index"
    return assemble_service_image(responders, out, ["/bin"], ["3232"])


@pytest.mark.parametrize("via", ["docker-archive", "docker-daemon"])
@pytest.mark.parametrize("platform", ALL_PLATFORMS, ids=str)
def test_service_answers_on_its_exposed_port(service_index: Layout, platform: Platform, via: str) -> None:
    _needs_emulation(platform)
    ref = f"pytest-rules-rust/oci-test:{service_index.short_tag}-{platform.arch}-{via}"
    with loaded(service_index.path, platform, ref, via=via) as image:  # type: ignore[arg-type]
        assert image.image_id == inspect_image(service_index.path).platform(platform.docker).config_digest
        with run_published(image, 3232) as container:
            answer = wait_http(container.url + "/", timeout_s=60)
    assert answer.status == 200
    assert answer.body.decode().splitlines()[:2] == [f"hello from {UNAME[platform]}", "GET / HTTP/1.1"]


def test_containers_are_labelled_and_removed(service_index: Layout) -> None:
    ref = f"pytest-rules-rust/oci-test:{service_index.short_tag}-labels"
    with loaded(service_index.path, AMD64, ref) as image, run_published(image, 3232) as container:
        labels = json.loads(
            subprocess.run(
                ["docker", "inspect", "--format", "{{json .Config.Labels}}", container.name],
                check=True,
                capture_output=True,
                text=True,
            ).stdout
        )
        ports = subprocess.run(
            ["docker", "port", container.name], check=True, capture_output=True, text=True
        ).stdout
    assert set(labels) >= {"pytest-rules-rust.session", "pytest-rules-rust.pid"}
    assert all(line.split(" -> ")[1].startswith("127.0.0.1:") for line in ports.splitlines())
    gone = subprocess.run(
        ["docker", "ps", "-a", "--filter", f"name={container.name}", "-q"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    assert gone.strip() == ""
    images = subprocess.run(
        ["docker", "images", "-q", ref], check=True, capture_output=True, text=True
    ).stdout
    assert images.strip() == ""


@pytest.mark.parametrize("platform", ALL_PLATFORMS, ids=str)
def test_run_command_without_a_shell(service_index: Layout, platform: Platform) -> None:
    _needs_emulation(platform)
    ref = f"pytest-rules-rust/oci-test:{service_index.short_tag}-cmd-{platform.arch}"
    with loaded(service_index.path, platform, ref) as image:
        ok = run_command(image, ["/bin", "--version"])
        bad = run_command(image, ["/bin", "--fail"])
    assert (ok.rc, ok.stdout) == (0, f"responder 1.0 on {UNAME[platform]}\n")
    assert (bad.rc, bad.stderr.strip()) == (3, "failing on purpose")


def test_reader_matches_skopeo_on_a_docker_built_scratch_image(
    tmp_path: Path, responders: dict[Platform, Path]
) -> None:
    """An image made by `docker build FROM scratch`, exported by skopeo: none of our writing code involved."""
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    shutil.copy(responders[AMD64], ctx / "responder")
    (ctx / "Dockerfile").write_text(
        "FROM scratch\nCOPY responder /usr/local/bin/responder\nCOPY Dockerfile /etc/recipe\n"
        'ENV GREETING=hi\nEXPOSE 8080 9090/udp\nUSER 1000\nWORKDIR /srv\nLABEL pytest-rules-rust.test="1"\n'
        'ENTRYPOINT ["/usr/local/bin/responder"]\nCMD ["8080"]\n'
    )
    ref = "pytest-rules-rust/oci-test:docker-built"
    try:
        subprocess.run(
            ["docker", "build", "-q", "--platform", "linux/amd64", "-t", ref, str(ctx)],
            check=True,
            capture_output=True,
            env={"DOCKER_BUILDKIT": "0", "PATH": "/usr/bin:/bin"},
        )
        subprocess.run(
            ["skopeo", "copy", "--quiet", f"docker-daemon:{ref}", f"oci:{tmp_path / 'layout'}:v1"],
            check=True,
            capture_output=True,
        )
    finally:
        remove_image(ref)
    info = inspect_image(tmp_path / "layout")
    (image,) = info.platforms
    skopeo = json.loads(
        subprocess.run(
            ["skopeo", "inspect", f"oci:{tmp_path / 'layout'}:v1"], check=True, capture_output=True, text=True
        ).stdout
    )
    config = json.loads(
        subprocess.run(
            ["skopeo", "inspect", "--config", f"oci:{tmp_path / 'layout'}:v1"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    )["config"]
    assert info.digest == skopeo["Digest"]
    assert [la.digest for la in image.layers] == skopeo["Layers"]
    assert image.architecture == skopeo["Architecture"] == "amd64"
    assert list(image.entrypoint) == config["Entrypoint"] == ["/usr/local/bin/responder"]
    assert list(image.cmd) == config["Cmd"] == ["8080"]
    assert list(image.exposed_ports) == sorted(config["ExposedPorts"]) == ["8080/tcp", "9090/udp"]
    assert (image.user, image.workdir) == (config["User"], config["WorkingDir"]) == ("1000", "/srv")
    assert image.env_map["GREETING"] == "hi" and list(image.env) == config["Env"]
    assert image.labels == config["Labels"] == {"pytest-rules-rust.test": "1"}
    files = image.filesystem()
    assert files["/usr/local/bin/responder"].size == responders[AMD64].stat().st_size
    assert files["/usr/local/bin/responder"].mode & 0o111
    assert info.read_file(image, "/etc/recipe") == (ctx / "Dockerfile").read_bytes()
