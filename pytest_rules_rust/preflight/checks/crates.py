"""RR301 ``@crates//:X`` with no crate.spec / Cargo dependency X, RR503 two hubs of one name."""

from __future__ import annotations

import glob
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..model import Finding, Loc, Tag
from .base import Ctx, close_match
from .labels import _strings


def _norm(name: str) -> str:
    return name.replace("-", "_").lower()


def _cargo_deps(path: Path, seen: set[Path]) -> set[str] | None:
    """Dependency names of a Cargo.toml (and its workspace members); None when unreadable."""
    import tomllib  # only workspaces with crate.from_cargo need it

    path = path.resolve()
    if path in seen:
        return set()
    seen.add(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):  # unreadable, not UTF-8, not TOML
        return None
    names: set[str] = set()

    def add(table: Any) -> None:
        if isinstance(table, dict):
            for key, spec in table.items():
                names.add(key)
                if isinstance(spec, dict) and isinstance(spec.get("package"), str):
                    names.add(spec["package"])

    for section in ("dependencies", "dev-dependencies", "build-dependencies"):
        add(data.get(section))
    for target in (data.get("target") or {}).values():
        if isinstance(target, dict):
            for section in ("dependencies", "dev-dependencies", "build-dependencies"):
                add(target.get(section))
    ws = data.get("workspace") or {}
    add(ws.get("dependencies"))
    members = ws.get("members") or []
    for member in members if isinstance(members, list) else []:
        for sub in _member_dirs(path.parent, str(member)):
            more = _cargo_deps(sub / "Cargo.toml", seen) if (sub / "Cargo.toml").is_file() else set()
            if more is None:
                return None
            names |= more
    return names


def _member_dirs(base: Path, pattern: str) -> list[Path]:
    """Directories a Cargo ``workspace.members`` entry names (a path or a glob; ``"."`` is ``base``)."""
    pattern = pattern.strip()
    if not pattern or pattern.startswith("/"):
        return []
    found = glob.glob(glob.escape(str(base)) + "/" + pattern)
    return sorted(Path(p).resolve() for p in found if Path(p).is_dir())


def hubs(ctx: Ctx) -> dict[str, tuple[list[Tag], set[str] | None]]:
    """Hub name -> (defining tags, known crate names or None when they cannot be known)."""
    mo = ctx.model
    tags = mo.tags_of("crate_universe:extension.bzl", "crate") + mo.tags_of(
        "crate_universe:extensions.bzl", "crate"
    )
    out: dict[str, tuple[list[Tag], set[str] | None]] = {}
    for tag in tags:
        if tag.tag not in ("from_cargo", "from_specs"):
            continue
        name = str(tag.attrs.get("name") or "crates")
        defs, names = out.get(name, ([], set()))
        defs.append(tag)
        if tag.tag == "from_cargo":
            for manifest in _strings(tag.attrs.get("manifests")):
                lab = ctx.parse(manifest, "")
                path = (
                    Path(mo.root) / f"{lab.package}/{lab.name}".strip("/")
                    if lab and not lab.external
                    else None
                )
                deps = _cargo_deps(path, set()) if path and path.is_file() and not mo.fragment else None
                names = None if deps is None or names is None else names | deps
        out[name] = (defs, names)
    for tag in tags:
        for name in generated_names(tag):
            for hub in list(_strings(tag.attrs.get("repositories"))) or list(out):
                if hub in out and out[hub][1] is not None:
                    out[hub][1].add(name)  # type: ignore[union-attr]
    return out


def generated_names(tag: Tag) -> list[str]:
    """Hub target names a crate_universe tag adds besides the crates of Cargo.toml.

    ``crate.spec(package = "x", package_alias = "y")`` names the crate ``y`` (and ``x``);
    ``crate.annotation(extra_aliased_targets = {"alias": "target"})`` adds ``alias``.
    """
    names: list[str] = []
    if tag.tag == "spec":
        names += [
            str(tag.attrs[k]) for k in ("package", "package_alias") if isinstance(tag.attrs.get(k), str)
        ]
    elif tag.tag == "annotation":
        extra = tag.attrs.get("extra_aliased_targets")
        if isinstance(extra, dict):
            names += [str(k) for k in extra]
        if isinstance(tag.attrs.get("crate"), str):
            names.append(str(tag.attrs["crate"]))
    return names


_VERSIONED = re.compile(r"^(.+?)-\d+\.\d+\.\d+\S*$")


def check_crates(ctx: Ctx) -> Iterator[Finding]:
    """RR301: each ``@<hub>//:X`` names a crate the hub has; RR503: a hub is defined once."""
    mo = ctx.model
    found = hubs(ctx)
    for name, (defs, _names) in found.items():
        for dup in defs[1:]:
            yield Finding.at(
                dup.loc,
                "RR503",
                ctx.severity(),
                f"crate hub {name!r} is defined twice (first at {defs[0].loc.file}:{defs[0].loc.line})",
                "give each crate.from_cargo/from_specs its own name, or merge them",
            )
    if mo.fragment:
        return
    known = {hub: {_norm(n) for n in names} for hub, (_d, names) in found.items() if names is not None}
    for t in mo.targets:
        for key, value in t.attrs.items():
            for s in _strings(value):
                yield from _crate(ctx, s, t.loc, key, known)


def _crate(ctx: Ctx, s: str, loc: Loc, key: str, known: dict[str, set[str]]) -> Iterator[Finding]:
    """RR301 for ``@hub//:crate`` and the package short form ``@hub//crate`` (``//pkg`` is
    ``//pkg:pkg`` in Bazel); other packages of a hub are not crates."""
    lab = ctx.parse(s, "")
    if lab is None or not lab.external or lab.repo not in known or lab.wildcard:
        return
    if lab.package and lab.package != lab.name:
        return
    crate = lab.name
    base = crate.split("__")[0]  # <crate>__<binary> aliases of gen_binaries
    versioned = _VERSIONED.match(base)  # <crate>-<version> aliases
    if crate.endswith((".bzl", ".bazel")) or _norm(base) in known[lab.repo]:
        return
    if versioned and _norm(versioned.group(1)) in known[lab.repo]:
        return
    near = close_match(_norm(crate), known[lab.repo], cutoff=0.6)
    form = f"@{lab.repo}//{near}" if lab.package else f"@{lab.repo}//:{near}"
    hint = f"did you mean {form}? " if near else ""
    hint += f'add crate.spec(package = "{crate}", ...) or a [dependencies] entry in Cargo.toml'
    yield Finding.at(
        ctx.loc_of(loc, s),
        "RR301",
        "error",
        f"{key}: {s}: hub @{lab.repo} has no crate {crate!r}",
        hint,
    )
