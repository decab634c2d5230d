"""RR201 unknown @platforms constraint value, RR202 target platform no Rust triple covers."""

from __future__ import annotations

import re
from collections.abc import Iterator

from ..model import Finding, Loc, Target
from .base import Ctx, close_match, is_manual
from .labels import _strings

# @platforms//cpu values up to platforms 1.0 (newer releases only add to this list).
CPUS = frozenset(
    [
        "aarch32",
        "aarch64",
        "arm",
        "arm64",
        "arm64_32",
        "arm64e",
        "armv6",
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
        "loongarch64",
        "mips32",
        "mips64",
        "ppc",
        "ppc32",
        "ppc64le",
        "riscv32",
        "riscv64",
        "s390x",
        "sparc64",
        "wasm32",
        "wasm64",
        "x86_32",
        "x86_64",
        "avr",
        "bpfeb",
        "bpfel",
        "hexagon",
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
# @platforms spellings that name the same thing, mapped to one of them.
ARCH_ALIASES = {"arm64": "aarch64", "amd64": "x86_64", "x64": "x86_64", "i686": "x86_32", "i386": "x86_32"}
OS_ALIASES = {"macos": "osx", "darwin": "osx"}
# rules_rust's triple_mappings.bzl: the triple's arch and system as @platforms values (None: no constraint).
TRIPLE_ARCH = {
    "aarch64": "aarch64",
    "arm": "arm",
    "arm64e": "arm64e",
    "armv7": "armv7",
    "i386": "x86_32",
    "i586": None,
    "i686": "x86_32",
    "loongarch64": "loongarch64",
    "mips": "mips32",
    "powerpc": "ppc32",
    "powerpc64": "ppc",
    "powerpc64le": "ppc64le",
    "riscv32": "riscv32",
    "riscv32imac": "riscv32",
    "riscv32imc": "riscv32",
    "riscv64": "riscv64",
    "riscv64gc": "riscv64",
    "s390x": "s390x",
    "sparc64": "sparc64",
    "thumbv6m": "armv6-m",
    "thumbv7em": "armv7e-m",
    "thumbv7m": "armv7-m",
    "thumbv8m.main": "armv8-m",
    "wasm32": "wasm32",
    "wasm32v1": "wasm32",
    "wasm64": "wasm64",
    "x86_64": "x86_64",
}
TRIPLE_SYSTEM = {
    "android": "android",
    "darwin": "osx",
    "eabi": "none",
    "eabihf": "none",
    "emscripten": "emscripten",
    "freebsd": "freebsd",
    "fuchsia": "fuchsia",
    "ios": "ios",
    "linux": "linux",
    "macos": "osx",
    "netbsd": "netbsd",
    "nixos": "nixos",
    "none": "none",
    "nto": "qnx",
    "openbsd": "openbsd",
    "uefi": "uefi",
    "wasi": "wasi",
    "wasip1": "wasi",
    "wasip2": "wasi",
    "windows": "windows",
}
TRANSITION_ATTRS = ("platform", "platforms", "target_platform", "target_platforms")


def check_constraints(ctx: Ctx) -> Iterator[Finding]:
    """RR201: ``@platforms//cpu:arch64`` and similar typos (Bazel: no such target)."""
    seen: list[tuple[str, Loc]] = []
    for t in ctx.model.targets:
        for value in t.attrs.values():
            seen += [(s, t.loc) for s in _strings(value) if s.startswith("@platforms//")]
    for sel in ctx.model.selects:
        seen += [(k, sel.loc) for k in sel.keys if k.startswith("@platforms//")]
    for s, loc in seen:
        mt = _CONSTRAINT.match(s)
        if not mt:
            continue
        at = ctx.loc_of(loc, s)
        kind, value = mt.groups()
        known = CPUS if kind == "cpu" else OSES
        if value in known:
            continue
        near = close_match(value, known, cutoff=0.7)
        if near:
            yield Finding.at(
                at,
                "RR201",
                "error",
                f"{s}: unknown {kind} constraint value {value!r}",
                f"did you mean @platforms//{kind}:{near}?",
            )
        else:
            yield Finding.at(
                at,
                "RR201",
                "warning",
                f"{s}: {kind} value {value!r} is not in @platforms",
                "check the spelling against https://github.com/bazelbuild/platforms",
            )


def _platform_arch_os(t: Target) -> tuple[str, str]:
    """The platform's cpu and os constraint values ("" where it sets none, or sets one that
    @platforms does not have: RR201 reports that, and no triple can be advised for it)."""
    cpu = os_ = ""
    for s in _strings(t.attrs.get("constraint_values", [])):
        mt = _CONSTRAINT.match(s)
        if mt and mt.group(1) == "cpu":
            cpu = ARCH_ALIASES.get(mt.group(2), mt.group(2)) if mt.group(2) in CPUS else ""
        elif mt:
            os_ = OS_ALIASES.get(mt.group(2), mt.group(2)) if mt.group(2) in OSES else ""
    return cpu, os_


# A real rustc triple per (@platforms cpu, os) for the advice of RR202 (tests check that
# rules_rust maps each back to its key).
KNOWN_TRIPLES = {
    ("x86_64", "linux"): "x86_64-unknown-linux-gnu",
    ("aarch64", "linux"): "aarch64-unknown-linux-gnu",
    ("x86_32", "linux"): "i686-unknown-linux-gnu",
    ("armv7", "linux"): "armv7-unknown-linux-gnueabihf",
    ("arm", "linux"): "arm-unknown-linux-gnueabihf",
    ("riscv64", "linux"): "riscv64gc-unknown-linux-gnu",
    ("s390x", "linux"): "s390x-unknown-linux-gnu",
    ("ppc64le", "linux"): "powerpc64le-unknown-linux-gnu",
    ("loongarch64", "linux"): "loongarch64-unknown-linux-gnu",
    ("x86_64", "osx"): "x86_64-apple-darwin",
    ("aarch64", "osx"): "aarch64-apple-darwin",
    ("aarch64", "ios"): "aarch64-apple-ios",
    ("x86_64", "windows"): "x86_64-pc-windows-msvc",
    ("aarch64", "windows"): "aarch64-pc-windows-msvc",
    ("aarch64", "android"): "aarch64-linux-android",
    ("x86_64", "freebsd"): "x86_64-unknown-freebsd",
    ("x86_64", "none"): "x86_64-unknown-none",
    ("aarch64", "none"): "aarch64-unknown-none",
    ("riscv32", "none"): "riscv32imac-unknown-none-elf",
    ("armv6-m", "none"): "thumbv6m-none-eabi",
    ("armv7-m", "none"): "thumbv7m-none-eabi",
    ("armv7e-m", "none"): "thumbv7em-none-eabihf",
    ("wasm32", "none"): "wasm32-unknown-unknown",
    ("wasm32", "wasi"): "wasm32-wasip1",
}


def triple_advice(arch: str, os_: str) -> str:
    """What to add for a platform of @platforms ``arch``/``os_``: a rustc triple rules_rust maps to
    them where one is known, else a description of the triple that is needed."""
    triple = KNOWN_TRIPLES.get((arch, os_))
    if triple is None:
        return f"add a Rust triple for {arch}/{os_} to rust.toolchain(extra_target_triples = [...])"
    musl = " (or its musl variant)" if os_ == "linux" else ""
    return f'add "{triple}"{musl} to rust.toolchain(extra_target_triples = [...])'


def triple_arch_os(triple: str) -> tuple[str, str]:
    """(cpu, os) constraint values rules_rust gives a Rust target triple ("" where it sets none)."""
    parts = triple.split("-")
    arch = TRIPLE_ARCH.get(parts[0]) or ""
    if parts[0].startswith("wasm"):
        system = "wasi" if any(p.startswith("wasi") for p in parts[1:]) else "none"
        return arch, system
    if len(parts) == 2:
        system = parts[1]
    elif len(parts) > 2:
        system = parts[2]
    else:
        system = ""
    return ARCH_ALIASES.get(arch, arch), TRIPLE_SYSTEM.get(system) or ""


def check_platform_triples(ctx: Ctx) -> Iterator[Finding]:
    """RR202: a platform built for that no Rust triple (extra_target_triples) serves.

    An error where every build uses it (a transition on a target ``bazel build //...`` builds, a
    ``--platforms`` in .bazelrc that applies to every build); a warning where only some builds
    do (a ``build:<config>`` line, a ``manual`` target).
    """
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
    used: dict[tuple[str, str], bool] = {}  # (package, name) -> every build uses it
    for t in mo.targets:
        for key in TRANSITION_ATTRS:
            for s in _strings(t.attrs.get(key)):
                lab = ctx.parse(s, t.package)
                if lab and not lab.external:
                    always = not is_manual(t)
                    used[(lab.package, lab.name)] = used.get((lab.package, lab.name), False) or always
    for rc in mo.bazelrc_platforms:
        lab = ctx.parse(rc.label, "")
        if lab and not lab.external and rc.flag == "platforms":
            always = not rc.config
            used[(lab.package, lab.name)] = used.get((lab.package, lab.name), False) or always
    for pkg_name, always in used.items():
        plat = ctx.targets.get(pkg_name)
        if plat is None or plat.kind != "platform":
            continue
        arch, os_ = _platform_arch_os(plat)
        if not arch or not os_ or (arch, os_) in covered:
            continue
        where = (
            "every build of the workspace" if always else "some builds (a .bazelrc config, a manual target)"
        )
        yield Finding.at(
            plat.loc,
            "RR202",
            ctx.severity() if always else "warning",
            f"platform {plat.name!r} ({arch}/{os_}) is built for in {where}, but no Rust triple in "
            f"extra_target_triples serves it, so no Rust toolchain matches it",
            triple_advice(arch, os_),
        )
