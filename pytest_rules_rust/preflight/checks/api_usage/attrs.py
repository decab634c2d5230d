"""Attributes given against attributes known: unknown (nearest name, versions that had it), missing
mandatory, wrong type. Shared by tag (RR804) and rule/macro (RR805) checks.

Types are checked on tags (MODULE.bazel holds only literals) and on rule calls, where only a value
that is not a string counts: the evaluation turns what it cannot know (a constant loaded from
another repository) into a string, so ``edition = 2021`` is certain and ``deps = SOME_LIST`` is not.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from functools import partial
from typing import Any, Literal

from ...api import history
from ...api.pins import Pinned
from ...api.schema import ApiModel, Attr
from ...model import Finding, Loc
from ...text import a_or_an
from ..base import Ctx, close_match
from .context import ApiCtx, clauses

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
_STARLARK_TYPE = {str: "string", int: "int", bool: "bool", list: "list", dict: "dict", float: "float"}


def attr_findings(
    api: ApiCtx,
    p: Pinned,
    loc: Loc,
    where: str,
    given: Mapping[str, Any],
    known: Mapping[str, Attr],
    had: Callable[[ApiModel, str], bool],
    *,
    of: Literal["tag", "rule", "macro"],
    implicit: frozenset[str] = frozenset(),
    open_: bool = False,
) -> Iterator[Finding]:
    """Unknown attributes (nearest name, versions that had it), missing mandatory ones, wrong types."""
    ctx = api.ctx
    code = "RR804" if of == "tag" else "RR805"
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
            yield Finding(
                loc.file,
                _attr_line(ctx, loc, name),
                code,
                ctx.severity(),
                clauses(
                    f"{where} has no attribute {name!r} in {p.where}",
                    near and f"did you mean {near!r}?",
                    when,
                ),
                f"its attributes: {', '.join(sorted(known)) or 'none'}",
            )
        elif _wrong_type(value, attr.type, of):
            yield Finding(
                loc.file,
                _attr_line(ctx, loc, name),
                code,
                ctx.severity(),
                f"{where}({name} = ...) must be {a_or_an(attr.type.replace('_', ' '))} in {p.where}, "
                f"got {_STARLARK_TYPE.get(type(value), type(value).__name__)}",
                f"attr.{attr.type} in the {'module extension' if of == 'tag' else 'rule'}'s definition",
            )
    if open_:
        return
    for name, attr in sorted(known.items()):
        if attr.mandatory and name not in given:
            yield Finding.at(
                loc,
                code,
                ctx.severity(),
                f"{where} is missing its mandatory attribute {name!r} ({p.where})",
                f"set {name} = ...",
            )


def _flip(had: Callable[[ApiModel, str], bool], name: str, m: ApiModel) -> bool:
    return had(m, name)


def _wrong_type(value: Any, attr_type: str, of: str) -> bool:
    if of == "macro" or value is None or attr_type not in _TYPES or (of == "rule" and isinstance(value, str)):
        return False
    if attr_type == "bool":  # Bazel takes 0 and 1 for booleans (`linkstatic = 1`)
        return not (isinstance(value, int) and value in (0, 1))
    return not isinstance(value, _TYPES[attr_type]) or (attr_type == "int" and isinstance(value, bool))


def _attr_line(ctx: Ctx, loc: Loc, name: str) -> int:
    lines = ctx.model.files.get(loc.file, "").split("\n")
    for idx in range(max(loc.line - 1, 0), min(len(lines), loc.line + 200)):
        stripped = lines[idx].lstrip()
        if stripped.startswith((f"{name} =", f"{name}=")):
            return idx + 1
    return loc.line
