"""OCI fixtures: assemble rules_oci-style layouts, and a local registry for the session."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import pytest

from ..cache import Cache
from ..containers import Engine
from ..containers.oci_write import Layout, assemble_service_image
from ..containers.registry import Registry, ensure_registry_image, missing_registry_extra, running_registry
from ..platforms import Platform
from ..progress import terminal_progress
from .skips import skip_missing


class OciImageAssembler:
    """The ``oci_image_assembler`` factory: writes index layouts under one directory."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def __call__(
        self,
        binaries: Mapping[Platform, Path],
        entrypoint: Sequence[str] = ("/bin",),
        ports: Sequence[str | int] = ("3232",),
        name: str = "image_index",
        compress: bool = False,
        labels: Mapping[str, str] | None = None,
    ) -> Layout:
        """A scratch image per platform of ``binaries``, their index, its digest file and short tag."""
        return assemble_service_image(
            binaries, self.directory / name, entrypoint, ports, compress=compress, labels=labels
        )


@pytest.fixture
def oci_image_assembler(tmp_path: Path) -> OciImageAssembler:
    """Factory: ``assemble(binaries={Platform: Path}, entrypoint=["/bin"], ports=["3232"])`` → index Layout.

    Writes the document's rules_oci pipeline output under ``tmp_path``: a scratch image per
    platform, the nested image index, ``<name>.json.sha256`` and ``<name>_tag.txt``. Returns the
    index ``Layout`` (``.path``, ``.digest``, ``.short_tag``). Pass ``compress=True`` for gzip layers.
    """
    return OciImageAssembler(tmp_path)


@pytest.fixture(scope="session")
def local_registry(
    request: pytest.FixtureRequest,
    docker_engine: Engine,
    rules_rust_cache: Cache,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Registry]:
    """A registry (Debian's docker-registry in a locally built scratch image) for the whole session.

    Push to ``f"{local_registry.host_port}/repo:tag"`` (``.url`` is its HTTP base). The image is
    built once per machine in ``rules_rust_cache``; the registry is started through pytest-docker
    on ``docker_engine``, published on 127.0.0.1 only, labelled ``pytest-rules-rust.session``/``.pid``
    and removed with ``down -v`` at the end. Needs the ``registry`` extra
    (``pip install 'pytest-rules-rust[registry]'``): pytest-docker and a compose binary; skips
    saying so when it is missing.
    """
    del docker_engine  # requested for its skip when no daemon answers, and its sweep
    missing = missing_registry_extra()
    if missing:
        skip_missing(missing)
    image = ensure_registry_image(rules_rust_cache, progress=terminal_progress(request.config))
    with running_registry(image, tmp_path_factory.mktemp("registry")) as registry:
        yield registry
