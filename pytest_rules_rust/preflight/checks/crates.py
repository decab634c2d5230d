"""The crate_universe checks: RR301/RR503 on its hubs (``crate_hubs``), RR302-RR304 on the
Cargo files of ``crate.from_cargo`` (``cargo_manifests``).

Both are imported only for a module that uses crate_universe: most workspaces do not, and
every run pays for what it imports.
"""

from __future__ import annotations

from collections.abc import Iterator

from ..model import Finding, Tag
from .base import Ctx


def crate_tags(ctx: Ctx) -> list[Tag]:
    """The tags of the crate_universe extension (either of its .bzl names)."""
    mo = ctx.model
    return mo.tags_of("crate_universe:extension.bzl", "crate") + mo.tags_of(
        "crate_universe:extensions.bzl", "crate"
    )


def check_crates(ctx: Ctx) -> Iterator[Finding]:
    """RR301: each ``@<hub>//:X`` names a crate the hub has; RR503: a hub is defined once."""
    if not crate_tags(ctx):
        return
    from .crate_hubs import check_hubs

    yield from check_hubs(ctx)


def check_cargo_manifests(ctx: Ctx) -> Iterator[Finding]:
    """RR302 (manifest not readable), RR303 (untracked member), RR304 (stale Cargo.lock) for
    every ``crate.from_cargo`` tag of the module."""
    tags = [t for t in crate_tags(ctx) if t.tag == "from_cargo"]
    if not tags or ctx.model.fragment:
        return
    from .cargo_manifests import check_tag_manifests

    for tag in tags:
        yield from check_tag_manifests(ctx, tag)
