"""RR806: labels into a modelled repository: packages, targets that must exist, toolchain types."""

from __future__ import annotations

from collections.abc import Iterator

from ...api import history
from ...api.pins import Pinned
from ...api.schema import ApiModel
from ...labels import parse_label
from ...model import Finding, Loc
from ..base import Ctx, close_match
from .context import ApiCtx, clauses, unmodelled

TARGET_ATTRS = frozenset(
    {"toolchain_type", "constraint_values", "target_compatible_with", "exec_compatible_with", "platforms"}
)


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


def check_labels(api: ApiCtx) -> Iterator[Finding]:
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
        if unmodelled(model, pkg_name) or (p.pin.module == "platforms" and pkg_name in ("cpu", "os")):
            continue  # @platforms//cpu and //os values are RR201's
        at = ctx.loc_of(loc, text)
        if lab.package.endswith("..."):
            if pkg_name and not any(k == pkg_name or k.startswith(pkg_name + "/") for k in model.packages):
                yield _no_package(ctx, p, model, text, pkg_name, at)
            continue
        pkg = model.packages.get(lab.package)
        if pkg is None:
            yield _no_package(ctx, p, model, text, lab.package, at)
            continue
        if lab.wildcard:
            continue
        if attr == "toolchain_type":
            if lab.name not in pkg.toolchain_types:
                types = [
                    f"@{p.pin.repo}//{k}:{n}" for k, v in model.packages.items() for n in v.toolchain_types
                ]
                near = close_match(text, types)
                yield Finding.at(
                    at,
                    "RR806",
                    ctx.severity(),
                    clauses(f"{text} is not a toolchain_type in {p.where}", near and f"did you mean {near}?"),
                    f"toolchain types of {p.pin.module}: {', '.join(sorted(types)[:8])}",
                )
            continue
        if must_be_target and lab.name not in pkg.targets and not pkg.open:
            near = close_match(lab.name, list(pkg.targets))
            yield Finding.at(
                at,
                "RR806",
                ctx.severity(),
                clauses(
                    f"{text}: package {lab.package} of {p.where} has no target {lab.name!r}",
                    near and f"did you mean :{near}?",
                ),
                f"its targets: {', '.join(pkg.targets[:12])}",
            )


def _no_package(ctx: Ctx, p: Pinned, model: ApiModel, text: str, package: str, at: Loc) -> Finding:
    when = history.describe(
        p.pin.module, p.pin.version, history.present_in(p.pin.module, lambda m: package in m.packages)
    )
    near = close_match(package, list(model.packages))
    extra = "; ".join(x for x in (when, f"did you mean //{near}?" if near and not when else "") if x)
    return Finding.at(
        at,
        "RR806",
        ctx.severity(),
        f"{text}: {p.where} has no package {package}" + (f" ({extra})" if extra else ""),
        "use a label the pinned version has, or pin a version that has it",
    )
