"""RR805: attributes of calls of the pinned version's rules and macros."""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial

from ...api.schema import ApiModel, Attr, Macro, Rule
from ...model import Finding
from .attrs import BINARY_ATTRS, COMMON_ATTRS, TEST_ATTRS, attr_findings
from .context import ApiCtx, Use


def check_targets(api: ApiCtx) -> Iterator[Finding]:
    ctx = api.ctx
    for t in ctx.model.targets:
        if t.origin != "external" or "." in t.kind:
            continue
        definition = api.definition_of(t)
        if definition is None:
            continue
        use, p, kind, found = definition
        where = f"{t.kind}({t.name!r})"
        if isinstance(found, Rule) and kind == "rule":
            implicit = COMMON_ATTRS | (TEST_ATTRS if found.test else frozenset())
            implicit |= BINARY_ATTRS if found.executable else frozenset()
            yield from attr_findings(
                api,
                p,
                t.loc,
                where,
                t.attrs,
                found.attrs,
                partial(_rule_attr, use),
                of="rule",
                implicit=implicit,
            )
        elif isinstance(found, Macro):
            params = {k: Attr("", v) for k, v in found.params.items()}
            yield from attr_findings(
                api,
                p,
                t.loc,
                where,
                t.attrs,
                params,
                partial(_rule_attr, use),
                of="macro",
                implicit=COMMON_ATTRS if found.kwargs else frozenset({"name"}),
                open_=found.kwargs,
            )
            if found.kwargs:
                for name, attr in sorted(params.items()):
                    if attr.mandatory and name not in t.attrs and name != "name":
                        yield Finding.at(
                            t.loc,
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
