"""Where API models come from: the ones shipped with the package, or the user's fetched module.

Shipped models live in ``data/api_models/<module>/<version>.json.gz`` (written by the extractor,
see ``__main__.py``). For a version without one, a module Bazel already fetched is read instead:
the output base's ``external/`` directory (found through the workspace's ``bazel-<name>``
convenience link, ``$PYTEST_RULES_RUST_BAZEL_OUTPUT_BASE`` or ``~/.cache/bazel``) or the archives
in Bazel's repository cache. Models read that way are kept in the cache directory, so the
(tens of milliseconds) extraction runs once per version. Everything is loaded lazily: the
cache directory (with its file lock) is imported when a version has no shipped model, the archive
reader when a repository cache holds archives, the extractor only when there is a fetched tree
or archive of the wanted version to read; a preflight run does not pay for what it does not use.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from .schema import FORMAT, ApiModel

SHIPPED = Path(__file__).resolve().parents[2] / "data" / "api_models"
OUTPUT_BASE_ENV = "PYTEST_RULES_RUST_BAZEL_OUTPUT_BASE"
_MAX_ARCHIVE = 64 * 1024 * 1024
_STARLARK = re.compile(r"(^|/)(MODULE\.bazel|BUILD(\.bazel)?|[^/]+\.bzl)$")


@dataclass(frozen=True)
class Resolved:
    """The model for a pinned module version, or why there is none; ``origin`` says where it came from."""

    module: str
    version: str
    model: ApiModel | None
    origin: str  # "shipped", "fetched <path>", or ""


def _key(version: str) -> tuple[int, ...]:
    return tuple(int(p) if p.isdigit() else 0 for p in re.split(r"[.\-]", version))


def shipped_versions(module: str) -> list[str]:
    """Versions of ``module`` with a shipped model, oldest first."""
    folder = SHIPPED / module
    if not folder.is_dir():
        return []
    return sorted((p.name.removesuffix(".json.gz") for p in folder.glob("*.json.gz")), key=_key)


def shipped_modules() -> list[str]:
    """Modules with at least one shipped model."""
    return sorted(p.name for p in SHIPPED.iterdir() if p.is_dir()) if SHIPPED.is_dir() else []


def read_model(path: Path) -> ApiModel | None:
    """A model file (``.json.gz`` or ``.json``); None when it is unreadable or of another format."""
    try:
        raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
        data = json.loads(raw)
    except (OSError, ValueError, EOFError):
        return None
    if data.get("format") != FORMAT:
        return None
    return ApiModel.from_json(data)


def write_model(model: ApiModel, path: Path) -> Path:
    """Store ``model`` as compact gzipped JSON (mtime 0, so the bytes depend only on the model)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    raw = json.dumps(model.to_json(), separators=(",", ":"), sort_keys=True).encode()
    path.write_bytes(gzip.compress(raw, mtime=0))
    return path


@cache
def shipped(module: str, version: str) -> ApiModel | None:
    """The shipped model of ``module`` at ``version`` (None when there is none)."""
    path = SHIPPED / module / f"{version}.json.gz"
    return read_model(path) if path.is_file() else None


def output_bases(workspace: Path | None) -> Iterator[Path]:
    """Bazel output bases worth looking in: the workspace's own first."""
    if workspace is not None:
        for link in sorted(workspace.glob("bazel-*")):
            if link.is_symlink() and link.name not in ("bazel-bin", "bazel-out", "bazel-testlogs"):
                execroot = link.resolve()
                if execroot.parent.name == "execroot":
                    yield execroot.parent.parent
    env = os.environ.get(OUTPUT_BASE_ENV)
    if env:
        yield Path(env).expanduser()
    root = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "bazel"
    if root.is_dir():
        yield from sorted(root.glob("_bazel_*/*[0-9a-f]"))


def fetched_trees(module: str, workspace: Path | None) -> Iterator[Path]:
    """Directories in output bases' ``external/`` that hold ``module`` (any canonical-name style)."""
    pattern = re.compile(rf"^{re.escape(module)}(?:[~+].*)?$")
    for base in output_bases(workspace):
        ext = base / "external"
        if not ext.is_dir():
            continue
        for child in sorted(ext.iterdir()):
            if pattern.match(child.name) and (child / "MODULE.bazel").is_file():
                yield child


def repository_caches() -> Iterator[Path]:
    """Bazel repository caches' content-addressed stores."""
    root = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "bazel"
    for store in sorted(root.glob("_bazel_*/cache/repos/v1/content_addressable/sha256")):
        yield store
    for store in sorted(root.glob("_bazel_*/cache/repos/v1/sha256")):
        yield store


def module_identity(root: Path) -> tuple[str, str]:
    """``module(name, version)`` of the tree's MODULE.bazel ('' when absent)."""
    path = root / "MODULE.bazel"
    if not path.is_file():
        return "", ""
    src = path.read_text(encoding="utf-8", errors="replace")
    call = re.search(r"\bmodule\((.*?)\)", src, re.S)
    body = call.group(1) if call else ""
    name = re.search(r"\bname\s*=\s*\"([^\"]+)\"", body)
    version = re.search(r"\bversion\s*=\s*\"([^\"]+)\"", body)
    return (name.group(1) if name else "", version.group(1) if version else "")


def _archive_identity(path: Path) -> tuple[str, str, str]:
    """(module, version, prefix) of a module source archive, or empties when it is not one."""
    import tarfile  # lazy, see the module docstring

    try:
        with tarfile.open(path) as tar:
            for index, member in enumerate(tar):
                if index > 200:
                    break  # a module archive has MODULE.bazel near the top
                parts = member.name.split("/")
                if member.isfile() and parts[-1] == "MODULE.bazel" and len(parts) <= 2:
                    handle = tar.extractfile(member)
                    text = handle.read(65536).decode("utf-8", "replace") if handle else ""
                    name = re.search(r"\bmodule\([^)]*?\bname\s*=\s*\"([^\"]+)\"", text, re.S)
                    ver = re.search(r"\bmodule\([^)]*?\bversion\s*=\s*\"([^\"]+)\"", text, re.S)
                    prefix = "/".join(parts[:-1])
                    return (name.group(1) if name else "", ver.group(1) if ver else "", prefix)
    except (OSError, tarfile.TarError, EOFError):
        pass
    return "", "", ""


def from_repository_cache(module: str, version: str) -> ApiModel | None:
    """Extract ``module@version`` from a source archive in Bazel's repository cache, if one is there."""
    for store in repository_caches():
        for file in sorted(store.glob("*/file")):
            try:
                if file.stat().st_size > _MAX_ARCHIVE:
                    continue
            except OSError:
                continue
            name, ver, prefix = _archive_identity(file)
            if name != module or ver != version:
                continue
            import tarfile  # lazy, see the module docstring
            import tempfile

            from .extract import extract

            with tempfile.TemporaryDirectory(prefix="rr-api-") as tmp, tarfile.open(file) as tar:
                members = [m for m in tar if m.isfile() and _STARLARK.search(m.name)]
                tar.extractall(tmp, members=members, filter="data")
                root = Path(tmp) / prefix if prefix else Path(tmp)
                return extract(root, module=module, version=version, origin=f"repository cache {file}")
    return None


def user_model_path(module: str, version: str) -> Path:
    """Where the model extracted from the user's fetched ``module@version`` is kept."""
    from ...cache import default_cache_dir  # lazy, see the module docstring

    return default_cache_dir() / "api_models" / module / f"{version}.json.gz"


def fetched(module: str, version: str, workspace: Path | None = None) -> tuple[ApiModel | None, str]:
    """A model read from the user's fetched ``module@version`` (cached), and where it came from."""
    cached = user_model_path(module, version)
    if cached.is_file():
        model = read_model(cached)
        if model is not None:
            return model, f"fetched ({model.source})"
    for tree in fetched_trees(module, workspace):
        if module_identity(tree) != (module, version):
            continue
        from .extract import extract  # lazy, see the module docstring

        model = extract(tree, module=module, version=version, origin=f"fetched {tree}")
        _keep(model, cached)
        return model, f"fetched {tree}"
    model = from_repository_cache(module, version)
    if model is not None:
        _keep(model, cached)
        return model, f"fetched ({model.source})"
    return None, ""


def _keep(model: ApiModel, path: Path) -> None:
    with contextlib.suppress(OSError):  # a read-only cache only costs a re-extraction next time
        write_model(model, path)


@cache
def resolve(module: str, version: str, workspace: str = "") -> Resolved:
    """The model for ``module@version``: shipped, else extracted from what Bazel fetched."""
    model = shipped(module, version)
    if model is not None:
        return Resolved(module, version, model, "shipped")
    found, origin = fetched(module, version, Path(workspace) if workspace else None)
    return Resolved(module, version, found, origin)


def fetched_available(workspace: Path | None = None) -> list[tuple[str, str, Path]]:
    """(module, version, directory) of every modelled module Bazel has fetched into an output base."""
    out = []
    for module in shipped_modules():
        for tree in fetched_trees(module, workspace):
            name, version = module_identity(tree)
            if name == module and version:
                out.append((module, version, tree))
    return out


def coverage() -> dict[str, list[str]]:
    """Module → versions with a shipped model (for ``doctor`` and the README)."""
    return {m: shipped_versions(m) for m in shipped_modules()}
