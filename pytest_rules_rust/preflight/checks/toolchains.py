"""RR401 registered package has no toolchain(), RR402 toolchain repo never registered,
RR403 sysroot wired to a contradicting platform, RR404 toolchain module never wired."""

from __future__ import annotations

import re
from collections.abc import Iterator

from ..model import Finding
from ..text import a_or_an
from .base import Ctx
from .labels import _strings

_ARCH_WORDS = {
    "x86_64": "x86_64",
    "x64": "x86_64",
    "amd64": "x86_64",
    "aarch64": "aarch64",
    "arm64": "aarch64",
}
WIRED_MODULES = {
    "toolchains_musl": "use its extension or reference @toolchains_musl"
    " (its toolchains only apply to platforms it knows)",
    "toolchains_llvm": 'add llvm = use_extension("@toolchains_llvm//toolchain/extensions:llvm.bzl", "llvm"), '
    "llvm.toolchain(...), use_repo and register_toolchains",
}


def arch_words(s: str) -> set[str]:
    """Architectures named in ``s`` (x86_64/x64/amd64 → x86_64, aarch64/arm64 → aarch64)."""
    toks = re.split(r"[^a-z0-9]+|(?<=linux)(?=x)", s.lower().replace("x86_64", "x86-64"))
    out = {
        _ARCH_WORDS[t.replace("x86-64", "x86_64")]
        for t in toks
        if t.replace("x86-64", "x86_64") in _ARCH_WORDS
    }
    if "x86-64" in s.lower().replace("x86_64", "x86-64"):
        out.add("x86_64")
    return out


def check_registered_packages(ctx: Ctx) -> Iterator[Finding]:
    """RR401: ``register_toolchains("//pkg:...")`` must point at toolchain() targets."""
    if ctx.model.fragment:
        return
    for reg in ctx.model.registrations:
        if reg.kind != "toolchain":
            continue
        lab = ctx.parse(reg.label, "")
        if lab is None or lab.external or lab.canonical or lab.package.endswith("..."):
            continue
        if lab.package not in ctx.packages or not ctx.packages[lab.package]:
            continue  # RR101 reports the missing package
        in_pkg = [t for t in ctx.model.targets if t.package == lab.package]
        if lab.wildcard:
            if any(t.kind == "toolchain" for t in in_pkg) or ctx.open_packages.get(lab.package):
                continue
            yield Finding.at(
                reg.loc,
                "RR401",
                "error",
                f"register_toolchains({reg.label!r}): //{lab.package} defines no toolchain()",
                "declare toolchain(name = ..., toolchain = ..., toolchain_type = ...) there",
            )
            continue
        target = ctx.targets.get((lab.package, lab.name))
        if target is None:
            if ctx.target_exists(lab.package, lab.name) is False:
                yield Finding.at(
                    reg.loc,
                    "RR102",
                    "error",
                    f"register_toolchains({reg.label!r}): no target {lab.name!r} in //{lab.package}",
                    "name the toolchain() target (or use :all)",
                )
        elif target.kind not in ("toolchain", "alias") and target.origin in ("native", "rule"):
            yield Finding.at(
                reg.loc,
                "RR401",
                "error",
                f"register_toolchains({reg.label!r}) names {a_or_an(target.kind)}, not a toolchain()",
                "register the toolchain() that wraps it",
            )


def check_llvm(ctx: Ctx) -> Iterator[Finding]:
    """RR402 declared-not-registered LLVM toolchains, RR403 sysroot arch vs its targets."""
    mo = ctx.model
    tags = mo.tags_of("toolchain/extensions:llvm.bzl", "llvm")
    registered = [r.label for r in mo.registrations if r.kind == "toolchain"]
    for tag in tags:
        if tag.tag == "toolchain":
            name = str(tag.attrs.get("name") or "llvm_toolchain")
            if not any(
                lbl.startswith((f"@{name}//", f"@@{name}//")) or lbl == f"@{name}" for lbl in registered
            ):
                yield Finding.at(
                    tag.loc,
                    "RR402",
                    "warning",
                    f"LLVM toolchain {name!r} is declared but never registered",
                    f'add register_toolchains("@{name}//:all") (and use_repo(llvm, "{name}")), or remove it',
                )
        elif tag.tag == "sysroot":
            name = str(tag.attrs.get("name") or "")
            label = str(tag.attrs.get("label") or tag.attrs.get("path") or "")
            targets = list(_strings(tag.attrs.get("targets")))
            want = arch_words(label) or arch_words(name)
            if len(want) != 1 or not targets:
                continue
            for tgt in targets:
                have = arch_words(tgt)
                if have and not (have & want):
                    yield Finding.at(
                        ctx.loc_of(tag.loc, tgt),
                        "RR403",
                        "error",
                        f"llvm.sysroot {name!r} uses the {next(iter(want))} sysroot {label} "
                        f"for target {tgt!r}",
                        f'set targets = ["linux-{next(iter(want))}"] or use the matching sysroot',
                    )


def check_wired_modules(ctx: Ctx) -> Iterator[Finding]:
    """RR404: toolchain modules added as bazel_dep that nothing uses."""
    mo = ctx.model
    for dep in mo.bazel_deps:
        if dep.name not in WIRED_MODULES:
            continue
        repo = dep.repo_name or dep.name
        used = any(f"@{repo}//" in src or f'"@{repo}"' in src for src in mo.files.values())
        if not used:
            yield Finding.at(
                dep.loc,
                "RR404",
                "warning",
                f"bazel_dep {dep.name!r} is declared but never wired up (nothing references @{repo})",
                WIRED_MODULES[dep.name],
            )
