"""RR602 ``glob()`` patterns that match nothing (an error from Bazel 8 on, unless allow_empty)."""

from __future__ import annotations

from collections.abc import Iterator

from ..model import Finding
from .base import Ctx


def check_globs(ctx: Ctx) -> Iterator[Finding]:
    if ctx.model.fragment:
        return
    major = ctx.model.bazel_version.split(".")[0]
    strict = major.isdigit() and int(major) >= 8
    for g in ctx.model.globs:
        if g.matches or g.allow_empty is True or not g.include:
            continue
        yield Finding.at(
            g.loc,
            "RR602",
            "error" if strict or g.allow_empty is False else "warning",
            f"glob({list(g.include)}) matches no files in //{g.package}",
            "fix the pattern, add the files, or pass allow_empty = True"
            + ("" if strict else " (Bazel 8 and later reject empty globs)"),
        )
