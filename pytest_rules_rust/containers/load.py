"""Load one platform of an OCI layout into Docker and run it, always cleaning up.

dockerd 20.10 cannot ``docker load`` an OCI layout, so skopeo converts: ``oci:DIR`` →
``docker-archive:x.tar:ref`` (then ``docker load``, the format rules_oci's ``oci_load`` uses) or
straight to ``docker-daemon:ref``. Containers publish ports on 127.0.0.1 only, carry the owner
labels of :mod:`pytest_rules_rust.containers.ownership` (one definition for the whole package) and are
removed in ``finally``, or by the process's reaper if it is killed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from ..errors import EngineError, InspectError
from ..platforms import Platform
from .reaper import watched_labels

DOCTOR = "`pytest-rules-rust doctor` lists what is missing"
LoadVia = Literal["docker-archive", "docker-daemon"]


def session_labels() -> dict[str, str]:
    """The labels every container this module starts carries: the owner labels of
    :mod:`pytest_rules_rust.containers.ownership`, with this process's reaper watching over them."""
    return watched_labels()


def _tool(name: str, fix: str) -> str:
    found = shutil.which(name)
    if not found:
        raise EngineError(f"{name} is not on PATH", hint=fix)
    return found


def _run(argv: Sequence[str], what: str, timeout_s: float = 300.0) -> subprocess.CompletedProcess[str]:
    try:
        done = subprocess.run(list(argv), capture_output=True, text=True, timeout=timeout_s, check=False)
    except subprocess.TimeoutExpired as exc:
        raise EngineError(f"{what} timed out after {timeout_s:.0f}s: {' '.join(argv)}") from exc
    if done.returncode != 0:
        detail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        raise EngineError(f"{what} failed (exit {done.returncode}): {' '.join(argv)}: {' | '.join(detail)}")
    return done


def docker_available() -> str | None:
    """None when a Docker daemon answers, else the reason (for skip messages)."""
    if not shutil.which("docker"):
        return f"the docker CLI is not installed ({DOCTOR})"
    try:
        done = subprocess.run(
            ["docker", "version", "--format", "{{.Server.Version}}"],
            capture_output=True,
            text=True,
            timeout=20,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return "the Docker daemon did not answer within 20 s: start dockerd"
    return None if done.returncode == 0 else f"no Docker daemon answers: start dockerd ({DOCTOR})"


def daemon_args(docker: str) -> list[str]:
    """skopeo's options for the daemon the docker CLI talks to.

    skopeo's ``docker-daemon:`` transport knows neither Docker contexts nor ``DOCKER_HOST``: left
    alone it writes to /var/run/docker.sock while ``docker`` reads another engine. The CLI says
    which endpoint it uses (``DOCKER_HOST`` first, then the current context); TLS settings follow
    ``DOCKER_CERT_PATH``/``DOCKER_TLS_VERIFY`` as the CLI's do.
    """
    host = _run(
        [docker, "context", "inspect", "--format", "{{.Endpoints.docker.Host}}"], "docker context inspect"
    ).stdout.strip()
    args = ["--dest-daemon-host", host] if host else []
    if os.environ.get("DOCKER_CERT_PATH"):
        args += ["--dest-cert-dir", os.environ["DOCKER_CERT_PATH"]]
    if os.environ.get("DOCKER_TLS_VERIFY"):
        args += ["--dest-tls-verify=true"]
    return args


@dataclass(frozen=True)
class LoadedImage:
    """One platform of a layout, present in the Docker daemon under ``ref``."""

    ref: str
    platform: Platform
    image_id: str  # the config digest


def load_platform(
    layout: Path, platform: Platform, ref: str, *, via: LoadVia = "docker-archive"
) -> LoadedImage:
    """Copy ``platform``'s image from an OCI layout into Docker as ``ref`` (no registry involved)."""
    skopeo = _tool("skopeo", "apt-get install skopeo")
    docker = _tool("docker", "apt-get install docker.io")
    arch_args = ["--override-os", platform.os, "--override-arch", platform.arch]
    if via == "docker-daemon":
        dest = [*arch_args, *daemon_args(docker), f"oci:{layout}", f"docker-daemon:{ref}"]
        _run([skopeo, "copy", "--quiet", *dest], "skopeo copy")
    else:
        with tempfile.TemporaryDirectory(prefix="rr-load-") as tmp:
            archive = Path(tmp) / "image.tar"
            _run(
                [skopeo, "copy", "--quiet", *arch_args, f"oci:{layout}", f"docker-archive:{archive}:{ref}"],
                "skopeo copy",
            )
            _run([docker, "load", "--quiet", "--input", str(archive)], "docker load")
    image_id = _run(
        [docker, "image", "inspect", "--format", "{{.Id}}", ref], "docker image inspect"
    ).stdout.strip()
    arch = _run([docker, "image", "inspect", "--format", "{{.Architecture}}", ref], "docker image inspect")
    if arch.stdout.strip() != platform.arch:
        raise InspectError(f"{layout}: loaded {ref} for {platform} but Docker reports {arch.stdout.strip()}")
    return LoadedImage(ref, platform, image_id)


def remove_image(ref: str) -> None:
    subprocess.run(["docker", "image", "rm", "--force", ref], capture_output=True, check=False, timeout=60)


@contextmanager
def loaded(
    layout: Path, platform: Platform, ref: str, *, via: LoadVia = "docker-archive"
) -> Iterator[LoadedImage]:
    """``load_platform`` for the duration of a ``with`` block; the tag is removed afterwards."""
    try:
        yield load_platform(layout, platform, ref, via=via)
    finally:
        remove_image(ref)


@dataclass(frozen=True)
class RunningContainer:
    container_id: str
    name: str
    host: str
    port: int  # host port published for the container port

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"


def _docker_run_argv(image: LoadedImage, name: str, extra: Sequence[str]) -> list[str]:
    labels = [arg for k, v in session_labels().items() for arg in ("--label", f"{k}={v}")]
    return ["docker", "run", "--name", name, "--platform", image.platform.docker, *labels, *extra]


def remove_container(name: str) -> None:
    subprocess.run(
        ["docker", "rm", "--force", "--volumes", name], capture_output=True, check=False, timeout=60
    )


@contextmanager
def run_published(image: LoadedImage, port: int, args: Sequence[str] = ()) -> Iterator[RunningContainer]:
    """Run ``image`` detached with container ``port`` published on 127.0.0.1 (random host port)."""
    name = f"rr-oci-{uuid.uuid4().hex[:12]}"
    try:
        started = _run(
            [*_docker_run_argv(image, name, ["-d", "-p", f"127.0.0.1::{port}"]), image.ref, *args],
            "docker run",
        )
        mapping = _run(["docker", "port", name, f"{port}/tcp"], "docker port").stdout.strip().splitlines()
        host_port = int(next(m for m in mapping if m.startswith("127.0.0.1:")).rsplit(":", 1)[1])
        yield RunningContainer(started.stdout.strip(), name, "127.0.0.1", host_port)
    finally:
        remove_container(name)


@dataclass(frozen=True)
class CommandOutput:
    rc: int
    stdout: str
    stderr: str
    timed_out: bool = False


def run_command(
    image: LoadedImage, command: Sequence[str], env: Mapping[str, str] | None = None, timeout_s: float = 120.0
) -> CommandOutput:
    """Run ``command`` (its first word replaces the entrypoint: scratch images have no shell)."""
    if not command:
        raise InspectError("an empty command cannot be run in a container")
    name = f"rr-cmd-{uuid.uuid4().hex[:12]}"
    env_args = [arg for k, v in (env or {}).items() for arg in ("--env", f"{k}={v}")]
    argv = [
        *_docker_run_argv(image, name, ["--network", "none", "--entrypoint", command[0], *env_args]),
        image.ref,
        *command[1:],
    ]
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout_s, check=False)
        return CommandOutput(done.returncode, done.stdout, done.stderr)
    except subprocess.TimeoutExpired as exc:
        return CommandOutput(-1, str(exc.stdout or ""), str(exc.stderr or ""), timed_out=True)
    finally:
        remove_container(name)


@dataclass(frozen=True)
class HttpAnswer:
    status: int
    body: bytes


def wait_http(url: str, timeout_s: float = 60.0, interval_s: float = 0.3) -> HttpAnswer:
    """GET ``url`` until it answers (any HTTP status) or ``timeout_s`` passes."""
    deadline = time.monotonic() + timeout_s
    last = ""
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return HttpAnswer(response.status, response.read())
        except urllib.error.HTTPError as exc:
            return HttpAnswer(exc.code, exc.read())
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError) as exc:
            last = str(exc)
        if time.monotonic() > deadline:
            raise InspectError(f"{url} did not answer within {timeout_s:.0f}s (last error: {last})")
        time.sleep(interval_s)
