"""Builders behind one interface: ``build(request, out_dir) -> BuildResult``.

``get_builder(name)`` resolves ``cargo`` or ``bazel`` lazily (an unknown name is an error listing
the choices); :func:`build` runs preflight first, then the builder, and remembers each result for
the rest of the process, keyed by workspace content, parameters, platform, libc, profile and builder.

>>> sorted(BUILDERS)
['bazel', 'cargo']
"""

from __future__ import annotations

import hashlib
import importlib
import json
import shutil
import threading
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..cache import Cache
from ..errors import BuildError, UsageError
from ..settings import Settings
from .base import Artifact, Builder, BuildRequest, BuildResult

if TYPE_CHECKING:
    from ..workspaces import Workspace

#: name -> (module, class). Modules are imported on first use, so a missing one only hurts its users.
BUILDERS: dict[str, tuple[str, str]] = {
    "cargo": ("pytest_rules_rust.builders.cargo", "CargoBuilder"),
    "bazel": ("pytest_rules_rust.builders.bazel", "BazelBuilder"),
}

_results: dict[str, BuildResult] = {}
_preflighted: set[str] = set()
_lock = threading.Lock()


def get_builder(name: str, cache: Cache | None = None, **options: Any) -> Builder:
    """The builder called ``name`` (``cargo`` or ``bazel``), constructed with ``cache`` and ``options``."""
    if name not in BUILDERS:
        raise UsageError(f"unknown builder {name!r}", hint=f"choose one of: {', '.join(sorted(BUILDERS))}")
    module_name, class_name = BUILDERS[name]
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise UsageError(
            f"the {name} builder is not available: {exc}",
            hint=f"use another builder ({', '.join(n for n in sorted(BUILDERS) if n != name)})",
        ) from exc
    factory = getattr(module, class_name)
    builder: Builder = factory(cache, **options)
    return builder


def options_from_settings(settings: Settings, builder: str, **extra: Any) -> dict[str, Any]:
    """The constructor options of ``builder`` that the run's settings decide, plus ``extra``.

    The pytest fixture, the ``build`` command and the main job all build their options here.
    """
    decided: dict[str, Any] = {}
    if builder == "cargo":
        decided = {"image": settings.cargo_image, "image_source": settings.image_source}
    elif builder == "bazel":
        decided = {
            "image": settings.bazel_image,
            "image_source": settings.image_source,
            "online": settings.online,
            "bazel_binary": settings.bazel_binary,
            "default_version": next(iter(settings.bazel_versions), None),
        }
    return {**decided, **extra}


def preflight(workspace: Workspace) -> None:
    """Run the static preflight on ``workspace``; error findings stop the build before it starts.

    The error names the directory the workspace was copied from too, when that is a user's own.
    """
    from ..preflight import preflight_workspace, require_clean
    from ..workspaces import user_source

    report = preflight_workspace(workspace.root)
    require_clean(report, "the build was not started", source=user_source(workspace))


def request_key(request: BuildRequest, builder: str) -> str:
    """The session-cache key: workspace content and parameters, platform, libc, host, profile, builder."""
    from .cargo import content_hash

    ws = request.workspace
    body = {
        "builder": builder,
        "workspace": ws.name,
        "content": content_hash(ws.root),
        "params": {k: ws.params[k] for k in sorted(ws.params)},
        "target": request.target.docker,
        "libc": request.libc,
        "host": request.host.docker,
        "profile": request.profile,
        "targets": list(request.targets),
        "extra": list(request.extra_args),
    }
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()


def _copy_into(result: BuildResult, out_dir: Path) -> BuildResult:
    """The cached ``result`` with its artifacts and log copied into ``out_dir`` (unless already there)."""
    out_dir = out_dir.resolve()
    if result.log.parent == out_dir and all(a.path.parent == out_dir for a in result.artifacts):
        return replace(result, cached=True)
    out_dir.mkdir(parents=True, exist_ok=True)
    artifacts = []
    for artifact in result.artifacts:
        dest = out_dir / artifact.path.name
        if artifact.path.is_dir():
            shutil.copytree(artifact.path, dest, dirs_exist_ok=True)
        else:
            shutil.copy2(artifact.path, dest)
        artifacts.append(Artifact(dest, artifact.kind, artifact.target, artifact.platform))
    log = out_dir / result.log.name
    if result.log.is_file():
        shutil.copy2(result.log, log)
    return replace(result, artifacts=tuple(artifacts), log=log, cached=True)


def build(
    request: BuildRequest,
    out_dir: Path,
    *,
    builder: str = "cargo",
    cache: Cache | None = None,
    **options: Any,
) -> BuildResult:
    """Preflight ``request.workspace``, then build it with ``builder``; artifacts land in ``out_dir``.

    A second call with the same key in this process returns the first result (``cached=True``),
    its artifacts copied into ``out_dir`` when that differs. Raises :class:`PreflightError` when
    preflight reports errors, :class:`BuildError` when the build fails or overruns.
    """
    key = request_key(request, builder)
    with _lock:
        hit = _results.get(key)
    if hit is not None and all(a.path.exists() for a in hit.artifacts):
        return _copy_into(hit, out_dir)
    root = request.workspace.root
    if str(root) not in _preflighted:
        preflight(request.workspace)
        _preflighted.add(str(root))
    try:
        result = get_builder(builder, cache, **options).build(request, Path(out_dir))
    except BuildError as exc:  # the kept copy is named by the builder; the user's source is named here
        from ..workspaces import user_source

        source = user_source(request.workspace)
        if source is not None:
            exc.paths.setdefault("source", source)
        raise
    with _lock:
        _results[key] = result
    return result


def clear_session_cache() -> None:
    """Forget every remembered result (tests use it to force a rebuild through the caches)."""
    with _lock:
        _results.clear()
        _preflighted.clear()


__all__ = [
    "BUILDERS",
    "Artifact",
    "BuildRequest",
    "BuildResult",
    "build",
    "clear_session_cache",
    "get_builder",
    "options_from_settings",
]
