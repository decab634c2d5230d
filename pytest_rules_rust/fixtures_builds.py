"""Fixture ``rules_rust_build``: build a workspace in a container once per session and hand back artifacts.

A thin wrapper over :func:`pytest_rules_rust.builders.build`, which works without pytest.
Settings used (``rules_rust_settings``): ``--rr-builder`` (the first one is the default builder),
``--rr-image-source`` / ``--rr-cargo-image`` / ``--rr-bazel-image``, ``--rr-build-timeout``,
``--rr-set`` and ``--rr-template-dir`` (through the workspace factory), ``--rr-bazel-arg``,
``--rr-online``; the cache is ``rules_rust_cache`` (``--rr-cache-dir``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from . import matrix_recorder
from .builders import build
from .builders.base import BuildRequest, BuildResult, Profile
from .cache import Cache
from .containers import Engine
from .errors import BazelUnavailable, RulesRustError
from .platforms import AMD64, Libc, Platform
from .progress import terminal_progress
from .settings import Settings
from .workspaces import Workspace, WorkspaceFactory

RulesRustBuild = Callable[..., BuildResult]


def _plat(value: Platform | str) -> Platform:
    return value if isinstance(value, Platform) else Platform.parse(value)


@pytest.fixture(scope="session")
def rules_rust_build(
    request: pytest.FixtureRequest,
    docker_engine: Engine,
    rules_rust_settings: Settings,
    rules_rust_cache: Cache,
    tmp_path_factory: pytest.TempPathFactory,
) -> RulesRustBuild:
    """Factory: build a workspace for a platform in a container and return its ``BuildResult``.

    ``rules_rust_build(workspace, platform="linux/amd64", libc="gnu", *, profile="debug",
    builder=None, host="linux/amd64", targets=(), timeout_s=None, **params) -> BuildResult``

    * ``workspace``: a template name (``"cross"``, ``"musl_jemalloc_oci"``, ...), a path to a
      workspace directory, or a :class:`~pytest_rules_rust.workspaces.Workspace` you materialised
      (e.g. with ``rules_rust_workspace``). ``**params`` are workspace parameters
      (``rust_edition="2018"``) applied when the factory materialises the workspace itself.
    * ``platform``: the target, ``linux/amd64`` or ``linux/arm64``; ``libc``: ``gnu`` or ``musl``
      (static musl builds Rust's std from source: the first one takes 1-2.5 min, then it is cached).
    * ``host``: ``linux/amd64`` cross-compiles (fast, the default); ``linux/arm64`` builds natively
      in the arm64 image under qemu (about 13x slower; needs qemu-aarch64 in binfmt_misc).
    * ``builder``: ``cargo`` or ``bazel``; default: the first ``--rr-builder``.
    * ``profile``: ``debug`` or ``release`` (release mirrors the workspace's Bazel opt flags).

    The result is cached for the session by workspace (and parameters), platform, libc, profile,
    host and builder: asking twice builds once. ``result.artifacts`` lists every output with its
    kind (``binary``, ``oci-layout``, ...), target name and absolute path; ``result.artifact("name")``
    picks one; ``result.log`` is the build log. A failed build raises ``BuildError`` naming the log
    and the kept workspace; a workspace whose preflight finds errors raises ``PreflightError``.
    Skips when no Docker daemon answers (through ``docker_engine``).

    Example::

        def test_cross(rules_rust_build):
            result = rules_rust_build("cross", platform="linux/arm64")
            assert_binary(result.artifact("hello_cross").path, machine="aarch64")
    """
    del docker_engine  # requested for its skip-with-the-fix when no daemon answers
    settings = rules_rust_settings
    factory = WorkspaceFactory.from_settings(settings, tmp_path_factory.mktemp)
    memo: dict[str, BuildResult] = {}
    progress = terminal_progress(request.config)

    def build_it(
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
        chosen = builder or settings.builders[0]
        target, build_host = _plat(platform), _plat(host)
        ident = workspace.root if isinstance(workspace, Workspace) else workspace
        key = json.dumps(
            [str(ident), params, target.docker, libc, profile, chosen, build_host.docker, list(targets)],
            sort_keys=True,
            default=str,
        )
        if key in memo:
            matrix_recorder.record_build(memo[key])
            return memo[key]
        ws = workspace if isinstance(workspace, Workspace) else factory(workspace, **params)
        label = re.sub(r"[^A-Za-z0-9_.-]", "_", f"build-{ws.name}-{target.slug}-{libc}-{profile}")
        options: dict[str, Any] = {"progress": progress} if chosen == "cargo" else {}
        if chosen == "cargo":
            options.update(image=settings.cargo_image, image_source=settings.image_source)
        elif chosen == "bazel":
            options.update(image=settings.bazel_image, online=settings.online)
        breq = BuildRequest(
            workspace=ws,
            target=target,
            libc=libc,
            host=build_host,
            profile=profile,
            targets=tuple(targets),
            timeout_s=timeout_s or settings.build_timeout_s,
            extra_args=settings.bazel_args if chosen == "bazel" else (),
        )
        try:
            result = build(
                breq, tmp_path_factory.mktemp(label), builder=chosen, cache=rules_rust_cache, **options
            )
        except BazelUnavailable as exc:
            reason = exc.message.split(";")[0]
            matrix_recorder.record(matrix_recorder.entry_for(breq, chosen, status="skipped", reason=reason))
            pytest.skip(exc.message)
        except RulesRustError as exc:
            log = exc.paths.get("log")
            matrix_recorder.record(
                matrix_recorder.entry_for(
                    breq,
                    chosen,
                    status="failed",
                    reason=exc.message.splitlines()[0],
                    log=str(log) if log else None,
                )
            )
            raise
        matrix_recorder.record_build(result)
        memo[key] = result
        return result

    return build_it
