"""RR807: labels to outputs that the pinned version's rule or macro does not declare."""

from __future__ import annotations

from collections.abc import Iterator

from ...api.pins import Pinned
from ...api.schema import Macro, Rule
from ...labels import Label
from ...model import Finding, Target
from ...text import a_or_an
from ..base import Ctx
from .context import ApiCtx


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


def check_outputs(api: ApiCtx) -> Iterator[Finding]:
    ctx = api.ctx
    if ctx.model.fragment:
        return
    calls: dict[str, list[tuple[Target, Pinned | None, Rule | Macro | None]]] = {}
    for t in ctx.model.targets:
        entry: tuple[Target, Pinned | None, Rule | Macro | None] = (t, None, None)
        if t.origin == "external":
            definition = api.definition_of(t)
            if definition is not None and isinstance(definition[3], Rule | Macro):
                entry = (t, definition[1], definition[3])
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
    yield Finding.at(
        ctx.loc_of(t.loc, text),
        "RR807",
        ctx.severity(),
        f"attribute {key} of {t.name!r} names {text}, but {owner.kind}({owner.name!r}) does not declare it: "
        f"in {p.where} {owner.kind} is {a_or_an(what)} that declares only {listed}",
        f"use one of {listed}, or derive the file with a rule of your own (e.g. a genrule over {listed})",
    )
