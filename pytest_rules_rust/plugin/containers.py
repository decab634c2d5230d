"""Fixtures for the container layer: the engine, builder images, a runner and qemu emulation.

Thin wrappers over :mod:`pytest_rules_rust.containers`, :mod:`~pytest_rules_rust.containers.images` and
:mod:`~pytest_rules_rust.containers.emulation`; everything they do also works without pytest.
Settings used (``rules_rust_settings``): ``--rr-image-source`` (local|public), ``--rr-cargo-image``,
``--rr-bazel-image``; the cache is ``rules_rust_cache`` (``--rr-cache-dir``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

import pytest

from ..cache import Cache
from ..containers import ContainerRunner, Engine, detect_engine, sweep_leftovers
from ..containers.bazel_image import bazel_image, ensure_bazel_image
from ..containers.emulation import EmulationStatus, emulation_status
from ..containers.images import BuilderKind, builder_image_ref, ensure_builder_image, require_image
from ..errors import EngineError, UsageError, shown
from ..platforms import Platform
from ..progress import terminal_progress
from ..settings import Settings
from ..signals import sigterm_as_interrupt
from .skips import skip_missing


class BuilderImage(Protocol):
    """The call signature of the ``builder_image`` fixture."""

    def __call__(self, platform: Platform | str = "linux/amd64", builder: str = "cargo") -> str: ...


@pytest.fixture(scope="session")
def docker_engine() -> Iterator[Engine]:
    """The Docker engine (``DOCKER_HOST`` / current docker context), detected once per session.

    Every fixture that builds or runs containers uses this engine. On first use (and at the
    session's end) it removes containers, networks and volumes whose owner process on this
    machine is provably gone (see :mod:`pytest_rules_rust.containers.ownership`; another machine's and
    unlabelled ones are left alone), and from then until the session ends SIGTERM unwinds like
    Ctrl-C so that every container is removed. Skips the test that asked, naming the fix, when no
    daemon answers. Override this fixture to hand the harness another engine
    (``pytest_rules_rust.containers.detect_engine`` builds one).
    """
    try:
        engine = detect_engine()
    except EngineError as exc:
        skip_missing(f"needs a Docker daemon: {exc.message}; {exc.hint}")
    sweep_leftovers(engine)
    with sigterm_as_interrupt():
        yield engine
    sweep_leftovers(engine)


@pytest.fixture(scope="session")
def builder_image(
    request: pytest.FixtureRequest,
    docker_engine: Engine,
    rules_rust_settings: Settings,
    rules_rust_cache: Cache,
) -> BuilderImage:
    """Factory: ``builder_image("linux/arm64", builder="cargo") -> image reference``.

    ``rules_rust_build`` and ``container_runner`` take their images from here, so overriding this
    fixture changes the image of every build. With ``--rr-image-source=local`` (the default,
    offline) the Debian builder image for the platform is built once per machine (minutes the
    first time; parallel workers wait on a file lock) and its tag returned; for
    ``builder="bazel"`` that image plus Bazelisk. With ``public`` the public multi-arch reference
    must already be present (offline mode never pulls).
    ``--rr-cargo-image`` / ``--rr-bazel-image`` force a reference.
    """
    settings = rules_rust_settings
    progress = terminal_progress(request.config)

    def factory(platform: Platform | str = "linux/amd64", builder: str = "cargo") -> str:
        plat = platform if isinstance(platform, Platform) else Platform.parse(platform)
        if builder not in ("cargo", "bazel"):
            raise UsageError(f"builder_image: unknown builder {shown(builder)}", hint="use cargo or bazel")
        kind: BuilderKind = "cargo" if builder == "cargo" else "bazel"
        forced = settings.cargo_image if builder == "cargo" else settings.bazel_image
        if forced:
            return require_image(forced, plat, engine=docker_engine)
        if settings.image_source == "public":
            return require_image(builder_image_ref(plat, "public", kind), plat, engine=docker_engine)
        if builder == "bazel":  # the builder image plus Bazelisk, a thin layer
            image = bazel_image(plat)
            return ensure_bazel_image(image, rules_rust_cache, engine=docker_engine, progress=progress)
        return ensure_builder_image(plat, rules_rust_cache, engine=docker_engine, progress=progress)

    return factory


@pytest.fixture
def container_runner(
    docker_engine: Engine, builder_image: BuilderImage, tmp_path_factory: pytest.TempPathFactory
) -> ContainerRunner:
    """A runner: ``container_runner.run(["uname", "-m"], platform="linux/arm64") -> ExecResult``.

    Runs in ``builder_image(platform)`` unless ``image=`` is given, on ``docker_engine``; no network
    unless ``network=True``; as the calling uid:gid; one log file per run (``result.log``); the
    container is removed whatever happens.
    """
    return ContainerRunner(docker_engine, tmp_path_factory.mktemp("container-logs"), builder_image)


@pytest.fixture(scope="session")
def arm64_emulation() -> EmulationStatus:
    """The working qemu-aarch64 binfmt entry; skips with the exact root commands when it is missing."""
    status = emulation_status("aarch64")
    if not status.ok:
        skip_missing(
            f"needs qemu-aarch64 in binfmt_misc with the F flag ({status.detail}); as root: {status.fix}"
        )
    return status
