"""What a .bzl or BUILD file declares, read from its syntax tree without running it.

Starlark's grammar is a subset of Python's, so Python's ``ast`` reads it: the names a file binds
at top level (its exports), the signatures of its functions, the target names a macro creates
(``name + ".digest"``, ``"_{}_index".format(name)``, ``"%s_x" % name``) and the literal target
names and ``toolchain_type``s of a BUILD file.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

NAME_KEYS = ("name", "out", "outs")


@dataclass(frozen=True)
class Binding:
    """A top-level name: ``how`` is ``load`` (from ``label``/``remote``), ``def``, or ``assign``."""

    name: str
    how: str
    label: str = ""
    remote: str = ""
    alias_of: str = ""  # for ``x = y``: the name y


def parse(source: str) -> ast.Module | None:
    """The syntax tree, or None when Python's parser rejects the Starlark."""
    try:
        return ast.parse(source)
    except (SyntaxError, ValueError):
        return None


def bindings(tree: ast.Module) -> list[Binding]:
    """Every top-level name the file binds, in order."""
    out: list[Binding] = []
    for node in tree.body:
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
            call = node.value
            if isinstance(call.func, ast.Name) and call.func.id == "load" and call.args:
                label = _str(call.args[0]) or ""
                for arg in call.args[1:]:
                    s = _str(arg)
                    if s:
                        out.append(Binding(s, "load", label, s))
                for kw in call.keywords:
                    if kw.arg:
                        out.append(Binding(kw.arg, "load", label, _str(kw.value) or ""))
        elif isinstance(node, ast.FunctionDef):
            out.append(Binding(node.name, "def"))
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                for name in _names(target):
                    alias = node.value.id if isinstance(node.value, ast.Name) else ""
                    out.append(Binding(name, "assign", alias_of=alias))
    return out


def deprecation(tree: ast.Module) -> str:
    """The file's deprecation notice: a docstring that starts with "Deprecated", or the text of a
    top-level ``print()`` that says "deprecated" ('' when neither)."""
    body = tree.body
    if body and isinstance(body[0], ast.Expr):
        doc = _str(body[0].value)
        if doc and doc.strip().lower().startswith("deprecated"):
            return " ".join(doc.split())[:200]
    for node in body:
        if (
            isinstance(node, ast.Expr)
            and isinstance(node.value, ast.Call)
            and isinstance(node.value.func, ast.Name)
            and node.value.func.id == "print"
        ):
            text = " ".join(
                s for s in (_str(c) for c in ast.walk(node.value) if isinstance(c, ast.Constant)) if s
            )
            if "deprecated" in text.lower():
                return " ".join(text.split())[:200]
    return ""


def functions(tree: ast.Module) -> dict[str, ast.FunctionDef]:
    """Top-level function definitions by name."""
    return {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef)}


def signature(fn: ast.FunctionDef) -> tuple[dict[str, bool], bool]:
    """Parameter name → mandatory, and whether the function takes ``**kwargs``."""
    a = fn.args
    positional = a.posonlyargs + a.args
    first_default = len(positional) - len(a.defaults)
    params = {p.arg: i < first_default for i, p in enumerate(positional)}
    for p, d in zip(a.kwonlyargs, a.kw_defaults, strict=True):
        params[p.arg] = d is None
    return params, a.kwarg is not None


def created_names(fn: ast.FunctionDef) -> tuple[tuple[str, ...], bool]:
    """``{name}`` patterns of the targets and outputs a macro creates besides ``name`` itself,
    and whether every such name could be read (False when one is computed some other way)."""
    found: list[str] = []
    known = True
    for node in ast.walk(fn):
        if not isinstance(node, ast.Call):
            continue
        for kw in node.keywords:
            if kw.arg not in NAME_KEYS:
                continue
            values = kw.value.elts if isinstance(kw.value, ast.List) else [kw.value]
            for v in values:
                pattern = _name_pattern(v)
                if pattern is None:
                    known = False
                elif pattern != "{name}" and pattern not in found:
                    found.append(pattern)
    return tuple(found), known


def literal_repos(tree: ast.Module | None, impl: str) -> tuple[str, ...]:
    """Repository names a module extension's implementation creates with a literal ``name = "..."``
    (in its body or in a function of the same file it calls); names computed from tags are not seen."""
    if tree is None or not impl:
        return ()
    fns = functions(tree)
    todo, seen, found = [impl], set(), []
    while todo:
        fn = fns.get(todo.pop())
        if fn is None or fn.name in seen:
            continue
        seen.add(fn.name)
        for node in ast.walk(fn):
            if not isinstance(node, ast.Call):
                continue
            if isinstance(node.func, ast.Name) and node.func.id in fns and len(seen) < 2:
                todo.append(node.func.id)
            for kw in node.keywords:
                value = _str(kw.value) if kw.arg in ("name", "hub_name") else None
                if value and value not in found:
                    found.append(value)
    return tuple(sorted(found))


def build_targets(source: str) -> tuple[list[str], list[str], bool] | None:
    """Literal target names, ``toolchain_type`` names, and whether the BUILD file may declare more
    (loops, computed names, or calls of loaded macros); None when it does not parse."""
    tree = parse(source)
    if tree is None:
        return None
    loaded = {b.name for b in bindings(tree) if b.how == "load"}
    targets: list[str] = []
    types: list[str] = []
    open_ = False
    for node in ast.walk(tree):
        if isinstance(node, ast.For | ast.comprehension | ast.FunctionDef):
            open_ = True
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Name):
            continue
        fn = node.func.id
        if fn == "load":
            continue
        names = [kw.value for kw in node.keywords if kw.arg == "name"]
        if fn == "exports_files" and node.args and isinstance(node.args[0], ast.List):
            targets += [s for s in (_str(e) for e in node.args[0].elts) if s]
            continue
        if fn in loaded:
            open_ = True
        for n in names:
            s = _str(n)
            if s is None:
                open_ = True
                continue
            targets.append(s)
            if fn == "toolchain_type":
                types.append(s)
        for kw in node.keywords:
            if kw.arg in ("out", "outs"):
                vals = kw.value.elts if isinstance(kw.value, ast.List) else [kw.value]
                targets += [s for s in (_str(v) for v in vals) if s]
    return sorted(set(targets)), sorted(set(types)), open_


def _name_pattern(node: ast.expr) -> str | None:
    """A target-name expression as a ``{name}`` pattern, or None when it is computed otherwise."""
    if isinstance(node, ast.Name):
        return "{name}" if node.id == "name" else None
    s = _str(node)
    if s is not None:
        return s
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _name_pattern(node.left), _name_pattern(node.right)
        return left + right if left is not None and right is not None else None
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod):
        fmt = _str(node.left)
        if fmt is not None and isinstance(node.right, ast.Name) and node.right.id == "name":
            return fmt.replace("%s", "{name}", 1)
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "format"
        and len(node.args) == 1
        and isinstance(node.args[0], ast.Name)
        and node.args[0].id == "name"
    ):
        fmt = _str(node.func.value)
        if fmt is not None:
            return fmt.replace("{}", "{name}", 1)
    return None


def _str(node: ast.expr) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _names(target: ast.expr) -> list[str]:
    if isinstance(target, ast.Name):
        return [target.id]
    if isinstance(target, ast.Tuple | ast.List):
        return [n for e in target.elts for n in _names(e)]
    return []
