"""What names a file being evaluated sees: the prelude (host builtins) and recording stubs.

The prelude is evaluated once per run and flavour into a frozen module; each file gets the
prelude names it uses through one ``load()`` put in front of its first line (so line numbers
stay those of the file). Evaluating the prelude into every file's module instead costs a few
milliseconds per file, which on a workspace of hundreds of files was most of preflight's time.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from functools import cache
from typing import Any

import starlark as sl

from . import prelude

GLOBALS = sl.Globals.extended_by(
    [
        sl.LibraryExtension.StructType,
        sl.LibraryExtension.CallStack,
        sl.LibraryExtension.Json,
    ]
)
PRELUDE_ID = "@@rr_preflight//:{}.bzl"

# What recorded calls of external functions return (the rest return None).
RETURNS = {
    "all_crate_deps": "list",
    "crate_deps": "list",
    "aliases": "dict",
    "selects.with_or": "arg0",
    "selects.with_or_dict": "arg0",
    "make": "callable",
}

STUBS = """
def _ext_stub(kind):
    def f(*args, **kw):
        if "name" in kw:
            payload = {"kind": kind, "name": str(kw["name"]), "attrs": _kw(kw), "origin": "external"}
            _recj("target", payload, call_stack())
        else:
            _recj("call", {"kind": kind}, call_stack())
        r = _retkind(kind)
        if r == "list":
            return []
        if r == "dict":
            return {}
        if r == "arg0":
            return args[0] if args else {}
        if r == "callable":
            return _ext_stub(kind + "()")
        return None
    return f

rr_ext_stub = _ext_stub
"""

PRELUDES = {
    "module": prelude.COMMON + STUBS + prelude.MODULE,
    "build": prelude.COMMON + STUBS + prelude.BUILD + prelude.BZL,
    "all": prelude.COMMON + STUBS + prelude.MODULE + prelude.BUILD + prelude.BZL,
}
_PUBLIC = re.compile(r"^(?:def\s+([A-Za-z]\w*)|([A-Za-z]\w*)\s*=(?!=))", re.M)
_IDENT = re.compile(r"[A-Za-z_]\w*")
_TOP_BOUND = re.compile(r"^(?:def\s+(\w+)|(\w+)\s*=(?!=))", re.M)
_LOAD = re.compile(r"^load\(([^)]*)\)", re.M)
_LOADED = re.compile(r"(\w+)\s*=\s*[\"']|[\"'](\w+)[\"']")
_NOT_BEFORE_NAME = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.:/\"'")
_COMPOUND_FIRST_LINE = re.compile(r"^(?:[ \t]|(?:def|if|for|while|elif|else)\b|@)")


@cache
def prelude_ast(flavour: str) -> sl.AstModule:
    """The parsed prelude of ``flavour`` (module, build or all)."""
    return sl.parse("<prelude>", PRELUDES[flavour])


@cache
def public_names(flavour: str) -> frozenset[str]:
    """Names the prelude of ``flavour`` offers to files (its top-level names without ``_``/``rr_``)."""
    names = {a or b for a, b in _PUBLIC.findall(PRELUDES[flavour])}
    return frozenset(n for n in names if not n.startswith("rr_"))


def injected_load(flavour: str, source: str) -> str | None:
    """``load(<prelude>, ...); `` for the prelude names ``source`` uses and does not bind itself.

    None when the file's first line cannot take a prefix (an indented or compound statement);
    the caller then evaluates the prelude into the file's module instead.
    """
    first = source.split("\n", 1)[0]
    if _COMPOUND_FIRST_LINE.match(first):
        return None
    used = set(_IDENT.findall(source)) & public_names(flavour)
    for a, b in _TOP_BOUND.findall(source):
        used.discard(a or b)
    for mt in _LOAD.finditer(source):
        for a, b in _LOADED.findall(mt.group(1)):
            used.discard(a or b)
    if not used:
        return ""
    names = ", ".join(f'"{n}"' for n in sorted(used))
    return f'load("{PRELUDE_ID.format(flavour)}", {names}); '


def struct_of_chains(prefix: str, chains: Iterable[str], leaf: Callable[[str], str]) -> str:
    """A Starlark expression with the attribute chains (``.a.b``, ``.a.c``) of ``prefix``: nested
    structs (``struct(a = struct(b = ..., c = ...))``) with ``leaf("prefix.a.b")`` at the ends."""
    tree: dict[str, Any] = {}
    for chain in chains:
        node = tree
        for part in chain.strip(".").split("."):
            node = node.setdefault(part, {})
    return _struct(prefix, tree, leaf)


def _struct(prefix: str, tree: dict[str, Any], leaf: Callable[[str], str]) -> str:
    fields = ", ".join(
        f"{k} = {_struct(f'{prefix}.{k}', sub, leaf) if sub else leaf(f'{prefix}.{k}')}"
        for k, sub in sorted(tree.items())
    )
    return f"struct({fields})"


def stub_snippet(name: str, source: str, kind: str | None = None) -> str:
    """Starlark that binds ``name`` to a recording stub shaped after how ``source`` uses it.

    Needs ``_rr_ext_stub`` bound (see :func:`stub_header`).
    """
    chains = (
        [
            mt.group(1)
            for mt in re.finditer(rf"{re.escape(name)}((?:\.\w+)+)(?![\w\"'])", source)
            if mt.start() == 0 or source[mt.start() - 1] not in _NOT_BEFORE_NAME
        ]
        if name + "." in source
        else []
    )
    if chains:
        return f"{name} = {struct_of_chains(name, chains, lambda path: f'_rr_ext_stub({path!r})')}\n"
    called = any(
        mt.start() == 0 or not (source[mt.start() - 1].isalnum() or source[mt.start() - 1] in "_.")
        for mt in re.finditer(rf"{re.escape(name)}\s*\(", source)
    )
    if not called and name.isupper():
        return f"{name} = []\n"
    return f"{name} = _rr_ext_stub({(kind or name)!r})\n"


def stub_header() -> str:
    """The load that binds what stub snippets use (``_rr_ext_stub``, ``_rr_proxy``)."""
    return f'load("{PRELUDE_ID.format("all")}", _rr_ext_stub = "rr_ext_stub", _rr_proxy = "rr_proxy")\n'
