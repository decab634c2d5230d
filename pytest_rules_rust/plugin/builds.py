"""Fixture ``rules_rust_build``: build a workspace in a container and hand back its artifacts.

A thin wrapper over :func:`pytest_rules_rust.builders.build`, which works without pytest and keeps
the one build cache (a second identical build in the session returns the first result). Built from
the leaf fixtures: the workspace comes from ``rules_rust_workspace_factory``, images from
``builder_image``, containers run on ``docker_engine``, caches live in ``rules_rust_cache`` and the
options in ``rules_rust_settings`` (``--rr-builder``, ``--rr-build-timeout``, ``--rr-bazel-arg``,
``--rr-online``, ``--rr-bazel-image``, ``--rr-bazel-binary``, ``--rr-bazel-version``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ..builders import build, options_from_settings
from ..builders.base import BuildRequest, BuildResult, Profile
from ..cache import Cache
from ..containers import Engine
from ..errors import BazelUnavailable, RulesRustError
from ..platforms import AMD64, Libc, Platform
from ..progress import Progress, terminal_progress
from ..settings import Settings
from ..workspaces import Workspace, WorkspaceFactory
from . import recorder
from .containers import BuilderImage
from .skips import skip_missing


def _platform(value: Platform | str) -> Platform:
    return value if isinstance(value, Platform) else Platform.parse(value)


class RulesRustBuild:
    """The ``rules_rust_build`` factory: builds with the session's engine, images, workspaces and cache.

    Annotate with it: ``def test_x(rules_rust_build: RulesRustBuild) -> None``.
    """

    def __init__(
        self,
        settings: Settings,
        cache: Cache,
        engine: Engine,
        images: BuilderImage,
        workspaces: WorkspaceFactory,
        mktemp: Callable[[str], Path],
        progress: Progress,
    ) -> None:
        self.settings, self.cache, self.engine, self.images = settings, cache, engine, images
        self.workspaces, self.mktemp, self.progress = workspaces, mktemp, progress

    def __call__(
        self,
        workspace: str | Path | Workspace,
        platform: Platform | str = AMD64,
        libc: Libc = "gnu",
        *,
        profile: Profile = "debug",
        builder: str | None = None,
        host: Platform | str = AMD64,
        targets: tuple[str, ...] = (),
        timeout_s: float | None = None,
        **params: Any,
    ) -> BuildResult:
        """Build ``workspace`` for ``platform`` (see the ``rules_rust_build`` fixture)."""
        settings = self.settings
        chosen = builder or settings.builders[0]
        ws = workspace if isinstance(workspace, Workspace) else self.workspaces(workspace, **params)
        target = _platform(platform)
        breq = BuildRequest(
            workspace=ws,
            target=target,
            libc=libc,
            host=_platform(host),
            profile=profile,
            targets=tuple(targets),
            timeout_s=timeout_s or settings.build_timeout_s,
            extra_args=settings.bazel_args if chosen == "bazel" else (),
        )
        extra: dict[str, Any] = {"progress": self.progress}
        if chosen == "cargo":
            extra.update(engine=self.engine, images=self.images)
        elif chosen == "bazel":
            extra.update(images=lambda plat: self.images(plat, "bazel"))
        options = options_from_settings(settings, chosen, **extra)
        label = re.sub(r"[^A-Za-z0-9_.-]", "_", f"build-{ws.name}-{target.slug}-{libc}-{profile}")
        try:
            result = build(breq, self.mktemp(label), builder=chosen, cache=self.cache, **options)
        except BazelUnavailable as exc:
            recorder.record_failure(breq, chosen, exc, skipped=True)
            skip_missing(exc.message)
        except RulesRustError as exc:
            recorder.record_failure(breq, chosen, exc)
            raise
        recorder.record_build(result)
        return result


@pytest.fixture(scope="session")
def rules_rust_build(
    request: pytest.FixtureRequest,
    docker_engine: Engine,
    builder_image: BuilderImage,
    rules_rust_settings: Settings,
    rules_rust_cache: Cache,
    rules_rust_workspace_factory: WorkspaceFactory,
    tmp_path_factory: pytest.TempPathFactory,
) -> RulesRustBuild:
    """Factory: build a workspace for a platform in a container and return its ``BuildResult``.

    ``rules_rust_build(workspace, platform="linux/amd64", libc="gnu", *, profile="debug",
    builder=None, host="linux/amd64", targets=(), timeout_s=None, **params) -> BuildResult``

    * ``workspace``: a template name (``"cross"``, ``"musl_jemalloc_oci"``, ...), a path to a
      workspace directory, or a ``Workspace`` you materialised (e.g. with ``rules_rust_workspace``).
      Names and paths go through ``rules_rust_workspace_factory`` with ``**params``
      (``rust_edition="2018"``).
    * ``platform``: the target, ``linux/amd64`` or ``linux/arm64``; ``libc``: ``gnu`` or ``musl``
      (static musl builds Rust's std from source: the first one takes minutes, then it is cached).
    * ``host``: ``linux/amd64`` cross-compiles (fast, the default); ``linux/arm64`` builds natively
      in the arm64 image under qemu (about 10x slower; needs qemu-aarch64 in binfmt_misc).
    * ``builder``: ``cargo`` or ``bazel``; default: the first ``--rr-builder``.
    * ``profile``: ``debug`` or ``release`` (release mirrors the workspace's Bazel opt flags).

    The same workspace content, parameters, platform, libc, profile, host and builder build once
    per session. ``result.artifacts`` lists every output with its kind (``binary``,
    ``oci-layout``, ...), target name and absolute path; ``result.artifact("name")`` picks one;
    ``result.log`` is the build log. A failed build raises ``BuildError`` naming the log and the kept
    workspace; a workspace whose preflight finds errors raises ``PreflightError``. Skips when no
    Docker daemon answers (through ``docker_engine``) or the chosen builder's tool is missing.

    Example::

        from pytest_rules_rust import assert_binary

        def test_cross(rules_rust_build):
            result = rules_rust_build("cross", platform="linux/arm64")
            assert_binary(result.artifact("hello_cross").path, arch="aarch64")
    """
    return RulesRustBuild(
        rules_rust_settings,
        rules_rust_cache,
        docker_engine,
        builder_image,
        rules_rust_workspace_factory,
        tmp_path_factory.mktemp,
        terminal_progress(request.config),
    )
