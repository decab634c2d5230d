"""RR201 unknown @platforms constraint value, RR202 target platform no Rust triple covers."""

from __future__ import annotations

import re
from collections.abc import Iterator

from ..model import Finding, Target
from .base import Ctx, close_match
from .labels import _strings

CPUS = frozenset(
    [
        "aarch32",
        "aarch64",
        "arm64",
        "arm64_32",
        "arm64e",
        "armv6-m",
        "armv7",
        "armv7-m",
        "armv7e-m",
        "armv7e-mf",
        "armv7k",
        "armv8-m",
        "cortex-r52",
        "cortex-r82",
        "i386",
        "mips64",
        "ppc",
        "ppc32",
        "ppc64le",
        "riscv32",
        "riscv64",
        "s390x",
        "wasm32",
        "wasm64",
        "x86_32",
        "x86_64",
        "all",
    ]
)
OSES = frozenset(
    [
        "android",
        "chromiumos",
        "emscripten",
        "freebsd",
        "fuchsia",
        "haiku",
        "ios",
        "linux",
        "macos",
        "netbsd",
        "nixos",
        "none",
        "openbsd",
        "osx",
        "qnx",
        "tvos",
        "uefi",
        "visionos",
        "vxworks",
        "wasi",
        "watchos",
        "windows",
    ]
)
_CONSTRAINT = re.compile(r"^@platforms//(cpu|os):([\w.-]+)$")
ARCH_ALIASES = {"arm64": "aarch64", "amd64": "x86_64", "x64": "x86_64", "i686": "i386", "x86_32": "i386"}


def check_constraints(ctx: Ctx) -> Iterator[Finding]:
    """RR201: ``@platforms//cpu:arch64`` and similar typos (Bazel: no such target)."""
    seen: list[tuple[str, str, str, int]] = []
    for t in ctx.model.targets:
        for key, value in t.attrs.items():
            for s in _strings(value):
                seen.append((s, key, t.loc.file, ctx.line_of(t.loc, s)))
    for sel in ctx.model.selects:
        seen += [(k, "select", sel.loc.file, ctx.line_of(sel.loc, k)) for k in sel.keys]
    for s, _key, file, line in seen:
        mt = _CONSTRAINT.match(s)
        if not mt:
            continue
        kind, value = mt.groups()
        known = CPUS if kind == "cpu" else OSES
        if value in known:
            continue
        near = close_match(value, known, cutoff=0.7)
        if near:
            yield Finding(
                file,
                line,
                "RR201",
                "error",
                f"{s}: unknown {kind} constraint value {value!r}",
                f"did you mean @platforms//{kind}:{near}?",
            )
        else:
            yield Finding(
                file,
                line,
                "RR201",
                "warning",
                f"{s}: {kind} value {value!r} is not in @platforms",
                "check the spelling against https://github.com/bazelbuild/platforms",
            )


def _platform_arch_os(t: Target) -> tuple[str, str]:
    cpu = os_ = ""
    for s in _strings(t.attrs.get("constraint_values", [])):
        mt = _CONSTRAINT.match(s)
        if mt and mt.group(1) == "cpu":
            cpu = ARCH_ALIASES.get(mt.group(2), mt.group(2))
        elif mt:
            os_ = mt.group(2)
    return cpu, os_


def triple_arch_os(triple: str) -> tuple[str, str]:
    """(arch, os) of a Rust target triple, with @platforms spellings."""
    parts = triple.split("-")
    arch = ARCH_ALIASES.get(parts[0], parts[0])
    arch = "i386" if re.match(r"i[3-6]86", arch) else arch
    osn = next(
        (
            o
            for o in ("linux", "windows", "darwin", "freebsd", "android", "ios", "none", "wasi")
            if o in parts
        ),
        parts[2] if len(parts) > 2 else "",
    )
    return arch, {"darwin": "macos"}.get(osn, osn)


def check_platform_triples(ctx: Ctx) -> Iterator[Finding]:
    """RR202: a platform used as a build target that no Rust triple (extra_target_triples) covers."""
    mo = ctx.model
    triples: list[str] = []
    for tag in mo.tags_of("rust:extensions.bzl", "rust"):
        if tag.tag == "toolchain":
            triples += [str(x) for x in tag.attrs.get("extra_target_triples", []) if isinstance(x, str)]
            if isinstance(tag.attrs.get("extra_target_triples"), dict):
                triples += list(tag.attrs["extra_target_triples"])
        elif tag.tag == "repository_set":
            triples += [
                str(tag.attrs.get("target_triple", "")),
                *list(_strings(tag.attrs.get("extra_target_triples"))),
            ]
    if not triples:
        return  # no extra triples declared: only the host, which preflight cannot know
    covered = {triple_arch_os(t) for t in triples}
    used: dict[tuple[str, str], tuple[str, int]] = {}  # (package, name) -> where it is used
    for t in mo.targets:
        for key in ("platform", "platforms", "target_platforms"):
            for s in _strings(t.attrs.get(key)):
                lab = ctx.parse(s, t.package)
                if lab and not lab.external:
                    used.setdefault((lab.package, lab.name), (t.loc.file, ctx.line_of(t.loc, s)))
    for s in mo.bazelrc_platforms:
        lab = ctx.parse(s, "")
        if lab and not lab.external:
            used.setdefault((lab.package, lab.name), (".bazelrc", 1))
    for pkg_name in used:
        plat = ctx.targets.get(pkg_name)
        if plat is None or plat.kind != "platform":
            continue
        arch, os_ = _platform_arch_os(plat)
        if not arch or not os_ or (arch, os_) in covered:
            continue
        yield Finding(
            plat.loc.file,
            plat.loc.line,
            "RR202",
            "warning",
            f"platform {plat.name!r} ({arch}/{os_}) is a build target but no Rust triple in "
            f"extra_target_triples covers it (only the host toolchain could)",
            f"add a {arch}-unknown-{os_}-gnu or -musl triple to rust.toolchain(extra_target_triples = [...])",
        )
