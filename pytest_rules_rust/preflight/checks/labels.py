"""RR101 missing package, RR102 missing target, RR104 repository not visible, RR105 select keys."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from ..labels import Label, looks_like_label
from ..model import Finding, Loc, RcPlatform
from ..text import a_or_an
from .base import CONFIG_KINDS, WORKSPACE_FALLBACK, Ctx, close_match, is_manual

MANUAL = "the target is tagged manual: `bazel build //...` skips it, building it fails"

SKIP_ATTRS = frozenset(
    {
        "name",
        "kind",
        "visibility",
        "tags",
        "licenses",
        "features",
        "rustc_flags",
        "rustc_env",
        "env",
        "args",
        "cmd",
        "copts",
        "linkopts",
        "values",
        "define_values",
        "flag_values",
        "repository",
        "remote_tags_file",
        "annotations",
        "labels",
        "entrypoint",
        "cmd_args",
        "exposed_ports",
        "user",
        "workdir",
        "doc",
        "package_dir",
        "strip_prefix",
        "mode",
        "owner",
        "edition",
        "version",
        "crate_features",
        "url",
    }
)
FILE_ATTRS = frozenset({"srcs", "data", "hdrs", "crate_root", "compile_data", "textual_hdrs"})


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for v in value:
            if isinstance(v, str):
                yield v


def check_labels(ctx: Ctx) -> Iterator[Finding]:
    """Labels in target attributes and registrations must resolve."""
    mo = ctx.model
    for t in mo.targets:
        manual = is_manual(t)
        for key, value in t.attrs.items():
            if key in SKIP_ATTRS or key in t.string_attrs:
                continue
            if key == "build_setting_default" and t.kind not in ("label_flag", "label_setting"):
                continue  # a string/bool/int flag's default is a value, not a label
            for s in _strings(value):
                if looks_like_label(s) or (key in FILE_ATTRS and s and "$" not in s and "*" not in s):
                    found = list(resolve(ctx, s, t.package, t.loc, f"attribute {key} of {t.name!r}"))
                    if manual:
                        found = [_downgraded(f, MANUAL) for f in found]
                    yield from found
    for ld in mo.loads:
        lab = ctx.parse(ld.module, "")
        if lab is not None and lab.external and not lab.canonical:
            yield from _repo(ctx, lab, ld.module, ld.loc, "load()")
    for reg in mo.registrations:
        yield from resolve(
            ctx, reg.label, "", reg.loc, f"register_{reg.kind}s", toolchain=reg.kind == "toolchain"
        )


def check_bazelrc_platforms(ctx: Ctx) -> Iterator[Finding]:
    """Platform labels of .bazelrc (``--platforms``, ``--host_platform``,
    ``--extra_execution_platforms``; also in the ``%workspace%`` files it imports) must resolve
    like labels in BUILD files: an error on a plain ``build``/``common`` line (every build uses
    it), a warning under ``build:<config>`` (only builds with that ``--config`` do)."""
    for rc in ctx.model.bazelrc_platforms:
        where = f"--{rc.flag} in {rc.loc.file}"
        found = (
            list(resolve(ctx, rc.label, "", rc.loc, where))
            or list(_hidden_platform(ctx, rc.label, rc))
            or list(_not_a_platform(ctx, rc, where))
        )
        if rc.config:
            found = [_downgraded(f, f"builds with --config={rc.config} fail on it") for f in found]
        yield from found


def _hidden_platform(ctx: Ctx, value: str, rc: RcPlatform) -> Iterator[Finding]:
    """A warning for a platform flag's target the model cannot see in a package with macro calls
    (``resolve`` stays silent there unless a name is close) and that no macro is named after."""
    lab = ctx.parse(value, "")
    if lab is None or lab.external or lab.wildcard or ctx.model.fragment:
        return
    if ctx.target_exists(lab.package, lab.name) is not None or not ctx.packages.get(lab.package, False):
        return
    if any(lab.name.startswith(h) for h in ctx.open_packages.get(lab.package, [])):
        return
    yield Finding.at(
        rc.loc,
        "RR102",
        "warning",
        f"--{rc.flag} in {rc.loc.file}: {value}: no platform {lab.name!r} in //{lab.package} "
        f"(unless one of its macro calls creates it; Bazel fails on a missing platform)",
        f'define platform(name = "{lab.name}", ...) in //{lab.package} or fix the label',
    )


def _not_a_platform(ctx: Ctx, rc: RcPlatform, where: str) -> Iterator[Finding]:
    """RR203 for a platform flag's label that names a Bazel rule other than platform() (or alias)."""
    lab = ctx.parse(rc.label, "")
    target = ctx.targets.get((lab.package, lab.name)) if lab and not lab.external else None
    if target is None or target.origin != "native" or target.kind in ("platform", "alias"):
        return
    platforms = sorted(n for (p, n), t in ctx.targets.items() if p == target.package and t.kind == "platform")
    near = close_match(target.name, platforms)
    yield Finding.at(
        rc.loc,
        "RR203",
        "error",
        f"{where}: {rc.label} is {a_or_an(target.kind)}, not a platform()",
        f"did you mean :{near}?" if near else f"point --{rc.flag} at a platform() target",
    )


def _downgraded(f: Finding, why: str) -> Finding:
    """An error that fails only some builds, as a warning that says which (``why``)."""
    if f.severity != "error":
        return f
    return replace(f, severity="warning", message=f"{f.message} ({why})")


def resolve(
    ctx: Ctx, value: str, package: str, loc: Loc, where: str, *, toolchain: bool = False
) -> Iterator[Finding]:
    """Findings for one label string seen at ``loc``."""
    lab = ctx.parse(value, package)
    if lab is None or lab.canonical:
        return
    at = ctx.loc_of(loc, value)
    if lab.external:
        yield from _repo(ctx, lab, value, at, where)
        return
    if lab.package == "visibility" or lab.package.startswith("conditions"):
        return
    if ctx.model.fragment:
        yield from _fragment(ctx, lab, value, ctx.block_of(loc.line), at, where)
        return
    pkg = lab.package.removesuffix("/...").removesuffix("...")
    if pkg not in ctx.packages and not lab.package.endswith("..."):
        if any(p.startswith(pkg + "/") for p in ctx.packages) and lab.wildcard:
            return
        hint = (
            f"create {pkg}/BUILD.bazel"
            if any(f.startswith(pkg + "/") for f in ctx.model.all_files)
            else ("fix the package path; packages are directories with a BUILD or BUILD.bazel file")
        )
        near = close_match(pkg, ctx.packages)
        if near:
            hint = f"did you mean //{near}? " + hint
        yield Finding.at(at, "RR101", "error", f"{where}: {value}: package //{pkg} does not exist", hint)
        return
    if lab.wildcard or toolchain:
        return
    exists = ctx.target_exists(pkg, lab.name)
    if exists:
        return
    names = [n for (p, n) in ctx.targets if p == pkg]
    if exists is None:
        hidden = ctx.open_packages.get(pkg, [])
        if any(lab.name.startswith(h) for h in hidden) or not ctx.packages.get(pkg, True):
            return
        near = close_match(lab.name, names)
        if not near:
            return
        yield Finding.at(
            at,
            "RR102",
            "warning",
            f"{where}: {value}: no target {lab.name!r} in //{pkg} (a macro might create it)",
            f"did you mean :{near}?",
        )
        return
    near = close_match(lab.name, names)
    hint = (
        f"did you mean :{near}?"
        if near
        else f"define {lab.name!r} in {pkg or 'the root'} BUILD file or fix the name"
    )
    yield Finding.at(
        at, "RR102", "error", f"{where}: {value}: no target or file {lab.name!r} in //{pkg}", hint
    )


def _repo(ctx: Ctx, lab: Label, value: str, at: Loc, where: str) -> Iterator[Finding]:
    if not ctx.has_module or lab.repo in ctx.visible_repos:
        return
    fallback = ctx.workspace_fallback
    if lab.repo in WORKSPACE_FALLBACK and fallback is not False:
        yield Finding.at(
            at,
            "RR104",
            "warning",
            f"repository @{lab.repo} has no bazel_dep: Bazel 7 still finds it through the WORKSPACE "
            "fallback, Bazel 8 (where --enable_workspace is off by default) fails on it",
            f'add bazel_dep(name = "{lab.repo}", version = ...) to MODULE.bazel',
        )
        return
    near = close_match(lab.repo, ctx.visible_repos, cutoff=0.6)
    hint = f"did you mean @{near}? " if near else ""
    hint += f'add a bazel_dep, or use_repo(<extension>, "{lab.repo}") in MODULE.bazel'
    certain = not ctx.model.workspace_file_has_macros
    yield Finding.at(
        at,
        "RR104",
        ctx.severity(certain),
        f"{where}: {value}: repository @{lab.repo} is not visible from the main module",
        hint,
    )


def _fragment(
    ctx: Ctx, lab: Label, value: str, block: tuple[int, int], at: Loc, where: str
) -> Iterator[Finding]:
    """Markdown excerpts: a relative label that neither its block nor an earlier one defines, with a
    close name in its block.

    Blocks are read in order, so later ones see what earlier ones defined, except an earlier block
    that this one replaces (it defines some of the same targets again: a new version of that file).
    """
    if not value.startswith(":"):
        return
    first, last = block
    here = {t.name for t in ctx.model.targets if first <= t.loc.line <= last}
    earlier: dict[tuple[int, int], set[str]] = {}
    for t in ctx.model.targets:
        if t.loc.line < first:
            earlier.setdefault(ctx.block_of(t.loc.line), set()).add(t.name)
    visible = here.union(*(names for names in earlier.values() if not names & here))
    if lab.name in visible:
        return
    near = close_match(lab.name, here)
    if near:
        yield Finding.at(
            at,
            "RR102",
            "warning",
            f"{where}: {value}: no target {lab.name!r} in this block or an earlier one",
            f"did you mean :{near}?",
        )


def check_selects(ctx: Ctx) -> Iterator[Finding]:
    """RR105: every select() key must name a config_setting (or constraint_value)."""
    mo = ctx.model
    settings = {t.name for t in mo.targets if t.kind in CONFIG_KINDS}
    for sel in mo.selects:
        for key in sel.keys:
            lab = ctx.parse(key, sel.package)
            if lab is None or lab.canonical or key.endswith("//conditions:default"):
                continue
            at = ctx.loc_of(sel.loc, key)
            if lab.external:
                yield from _repo(ctx, lab, key, at, "select() key")
                continue
            if mo.fragment:
                if lab.name not in settings:
                    yield Finding.at(
                        at,
                        "RR105",
                        "warning",
                        f"select() key {key} matches no config_setting in this document",
                        f'add config_setting(name = "{lab.name}", ...) to //{lab.package}',
                    )
                continue
            if lab.package not in ctx.packages:
                yield Finding.at(
                    at,
                    "RR105",
                    "error",
                    f"select() key {key}: package //{lab.package} does not exist",
                    "fix the label or create the package with the config_setting",
                )
                continue
            target = ctx.targets.get((lab.package, lab.name))
            if target is None:
                if ctx.target_exists(lab.package, lab.name) is None:
                    continue
                yield Finding.at(
                    at,
                    "RR105",
                    "error",
                    f"select() key {key} matches no config_setting",
                    f'add config_setting(name = "{lab.name}", ...) to //{lab.package}',
                )
            elif target.origin == "native" and target.kind not in CONFIG_KINDS:
                yield Finding.at(
                    at,
                    "RR105",
                    "error",
                    f"select() key {key} is {a_or_an(target.kind)}, not a config_setting",
                    "point the key at a config_setting or constraint_value",
                )
