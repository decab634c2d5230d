"""What each crate hub has, and RR301 ``@crates//:X`` with no crate.spec / Cargo dependency X
(or only one spelled differently: the hub keeps Cargo's spelling), RR503 two hubs of one name."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from ..model import Finding, Loc, Tag
from .base import Ctx, close_match
from .cargo import dependencies, norm
from .cargo_manifests import TagManifests, tag_manifests
from .crates import crate_tags
from .labels import _strings


@dataclass
class Hub:
    """What one crate hub is known to have: ``names`` are its alias names exactly as
    crate_universe writes them (a dependency's key, so the rename of a renamed one), or None
    when they cannot be known; ``loose`` the normalised crate and package names its
    ``<crate>-<version>`` and ``<crate>__<binary>`` aliases start with; ``unread`` the texts
    of manifests that are not TOML (whatever they mention may be a crate of the hub)."""

    defs: list[Tag] = field(default_factory=list)
    names: set[str] | None = field(default_factory=set)
    loose: set[str] = field(default_factory=set)
    unread: list[str] = field(default_factory=list)
    renamed: dict[str, str] = field(default_factory=dict)
    """Normalised package name -> the key a Cargo.toml renames it to (``key = { package = ... }``)."""

    def add(self, *names: str) -> None:
        if self.names is not None:
            self.names.update(names)
        self.loose.update(norm(n) for n in names)

    def might_have(self, crate: str) -> bool:
        """Whether an unparsable manifest of the hub mentions ``crate`` (in either spelling)."""
        word = re.compile(r"\b" + re.escape(norm(crate)) + r"\b")
        return any(word.search(text.replace("-", "_").lower()) for text in self.unread)


def hubs(ctx: Ctx) -> dict[str, Hub]:
    """Hub name -> what it is known to have, from its from_cargo/from_specs tags and the others."""
    tags = crate_tags(ctx)
    out: dict[str, Hub] = {}
    for tag in tags:
        if tag.tag not in ("from_cargo", "from_specs"):
            continue
        hub = out.setdefault(str(tag.attrs.get("name") or "crates"), Hub())
        hub.defs.append(tag)
        if tag.tag == "from_cargo" and ctx.model.fragment:
            hub.names = None  # an excerpt: its Cargo.toml files are not there to read
        elif tag.tag == "from_cargo":
            _add_manifests(hub, tag_manifests(ctx, tag))
    for tag in tags:
        for name in generated_names(tag):
            for hub_name in list(_strings(tag.attrs.get("repositories"))) or list(out):
                if hub_name in out:
                    out[hub_name].add(name)
    return out


# An unparsable manifest with a [workspace] table or a path dependency may bring in members
# (and so crates) of its own; one without only declares the crates its text names.
_MAY_ADD_MEMBERS = re.compile(r"^\s*\[\s*workspace\b|\bpath\s*=", re.MULTILINE)


def _add_manifests(hub: Hub, found: TagManifests) -> None:
    if not found.complete:
        hub.names = None
    shared = (found.root.data or {}).get("workspace") if found.root else None
    for file in found.files:
        if file.data is None:
            hub.unread.append(file.text)
            if _MAY_ADD_MEMBERS.search(file.text):
                hub.names = None  # members whose dependencies are unknown: nothing is certain
            continue
        workspace = file.data.get("workspace")
        for dep in dependencies(file.data, shared if isinstance(shared, dict) else None):
            hub.add(dep.key)
            if dep.package and norm(dep.package) != norm(dep.key):
                hub.loose.add(norm(dep.package))
                hub.renamed.setdefault(norm(dep.package), dep.key)
        if isinstance(workspace, dict) and isinstance(workspace.get("dependencies"), dict):
            hub.add(*map(str, workspace["dependencies"]))


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


def check_hubs(ctx: Ctx) -> Iterator[Finding]:
    """RR301: each ``@<hub>//:X`` names a crate the hub has; RR503: a hub is defined once."""
    mo = ctx.model
    found = hubs(ctx)
    for name, hub in found.items():
        for dup in hub.defs[1:]:
            first = hub.defs[0].loc
            yield Finding.at(
                dup.loc,
                "RR503",
                ctx.severity(),
                f"crate hub {name!r} is defined twice (first at {first.file}:{first.line})",
                "give each crate.from_cargo/from_specs its own name, or merge them",
            )
    if mo.fragment:
        return
    known = {name: hub for name, hub in found.items() if hub.names is not None}
    for t in mo.targets:
        for key, value in t.attrs.items():
            for s in _strings(value):
                yield from _crate(ctx, s, t.loc, key, known)


def _crate(ctx: Ctx, s: str, loc: Loc, key: str, known: dict[str, Hub]) -> Iterator[Finding]:
    """RR301 for ``@hub//:crate`` and the package short form ``@hub//crate`` (``//pkg`` is
    ``//pkg:pkg`` in Bazel); other packages of a hub are not crates."""
    lab = ctx.parse(s, "")
    if lab is None or not lab.external or lab.repo not in known or lab.wildcard:
        return
    if lab.package and lab.package != lab.name:
        return
    hub, crate = known[lab.repo], lab.name
    names = hub.names or set()
    if crate in names or crate.endswith((".bzl", ".bazel")) or hub.might_have(crate):
        return
    binary = crate.split("__")[0] if "__" in crate else ""  # <crate>__<binary> aliases of gen_binaries
    versioned = _VERSIONED.match(crate)  # <crate>-<version> aliases
    if (binary and norm(binary) in hub.loose) or (versioned and norm(versioned.group(1)) in hub.loose):
        return
    spelled = {norm(n): n for n in sorted(names)}.get(norm(crate), "")
    rename = "" if spelled else hub.renamed.get(norm(crate), "")
    near = spelled or rename or close_match(crate, names, cutoff=0.6)
    form = f"@{lab.repo}//{near}" if lab.package else f"@{lab.repo}//:{near}"
    hint = f"did you mean {form}? " if near else ""
    if spelled:
        message = f"{key}: {s}: hub @{lab.repo} names this crate {spelled!r} (as Cargo.toml spells it)"
        hint += "crate_universe keeps the spelling of the dependency's name; - and _ differ in labels"
    elif rename:
        message = f"{key}: {s}: Cargo.toml renames package {crate!r} to {rename!r}, the hub's name for it"
        hint += "a renamed dependency's alias is the name it is written under in Cargo.toml"
    else:
        message = f"{key}: {s}: hub @{lab.repo} has no crate {crate!r}"
        hint += f'add crate.spec(package = "{crate}", ...) or a [dependencies] entry in Cargo.toml'
    yield Finding.at(ctx.loc_of(loc, s), "RR301", "error", message, hint)
