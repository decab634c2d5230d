"""What crate_universe refuses in the Cargo files of ``crate.from_cargo``: RR302 a manifest it
cannot read, RR303 a Cargo workspace member missing from ``manifests``, RR304 a dependency
that Cargo.lock does not list (a stale lock file)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ..api.history import version_key
from ..model import Finding, Tag
from .base import Ctx
from .cargo import TomlFile, dep_line, dependencies, norm
from .labels import _strings

# Older crate_universe splicing fails with "Some manifests are not being tracked" unless every
# member is in `manifests`; by late 2025 it needs only the workspace root's (and says the rest
# can go). The exact release is not pinned down here, so only pins below 0.63.0 are checked:
# a newer pin may miss the finding but never gets a false one.
UNTRACKED_MEMBERS_REFUSED_BEFORE = (0, 63, 0)


@dataclass(frozen=True, slots=True)
class TagManifests:
    """The Cargo files one ``crate.from_cargo`` tag makes crate_universe read.

    ``complete`` is False when a listed manifest is not a file of this workspace (another
    repository, a missing file): what it declares is then unknown. ``files`` holds the listed
    manifests and the members of their Cargo workspace, each once (unparsable ones included).
    """

    tag: Tag
    listed: frozenset[Path]
    complete: bool
    files: tuple[TomlFile, ...]
    root: TomlFile | None


def tag_manifests(ctx: Ctx, tag: Tag) -> TagManifests:
    """The manifests of ``tag`` (a ``from_cargo`` tag) and their workspace, read once per run."""
    listed: list[Path] = []
    complete = True
    for manifest in _strings(tag.attrs.get("manifests")):
        path = _local_file(ctx, manifest)
        if path is None:
            complete = False
        else:
            listed.append(path.resolve())
    files = {p: ctx.cargo.read(p) for p in listed}
    roots = {r.path: r for r in (ctx.cargo.workspace_root(p) for p in listed) if r is not None}
    root = next(iter(roots.values())) if len(roots) == 1 else None
    for member in ctx.cargo.members(root) if root else []:
        files.setdefault(member.path, member)
    return TagManifests(tag, frozenset(listed), complete, tuple(files.values()), root)


def check_tag_manifests(ctx: Ctx, tag: Tag) -> Iterator[Finding]:
    """RR302, RR303 and RR304 for one ``crate.from_cargo`` tag."""
    found = tag_manifests(ctx, tag)
    for file in found.files:
        if file.data is None:
            yield _unreadable(ctx, file)
    yield from _untracked(ctx, found)
    yield from _stale_lock(ctx, found)


def _unreadable(ctx: Ctx, file: TomlFile) -> Finding:
    return Finding(
        _rel(ctx, file.path),
        file.line,
        "RR302",
        "error",
        f"{file.path.name} {file.error}; crate_universe cannot read this manifest",
        "fix it on that line (an unclosed string or table is the usual cause); "
        "`cargo metadata` reports the same",
    )


def _untracked(ctx: Ctx, found: TagManifests) -> Iterator[Finding]:
    """Members of the Cargo workspace that ``manifests`` leaves out (the root counts too)."""
    if found.root is None or not found.complete or not _refuses_untracked(ctx):
        return
    hub = str(found.tag.attrs.get("name") or "crates")
    for file in found.files:
        if file.path in found.listed or not _in_workspace_of(file, found.root):
            continue
        label = _label_of(ctx, file.path)
        what = "root" if file.path == found.root.path else "member"
        yield Finding.at(
            found.tag.loc,
            "RR303",
            "error",
            f"crate.from_cargo(name = {hub!r}): Cargo workspace {what} {label} is not in `manifests`; "
            "crate_universe refuses a workspace with untracked manifests",
            f'add "{label}" to `manifests`',
        )


def _stale_lock(ctx: Ctx, found: TagManifests) -> Iterator[Finding]:
    """Dependencies of the manifests that the tag's Cargo.lock does not list as a package."""
    lock_label = found.tag.attrs.get("cargo_lockfile")
    lock_path = _local_file(ctx, lock_label) if isinstance(lock_label, str) else None
    packages = ctx.cargo.lock_packages(lock_path) if lock_path else None
    if packages is None:
        return
    workspace = (found.root.data or {}).get("workspace") if found.root else None
    for file in found.files:
        if file.data is None:
            continue
        for dep in dependencies(file.data, workspace if isinstance(workspace, dict) else None):
            if not dep.package or norm(dep.package) in packages:
                continue
            what = dep.key if dep.package == dep.key else f"{dep.key} (package {dep.package})"
            yield Finding(
                _rel(ctx, file.path),
                dep_line(file.text, dep.key),
                "RR304",
                "error",
                f"dependency {what} is not in {lock_label}: the lock file is stale",
                "run `cargo update -w` (or `cargo generate-lockfile`) in the Cargo workspace, "
                "then repin with `CARGO_BAZEL_REPIN=1 bazel build ...`",
            )


def _refuses_untracked(ctx: Ctx) -> bool:
    for dep in ctx.model.bazel_deps:
        if dep.name == "rules_rust":
            pinned = version_key(dep.version)
            return pinned != (0, 0, 0) and pinned < UNTRACKED_MEMBERS_REFUSED_BEFORE
    return False


def _in_workspace_of(file: TomlFile, root: TomlFile) -> bool:
    """False for a member that names another workspace root (``package.workspace``)."""
    package = (file.data or {}).get("package")
    other = package.get("workspace") if isinstance(package, dict) else None
    return other is None or (file.path.parent / str(other) / "Cargo.toml").resolve() == root.path


def _local_file(ctx: Ctx, label: str) -> Path | None:
    lab = ctx.parse(label, "")
    if lab is None or lab.external:
        return None
    path = Path(ctx.model.root) / f"{lab.package}/{lab.name}".strip("/")
    return path if path.is_file() else None


def _rel(ctx: Ctx, path: Path) -> str:
    return path.resolve().relative_to(ctx.cargo.root).as_posix()


def _label_of(ctx: Ctx, path: Path) -> str:
    """The label of a workspace file: its nearest enclosing Bazel package and the rest."""
    rel = _rel(ctx, path)
    parts = rel.split("/")
    for cut in range(len(parts) - 1, 0, -1):
        package = "/".join(parts[:cut])
        if package in ctx.packages:
            return f"//{package}:{'/'.join(parts[cut:])}"
    return f"//:{rel}"
