"""RR8xx: every use of a modelled module checked against the API of the version the workspace pins.

Load paths and loaded symbols (RR801, RR802), module extensions, their tag classes and tag
attributes (RR803, RR804), rule and macro attributes (RR805), labels into the module's packages
and toolchain types (RR806), and labels to outputs that a rule or macro from the module does not
declare (RR807). RR800 is the note that a pinned version has no model. Messages name the version
whose model was used and, where one exists, the nearest real name or the versions that had it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import cached_property, partial
from typing import Any

from ..api import history, syntax
from ..api.pins import Pinned, modelled, no_model_note, pins, resolve_pin
from ..api.schema import ApiModel, Attr, Extension, Macro, Rule
from ..api.store import shipped, shipped_modules, shipped_versions
from ..labels import Label, parse_label
from ..model import Finding, Loc, Target
from .base import Ctx, close_match

# Attributes Bazel gives every rule, test rule and executable rule.
COMMON_ATTRS = frozenset(
    [
        "name",
        "visibility",
        "tags",
        "testonly",
        "features",
        "compatible_with",
        "restricted_to",
        "target_compatible_with",
        "exec_compatible_with",
        "exec_properties",
        "exec_group_compatible_with",
        "deprecation",
        "toolchains",
        "licenses",
        "package_metadata",
        "applicable_licenses",
        "aspect_hints",
        "transitive_configs",
        "distribs",
    ]
)
TEST_ATTRS = frozenset(["args", "env", "env_inherit", "size", "timeout", "flaky", "shard_count", "local"])
BINARY_ATTRS = frozenset(["args", "env", "output_licenses"])
# Attribute types whose values must be strings / lists / dicts / bools / ints.
_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "label": (str,),
    "output": (str,),
    "bool": (bool,),
    "int": (int,),
    "string_list": (list,),
    "label_list": (list,),
    "output_list": (list,),
    "int_list": (list,),
    "string_dict": (dict,),
    "string_list_dict": (dict,),
    "label_keyed_string_dict": (dict,),
    "string_keyed_label_dict": (dict,),
}
# Attributes whose labels must name targets (not source files), so a missing one is certain.
TARGET_ATTRS = frozenset(
    {"toolchain_type", "constraint_values", "target_compatible_with", "exec_compatible_with", "platforms"}
)


@dataclass(frozen=True)
class Use:
    """A symbol a file loaded from a modelled repository."""

    repo: str
    bzl: str  # "pkg:file.bzl"
    remote: str
    label: str


class ApiCtx:
    """The pins of a workspace and their models, resolved on first use."""

    def __init__(self, ctx: Ctx) -> None:
        self.ctx = ctx
        self.pins = pins(ctx.model)
        self.modules = set(shipped_modules())
        self._resolved: dict[str, Pinned] = {}
        self.noted: set[str] = set()

    def pinned(self, repo: str) -> Pinned | None:
        """The pinned model of repository ``repo`` (None when the workspace does not depend on it)."""
        pin = self.pins.get(repo)
        if pin is None:
            return None
        if repo not in self._resolved:
            self._resolved[repo] = resolve_pin(pin, self.ctx.model.root)
        return self._resolved[repo]

    def model_for(self, repo: str) -> tuple[Pinned, ApiModel] | None:
        """Pinned + model for ``repo`` when there is a model; records a note when there is none."""
        p = self.pinned(repo)
        if p is None:
            return None
        if p.model is None:
            # A module preflight models, used at a version it has no model of: say so. Modules it
            # never models (rules_pkg, ...) are listed by `doctor`, not noted in every report.
            if modelled(p.pin.module) or p.pin.override == "local_path_override":
                self.noted.add(repo)
            return None
        return p, p.model

    def notes(self) -> Iterator[Finding]:
        for repo in sorted(self.noted):
            p = self._resolved[repo]
            yield Finding(
                p.pin.loc.file,
                p.pin.loc.line,
                "RR800",
                "info",
                no_model_note(p),
                f"pin a version with a model ({', '.join(shipped_versions(p.pin.module)) or 'none'}), "
                f"or run `bazel fetch` once so preflight can read the fetched {p.pin.module}",
            )

    @cached_property
    def uses(self) -> dict[str, dict[str, Use]]:
        """File → local name → what it loaded from a modelled repository."""
        out: dict[str, dict[str, Use]] = {}
        for file, source in self.ctx.model.files.items():
            if "load(" not in source:
                continue
            tree = syntax.parse(source)
            if tree is None:
                continue
            for b in syntax.bindings(tree):
                if b.how != "load":
                    continue
                lab = parse_label(b.label, "")
                if lab is None or not lab.external or lab.canonical or lab.repo not in self.pins:
                    continue
                bzl = f"{lab.package}:{lab.name}"
                out.setdefault(file, {})[b.name] = Use(lab.repo, bzl, b.remote, b.label)
        return out

    def use_of(self, target: Target) -> Use | None:
        found = self.uses.get(target.loc.file, {}).get(target.kind)
        if found is not None:
            return found
        for file_uses in self.uses.values():  # called through a macro of the workspace's own .bzl
            if target.kind in file_uses:
                return file_uses[target.kind]
        return None


def check_api_usage(ctx: Ctx) -> Iterator[Finding]:
    """RR800-RR807 (see the module docstring)."""
    api = ApiCtx(ctx)
    if not api.pins:
        return
    yield from _loads(api)
    yield from _extensions(api)
    yield from _targets(api)
    yield from _labels(api)
    yield from _outputs(api)
    yield from api.notes()


# ---- loads ------------------------------------------------------------------------------------
def _unmodelled(model: ApiModel, package: str) -> bool:
    return any(package == d or package.startswith(d + "/") for d in model.unmodelled)


def _missing_bzl(api: ApiCtx, p: Pinned, model: ApiModel, label: str, bzl: str, symbols: list[str]) -> str:
    """Message for a .bzl file the model lacks, with where it existed and where its symbols went."""
    pkg = bzl.split(":", 1)[0]
    msg = f"{label} does not exist in {p.where}"
    when = history.describe(
        p.pin.module, p.pin.version, history.present_in(p.pin.module, lambda m: bzl in m.bzl)
    )
    if when:
        msg += f" ({when})"
    elsewhere = _where_else(p, model, symbols, exclude=bzl)
    if elsewhere:
        msg += f"; {elsewhere}"
    elif not when:
        near = close_match(bzl, [k for k in model.bzl if not _unmodelled(model, pkg)])
        if near:
            msg += f"; did you mean @{p.pin.repo}//{near}?"
    return msg


def _where_else(p: Pinned, model: ApiModel, symbols: list[str], exclude: str) -> str:
    """Where the symbols are exported instead: another file of this model, or another module."""
    for sym in symbols:
        for key, f in sorted(model.bzl.items()):
            if key != exclude and sym in f.exports and "/private" not in key:
                return f"{sym} is exported by @{p.pin.repo}//{key} in {p.where}"
        for other in shipped_modules():
            if other == p.pin.module:
                continue
            versions = shipped_versions(other)
            version = p.pin.version if p.pin.version in versions else (versions[-1] if versions else "")
            om = shipped(other, version) if version else None
            if om is None:
                continue
            for key, f in sorted(om.bzl.items()):
                if sym in f.exports and "/private" not in key and not key.startswith("private"):
                    return (
                        f"{sym} now comes from the {other} module: "
                        f'bazel_dep(name = "{other}", version = "{version}") and load("@{other}//{key}", ...)'
                    )
    return ""


def _loads(api: ApiCtx) -> Iterator[Finding]:
    ctx = api.ctx
    by_file: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for file, uses in api.uses.items():
        for local, use in uses.items():
            by_file.setdefault((file, use.label), []).append((local, use.remote))
    for (file, label), syms in sorted(by_file.items()):
        lab = parse_label(label, "")
        if lab is None:
            continue
        got = api.model_for(lab.repo)
        if got is None:
            continue
        p, model = got
        bzl = f"{lab.package}:{lab.name}"
        line = ctx.line_of(Loc(file, 1), label)
        if bzl not in model.bzl:
            if _unmodelled(model, lab.package):
                continue
            yield Finding(
                file,
                line,
                "RR801",
                ctx.severity(),
                _missing_bzl(api, p, model, label, bzl, [r for _, r in syms]),
                "load the file the pinned version has (see the message), or pin a version that has it",
            )
            continue
        if model.bzl[bzl].deprecated:
            yield _deprecated(ctx, p, model, label, bzl, file, line)
        exports = model.bzl[bzl].exports
        for _local, remote in syms:
            if remote in exports:
                continue
            msg = f"{label} in {p.where} does not export {remote}"
            near = close_match(remote, list(exports))
            when = history.describe(
                p.pin.module,
                p.pin.version,
                history.present_in(p.pin.module, _exports(bzl, remote)),
            )
            elsewhere = _where_else(p, model, [remote], exclude=bzl)
            extra = "; ".join(x for x in (f"did you mean {near}?" if near else "", when, elsewhere) if x)
            yield Finding(
                file,
                line,
                "RR802",
                ctx.severity(),
                msg + (f"; {extra}" if extra else ""),
                f"it exports: {', '.join(sorted(n for n, k in exports.items() if k != 'value')[:12])}",
            )


def _deprecated(ctx: Ctx, p: Pinned, model: ApiModel, label: str, bzl: str, file: str, line: int) -> Finding:
    notice = model.bzl[bzl].deprecated
    return Finding(
        file,
        line,
        "RR808",
        "warning",
        f"{label} is deprecated in {p.where}: {notice}",
        "load from the file the notice names",
    )


def _exports(bzl: str, name: str) -> Callable[[ApiModel], bool]:
    def test(m: ApiModel) -> bool:
        f = m.bzl.get(bzl)
        return f is not None and name in f.exports

    return test


# ---- module extensions ------------------------------------------------------------------------
def _extensions(api: ApiCtx) -> Iterator[Finding]:
    ctx = api.ctx
    for ext in ctx.model.extensions:
        lab = parse_label(ext.bzl, "")
        if lab is None or not lab.external or lab.canonical:
            continue
        got = api.model_for(lab.repo)
        if got is None:
            continue
        p, model = got
        bzl = f"{lab.package}:{lab.name}"
        line = ctx.line_of(ext.loc, ext.bzl)
        if bzl not in model.bzl:
            if not _unmodelled(model, lab.package):
                yield Finding(
                    ext.loc.file,
                    line,
                    "RR801",
                    ctx.severity(),
                    "use_extension(" + _missing_bzl(api, p, model, ext.bzl, bzl, [ext.name]) + ")",
                    "use the extension file the pinned version has",
                )
            continue
        if model.bzl[bzl].deprecated:
            yield _deprecated(ctx, p, model, ext.bzl, bzl, ext.loc.file, line)
        kind, found = model.export(bzl, ext.name)
        if kind != "extension" or not isinstance(found, Extension):
            exts = [n for n, k in model.bzl[bzl].exports.items() if k == "extension"]
            near = close_match(ext.name, exts)
            yield Finding(
                ext.loc.file,
                ext.loc.line,
                "RR803",
                ctx.severity(),
                f"{ext.bzl} in {p.where} has no module extension {ext.name!r}"
                + (f"; did you mean {near!r}?" if near else ""),
                f"its extensions: {', '.join(sorted(exts)) or 'none'}",
            )
            continue
        yield from _tags(api, p, bzl, ext.id, ext.var or ext.name, found)


def _tags(api: ApiCtx, p: Pinned, bzl: str, ext_id: int, var: str, ext: Extension) -> Iterator[Finding]:
    ctx = api.ctx
    for tag in ctx.model.tags:
        if tag.ext != ext_id:
            continue
        where = f"{var}.{tag.tag}"
        tc = ext.tags.get(tag.tag)
        if tc is None:
            near = close_match(tag.tag, list(ext.tags))
            when = history.describe(
                p.pin.module,
                p.pin.version,
                history.present_in(p.pin.module, _has_tag(bzl, ext.name, tag.tag)),
            )
            extra = "; ".join(x for x in (f"did you mean {var}.{near}?" if near else "", when) if x)
            yield Finding(
                tag.loc.file,
                tag.loc.line,
                "RR803",
                ctx.severity(),
                f"the {ext.name} extension of {p.where} has no tag class {tag.tag!r}"
                + (f"; {extra}" if extra else ""),
                f"its tag classes: {', '.join(sorted(ext.tags))}",
            )
            continue
        yield from _attr_findings(
            api,
            p,
            tag.loc,
            where,
            tag.attrs,
            tc.attrs,
            partial(_tag_attr, bzl, ext.name, tag.tag),
            check_types=True,
        )


def _has_tag(bzl: str, ext: str, tag: str) -> Callable[[ApiModel], bool]:
    def test(m: ApiModel) -> bool:
        _k, found = m.export(bzl, ext)
        return isinstance(found, Extension) and tag in found.tags

    return test


def _tag_attr(bzl: str, ext: str, tag: str, m: ApiModel, attr: str) -> bool:
    _k, found = m.export(bzl, ext)
    return isinstance(found, Extension) and tag in found.tags and attr in found.tags[tag].attrs


def _attr_findings(
    api: ApiCtx,
    p: Pinned,
    loc: Loc,
    where: str,
    given: Mapping[str, Any],
    known: Mapping[str, Attr],
    had: Callable[[ApiModel, str], bool],
    *,
    check_types: bool,
    implicit: frozenset[str] = frozenset(),
    open_: bool = False,
) -> Iterator[Finding]:
    """Unknown attributes (nearest name, versions that had it), missing mandatory ones, wrong types."""
    ctx = api.ctx
    for name, value in given.items():
        if name in ("kind",) or name in implicit:
            continue
        attr = known.get(name)
        if attr is None:
            if open_:
                continue
            near = close_match(name, list(known))
            when = history.describe(
                p.pin.module, p.pin.version, history.present_in(p.pin.module, partial(_flip, had, name))
            )
            extra = "; ".join(x for x in (f"did you mean {near!r}?" if near else "", when) if x)
            yield Finding(
                loc.file,
                _attr_line(ctx, loc, name),
                "RR804" if check_types else "RR805",
                ctx.severity(),
                f"{where} has no attribute {name!r} in {p.where}" + (f"; {extra}" if extra else ""),
                f"its attributes: {', '.join(sorted(known)) or 'none'}",
            )
        elif check_types and value is not None and _wrong_type(value, attr.type):
            yield Finding(
                loc.file,
                _attr_line(ctx, loc, name),
                "RR804",
                ctx.severity(),
                f"{where}({name} = ...) must be a {attr.type.replace('_', ' ')} in {p.where}, "
                f"got {type(value).__name__}",
                f"attr.{attr.type} in the module's tag class",
            )
    if open_:
        return
    for name, attr in sorted(known.items()):
        if attr.mandatory and name not in given:
            yield Finding(
                loc.file,
                loc.line,
                "RR804" if check_types else "RR805",
                ctx.severity(),
                f"{where} is missing its mandatory attribute {name!r} ({p.where})",
                f"set {name} = ...",
            )


def _flip(had: Callable[[ApiModel, str], bool], name: str, m: ApiModel) -> bool:
    return had(m, name)


def _wrong_type(value: Any, attr_type: str) -> bool:
    if attr_type not in _TYPES:
        return False
    return not isinstance(value, _TYPES[attr_type]) or (attr_type == "int" and isinstance(value, bool))


def _attr_line(ctx: Ctx, loc: Loc, name: str) -> int:
    lines = ctx.model.files.get(loc.file, "").split("\n")
    for idx in range(max(loc.line - 1, 0), min(len(lines), loc.line + 200)):
        stripped = lines[idx].lstrip()
        if stripped.startswith((f"{name} =", f"{name}=")):
            return idx + 1
    return loc.line


# ---- rule and macro calls ---------------------------------------------------------------------
def _targets(api: ApiCtx) -> Iterator[Finding]:
    ctx = api.ctx
    for t in ctx.model.targets:
        if t.origin != "external" or "." in t.kind:
            continue
        use = api.use_of(t)
        if use is None:
            continue
        got = api.model_for(use.repo)
        if got is None:
            continue
        p, model = got
        kind, found = model.export(use.bzl, use.remote)
        where = f"{t.kind}({t.name!r})"
        if isinstance(found, Rule) and kind == "rule":
            implicit = COMMON_ATTRS | (TEST_ATTRS if found.test else frozenset())
            implicit |= BINARY_ATTRS if found.executable else frozenset()
            yield from _attr_findings(
                api,
                p,
                t.loc,
                where,
                t.attrs,
                found.attrs,
                partial(_rule_attr, use),
                check_types=False,
                implicit=implicit,
            )
        elif isinstance(found, Macro):
            params = {k: Attr("", v) for k, v in found.params.items()}
            yield from _attr_findings(
                api,
                p,
                t.loc,
                where,
                t.attrs,
                params,
                partial(_rule_attr, use),
                check_types=False,
                implicit=COMMON_ATTRS if found.kwargs else frozenset({"name"}),
                open_=found.kwargs,
            )
            if found.kwargs:
                for name, attr in sorted(params.items()):
                    if attr.mandatory and name not in t.attrs and name != "name":
                        yield Finding(
                            t.loc.file,
                            t.loc.line,
                            "RR805",
                            ctx.severity(),
                            f"{where} is missing its mandatory argument {name!r} ({p.where})",
                            f"set {name} = ...",
                        )


def _rule_attr(use: Use, m: ApiModel, attr: str) -> bool:
    _k, found = m.export(use.bzl, use.remote)
    if isinstance(found, Rule):
        return attr in found.attrs
    return isinstance(found, Macro) and attr in found.params


# ---- labels into modelled repositories --------------------------------------------------------
def _label_uses(api: ApiCtx) -> Iterator[tuple[str, Loc, str, bool]]:
    """(label, where, attribute, must be a target) for every string that names a modelled repository."""
    mo = api.ctx.model
    for reg in mo.registrations:
        yield reg.label, reg.loc, f"register_{reg.kind}s", True
    for t in mo.targets:
        for key, value in t.attrs.items():
            for s in value if isinstance(value, list) else [value]:
                if isinstance(s, str) and s.startswith("@"):
                    yield s, t.loc, key, key in TARGET_ATTRS
    for tag in mo.tags:
        for key, value in tag.attrs.items():
            for s in value if isinstance(value, list) else [value]:
                if isinstance(s, str) and s.startswith("@"):
                    yield s, tag.loc, key, key in TARGET_ATTRS


def _labels(api: ApiCtx) -> Iterator[Finding]:
    ctx = api.ctx
    seen: set[tuple[str, str, int]] = set()
    for text, loc, attr, must_be_target in _label_uses(api):
        lab = parse_label(text, "")
        if lab is None or not lab.external or lab.canonical or lab.repo not in api.pins:
            continue
        got = api.model_for(lab.repo)
        if got is None or (text, loc.file, loc.line) in seen:
            continue
        seen.add((text, loc.file, loc.line))
        p, model = got
        pkg_name = lab.package.removesuffix("/...").removesuffix("...")
        if _unmodelled(model, pkg_name) or (p.pin.module == "platforms" and pkg_name in ("cpu", "os")):
            continue  # @platforms//cpu and //os values are RR201's
        line = ctx.line_of(loc, text)
        if lab.package.endswith("..."):
            if pkg_name and not any(k == pkg_name or k.startswith(pkg_name + "/") for k in model.packages):
                yield _no_package(ctx, p, model, text, pkg_name, loc.file, line)
            continue
        pkg = model.packages.get(lab.package)
        if pkg is None:
            yield _no_package(ctx, p, model, text, lab.package, loc.file, line)
            continue
        if lab.wildcard:
            continue
        if attr == "toolchain_type":
            if lab.name not in pkg.toolchain_types:
                types = [
                    f"@{p.pin.repo}//{k}:{n}" for k, v in model.packages.items() for n in v.toolchain_types
                ]
                near = close_match(text, types)
                yield Finding(
                    loc.file,
                    line,
                    "RR806",
                    ctx.severity(),
                    f"{text} is not a toolchain_type in {p.where}"
                    + (f"; did you mean {near}?" if near else ""),
                    f"toolchain types of {p.pin.module}: {', '.join(sorted(types)[:8])}",
                )
            continue
        if must_be_target and lab.name not in pkg.targets and not pkg.open:
            near = close_match(lab.name, list(pkg.targets))
            yield Finding(
                loc.file,
                line,
                "RR806",
                ctx.severity(),
                f"{text}: package {lab.package} of {p.where} has no target {lab.name!r}"
                + (f"; did you mean :{near}?" if near else ""),
                f"its targets: {', '.join(pkg.targets[:12])}",
            )


def _no_package(
    ctx: Ctx, p: Pinned, model: ApiModel, text: str, package: str, file: str, line: int
) -> Finding:
    when = history.describe(
        p.pin.module, p.pin.version, history.present_in(p.pin.module, lambda m: package in m.packages)
    )
    near = close_match(package, list(model.packages))
    extra = "; ".join(x for x in (when, f"did you mean //{near}?" if near and not when else "") if x)
    return Finding(
        file,
        line,
        "RR806",
        ctx.severity(),
        f"{text}: {p.where} has no package {package}" + (f" ({extra})" if extra else ""),
        "use a label the pinned version has, or pin a version that has it",
    )


# ---- outputs of modelled rules and macros -----------------------------------------------------
def _declared(t: Target, found: Rule | Macro) -> tuple[set[str], bool]:
    """Names a call declares (target and output files) and whether that list is complete."""
    names = {t.name}
    if isinstance(found, Rule):
        names |= {o.replace("%{name}", t.name) for o in found.outputs}
        for key, attr in found.attrs.items():
            if attr.type in ("output", "output_list"):
                value = t.attrs.get(key)
                names |= {v for v in (value if isinstance(value, list) else [value]) if isinstance(v, str)}
        return names, "%" not in "".join(found.outputs).replace("%{name}", "")
    names |= {c.replace("{name}", t.name) for c in found.creates}
    return names, found.creates_known


def _outputs(api: ApiCtx) -> Iterator[Finding]:
    ctx = api.ctx
    if ctx.model.fragment:
        return
    calls: dict[str, list[tuple[Target, Pinned | None, Rule | Macro | None]]] = {}
    for t in ctx.model.targets:
        entry: tuple[Target, Pinned | None, Rule | Macro | None] = (t, None, None)
        if t.origin == "external":
            use = api.use_of(t)
            got = api.model_for(use.repo) if use else None
            if use and got:
                _kind, found = got[1].export(use.bzl, use.remote)
                if isinstance(found, Rule | Macro):
                    entry = (t, got[0], found)
        calls.setdefault(t.package, []).append(entry)
    for t in ctx.model.targets:
        for key, value in t.attrs.items():
            for s in value if isinstance(value, list) else [value]:
                if not isinstance(s, str) or not s.startswith((":", "//")) or "$" in s:
                    continue
                lab = ctx.parse(s, t.package)
                if lab is None or lab.external or lab.wildcard:
                    continue
                yield from _output_ref(ctx, calls.get(lab.package, []), lab, s, t, key)


def _output_ref(
    ctx: Ctx,
    calls: list[tuple[Target, Pinned | None, Rule | Macro | None]],
    lab: Label,
    text: str,
    t: Target,
    key: str,
) -> Iterator[Finding]:
    if (lab.package, lab.name) in ctx.targets:
        return
    path = f"{lab.package}/{lab.name}".strip("/")
    if path in ctx.model.all_files or lab.name in ctx.outputs.get(lab.package, set()):
        return
    owners = [c for c in calls if lab.name.startswith(c[0].name) and lab.name != c[0].name]
    if not owners:
        return
    owner, p, found = max(owners, key=lambda c: len(c[0].name))
    if p is None or found is None:
        return  # made by something the models do not cover: it may declare it
    declared, complete = _declared(owner, found)
    if lab.name in declared or not complete:
        return
    what = "rule" if isinstance(found, Rule) else "macro"
    listed = ", ".join(f":{n}" for n in sorted(declared))
    yield Finding(
        t.loc.file,
        ctx.line_of(t.loc, text),
        "RR807",
        ctx.severity(),
        f"attribute {key} of {t.name!r} names {text}, but {owner.kind}({owner.name!r}) does not declare it: "
        f"in {p.where} {owner.kind} is a {what} that declares only {listed}",
        f"use one of {listed}, or derive the file with a rule of your own (e.g. a genrule over {listed})",
    )


__all__ = ["check_api_usage"]
