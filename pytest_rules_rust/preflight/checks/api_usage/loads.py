"""RR801 .bzl files the pinned version lacks, RR802 symbols it does not export, RR808 deprecated files."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from ...api import history
from ...api.pins import Pinned
from ...api.schema import ApiModel
from ...api.store import shipped, shipped_modules, shipped_versions
from ...model import Finding, Loc
from ..base import close_match
from .context import ApiCtx, clauses, unmodelled


def missing_bzl(api: ApiCtx, p: Pinned, model: ApiModel, label: str, bzl: str, symbols: list[str]) -> str:
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
        near = close_match(bzl, [k for k in model.bzl if not unmodelled(model, pkg)])
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


def check_loads(api: ApiCtx) -> Iterator[Finding]:
    ctx = api.ctx
    by_file: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for file, uses in api.uses.items():
        for local, use in uses.items():
            by_file.setdefault((file, use.label), []).append((local, use.remote))
    for (file, label), syms in sorted(by_file.items()):
        found_bzl = api.bzl_file(label)
        if found_bzl is None:
            continue
        p, model, bzl = found_bzl
        at = ctx.loc_of(Loc(file, 1), label)
        yield from bzl_file_findings(
            api,
            found_bzl,
            label,
            at,
            [r for _, r in syms],
            "load the file the pinned version has (see the message), or pin a version that has it",
        )
        if bzl not in model.bzl:
            continue
        exports = model.bzl[bzl].exports
        for _local, remote in syms:
            if remote in exports:
                continue
            near = close_match(remote, list(exports))
            when = history.describe(
                p.pin.module,
                p.pin.version,
                history.present_in(p.pin.module, _exports(bzl, remote)),
            )
            elsewhere = _where_else(p, model, [remote], exclude=bzl)
            yield Finding.at(
                at,
                "RR802",
                ctx.severity(),
                clauses(
                    f"{label} in {p.where} does not export {remote}",
                    near and f"did you mean {near}?",
                    when,
                    elsewhere,
                ),
                f"it exports: {', '.join(sorted(n for n, k in exports.items() if k != 'value')[:12])}",
            )


def bzl_file_findings(
    api: ApiCtx,
    found_bzl: tuple[Pinned, ApiModel, str],
    label: str,
    at: Loc,
    symbols: list[str],
    hint: str,
    call: str = "",
) -> Iterator[Finding]:
    """RR801 when the pinned version lacks the .bzl file ``label`` names (``symbols`` are what the
    workspace wants from it; ``call`` wraps the message, e.g. ``use_extension``), RR808 when the
    file is deprecated."""
    p, model, bzl = found_bzl
    bzl_file = model.bzl.get(bzl)
    if bzl_file is None:
        if not unmodelled(model, bzl.split(":", 1)[0]):
            msg = missing_bzl(api, p, model, label, bzl, symbols)
            yield Finding(
                at.file, at.line, "RR801", api.ctx.severity(), f"{call}({msg})" if call else msg, hint
            )
    elif bzl_file.deprecated:
        yield Finding.at(
            at,
            "RR808",
            "warning",
            f"{label} is deprecated in {p.where}: {bzl_file.deprecated}",
            "load from the file the notice names",
        )


def _exports(bzl: str, name: str) -> Callable[[ApiModel], bool]:
    def test(m: ApiModel) -> bool:
        f = m.bzl.get(bzl)
        return f is not None and name in f.exports

    return test
