"""What Bazel rejects as duplicates: RR501 bazel_dep twice, RR502 top-level rebinding,
RR504 package() twice, RR505 load() after other statements in a .bzl file."""

from __future__ import annotations

import re
from collections.abc import Iterator

from .. import text
from ..model import Finding
from .base import Ctx

_LOAD_AT_COLUMN_0 = re.compile(r"^load\(", re.M)


def check_bazel_deps(ctx: Ctx) -> Iterator[Finding]:
    first: dict[str, tuple[str, int]] = {}
    for dep in ctx.model.bazel_deps:
        if dep.name in first:
            f, ln = first[dep.name]
            yield Finding.at(
                dep.loc,
                "RR501",
                ctx.severity(),
                f"bazel_dep({dep.name!r}) is declared twice (first at {f}:{ln})",
                "keep one bazel_dep per module",
            )
        else:
            first[dep.name] = (dep.loc.file, dep.loc.line)


def check_rebinding(ctx: Ctx) -> Iterator[Finding]:
    for b in ctx.model.rebindings:
        yield Finding.at(
            b.loc,
            "RR502",
            ctx.severity(),
            f"{b.name!r} is bound again at top level (first at line {b.first.line});"
            " Bazel rejects this in MODULE.bazel and .bzl files",
            "use one name per value (e.g. rust_ext / crate_ext) or drop the repeated assignment",
        )


def check_package_calls(ctx: Ctx) -> Iterator[Finding]:
    seen: dict[tuple[str, tuple[int, int]], int] = {}
    for loc in ctx.model.package_calls:
        key = (loc.file, ctx.block_of(loc.line))  # in Markdown, each block is its own BUILD file
        if key in seen:
            yield Finding.at(
                loc,
                "RR504",
                ctx.severity(),
                f"package() is called twice in one BUILD file (first at line {seen[key]})",
                "merge the arguments into one package() call at the top",
            )
        else:
            seen[key] = loc.line


def check_load_order(ctx: Ctx) -> Iterator[Finding]:
    if ctx.model.fragment:
        return
    for file, src in ctx.model.files.items():
        loads = [mt.start() for mt in _LOAD_AT_COLUMN_0.finditer(src)] if file.endswith(".bzl") else []
        if not loads:
            continue
        statement = 0
        head = src[: src.find("\n", loads[-1]) + 1 or len(src)]  # nothing after the last load matters
        for line, code in text.top_level_lines(head):
            if code.startswith("load("):
                if statement:
                    yield Finding(
                        file,
                        line,
                        "RR505",
                        "error",
                        f"load() after other statements (first statement at line {statement})",
                        "move every load() to the top of the file",
                    )
            elif (
                not statement
                and not (line == 1 and code.startswith(('"', "'")))
                and not code.startswith(('"""', "'''"))
            ):
                statement = line
