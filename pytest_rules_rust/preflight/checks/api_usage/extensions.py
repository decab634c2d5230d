"""RR803 extensions and tag classes the pinned version lacks, RR804 their attributes."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial

from ...api import history
from ...api.pins import Pinned
from ...api.schema import ApiModel, Extension
from ...model import Finding
from ..base import close_match
from .attrs import attr_findings
from .context import ApiCtx, clauses
from .loads import bzl_file_findings


def check_extensions(api: ApiCtx) -> Iterator[Finding]:
    ctx = api.ctx
    for ext in ctx.model.extensions:
        found_bzl = api.bzl_file(ext.bzl)
        if found_bzl is None:
            continue
        p, model, bzl = found_bzl
        at = ctx.loc_of(ext.loc, ext.bzl)
        yield from bzl_file_findings(
            api,
            found_bzl,
            ext.bzl,
            at,
            [ext.name],
            "use the extension file the pinned version has",
            "use_extension",
        )
        if bzl not in model.bzl:
            continue
        kind, found = model.export(bzl, ext.name)
        if kind != "extension" or not isinstance(found, Extension):
            exts = [n for n, k in model.bzl[bzl].exports.items() if k == "extension"]
            near = close_match(ext.name, exts)
            yield Finding.at(
                ext.loc,
                "RR803",
                ctx.severity(),
                clauses(
                    f"{ext.bzl} in {p.where} has no module extension {ext.name!r}",
                    near and f"did you mean {near!r}?",
                ),
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
            yield Finding.at(
                tag.loc,
                "RR803",
                ctx.severity(),
                clauses(
                    f"the {ext.name} extension of {p.where} has no tag class {tag.tag!r}",
                    near and f"did you mean {var}.{near}?",
                    when,
                ),
                f"its tag classes: {', '.join(sorted(ext.tags))}",
            )
            continue
        yield from attr_findings(
            api,
            p,
            tag.loc,
            where,
            tag.attrs,
            tc.attrs,
            partial(_tag_attr, bzl, ext.name, tag.tag),
            of="tag",
        )


def _has_tag(bzl: str, ext: str, tag: str) -> Callable[[ApiModel], bool]:
    def test(m: ApiModel) -> bool:
        _k, found = m.export(bzl, ext)
        return isinstance(found, Extension) and tag in found.tags

    return test


def _tag_attr(bzl: str, ext: str, tag: str, m: ApiModel, attr: str) -> bool:
    _k, found = m.export(bzl, ext)
    return isinstance(found, Extension) and tag in found.tags and attr in found.tags[tag].attrs
