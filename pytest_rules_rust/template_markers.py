"""The markers in a template's files, and the values they mark as the template is written.

A marked line ends in ``# rr:param NAME`` and holds one literal after its last ``=`` (a list may
span lines, ``= [`` … ``],``); a block runs from ``# rr:begin NAME[<op>VERSION]`` to
``# rr:end NAME…``. ``workspaces.render_text`` rewrites marked literals; :func:`scan` reads them,
so a template's own files give the defaults its manifest does not, and a parameter that nothing
marks is found when the template is loaded.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from .errors import WorkspaceError, shown
from .workspace_params import CATALOGUE, Value, coerce

ANCHOR = re.compile(r"#\s*rr:param\s+(\w+)\s*$")
BLOCK = re.compile(r"^\s*#\s*rr:(begin|end)\s+(\w+)(\s*(?:>=|<=|==|!=|>|<)\s*[\d.]+)?\s*$")
LITERAL = re.compile(r"""^(\s*)("(?:[^"\\]|\\.)*"|\[[^\]]*\]|True|False|true|false|-?\d+)(\s*[,)]*\s*)$""")
LIST_OPEN = re.compile(r"=\s*\[\s*$")
LIST_ITEM = re.compile(r"""^\s*"(?:[^"\\]|\\.)*",?\s*$""")
LIST_CLOSE = re.compile(r"^\s*\]([,)\s]*)$")
STARLARK_NAMES = ("MODULE.bazel", "BUILD", "BUILD.bazel", "WORKSPACE", "WORKSPACE.bazel", "WORKSPACE.bzlmod")
SKIP_DIRS = {".git", "target", "node_modules", "__pycache__"}
#: parameters the harness reads itself, so a template may take them without marking them:
#: the Bazel builder runs Bazelisk with ``bazel_version`` when the workspace has no .bazelversion
HARNESS_PARAMS = frozenset({"bazel_version"})


def is_starlark(path: Path) -> bool:
    return path.name in STARLARK_NAMES or path.suffix in (".bzl", ".star")


@dataclass(frozen=True)
class Span:
    """A marked line cut around its literal: ``head`` + ``literal`` + ``tail``."""

    head: str
    literal: str
    tail: str


def literal_span(out: list[str], code: str, rel: str, number: int, name: str) -> Span:
    """Cut an anchored line (without its anchor) around its literal; a multi-line list (``= [`` …
    ``],``) is taken off ``out``, the lines before it."""
    eq = code.rfind("=")
    found = LITERAL.match(code[eq + 1 :]) if eq >= 0 else None
    if found:
        return Span(code[: eq + 1] + found.group(1), found.group(2), found.group(3))
    closing = LIST_CLOSE.match(code)
    if closing:
        start = len(out) - 1
        while start >= 0 and LIST_ITEM.match(out[start]):
            start -= 1
        if start >= 0 and LIST_OPEN.search(out[start]):
            head = out[start].rstrip()[:-1]
            items = out[start + 1 :]
            del out[start:]
            return Span(head, "[" + "".join(items) + "]", closing.group(1))
    raise WorkspaceError(
        f"{rel}:{number}: rr:param {name}: no literal after the last '=' on the line",
        hint='write e.g. version = "1.0"  # rr:param NAME',
    )


@dataclass(frozen=True)
class Markers:
    """What a template's files mark: each parameter's written values (``where`` → value, where the
    literal is the whole value), and every parameter a marker or a block names."""

    values: Mapping[str, Mapping[str, Value]] = field(default_factory=dict)
    named: frozenset[str] = frozenset()


def _files(root: Path) -> Iterator[tuple[str, str]]:
    """The Starlark and TOML files of a template that carry markers: (relative path, text)."""
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if any(part in SKIP_DIRS or part.startswith("bazel-") for part in rel.parts[:-1]):
            continue
        if path.is_symlink() or not path.is_file() or not (is_starlark(path) or path.suffix == ".toml"):
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        if "rr:" in text:
            yield rel.as_posix(), text


def _value(literal: str) -> object:
    """A Starlark or TOML literal as Python: strings, lists of strings, booleans, integers."""
    text = {"true": "True", "false": "False"}.get(literal, literal)
    return ast.literal_eval(text)


def scan(root: Path, params: tuple[str, ...], labels: Mapping[str, Mapping[str, str]]) -> Markers:
    """Read the marked values of ``params`` in the template at ``root``. A commented-out line (in a
    block that is off as written) marks nothing; a label is read back as the value it stands for."""
    values: dict[str, dict[str, Value]] = {}
    named: set[str] = set()
    for rel, text in _files(root):
        before: list[str] = []
        for number, line in enumerate(text.split("\n"), 1):
            block = BLOCK.match(line)
            anchor = ANCHOR.search(line)
            if block:
                named.add(block.group(2))
            if not anchor or line.lstrip().startswith("#"):
                before.append(line)
                continue
            name = anchor.group(1)
            named.add(name)
            span = literal_span(before, line[: anchor.start()], rel, number, name)
            before.append(line)
            if name not in params:
                continue
            value = _read_back(_value(span.literal), labels.get(name, {}))
            whole = isinstance(value, list) == (CATALOGUE[name].kind == "list")
            if value is not None and whole:
                where = f"{rel}:{number}"
                try:
                    values.setdefault(name, {})[where] = coerce(name, value)
                except WorkspaceError as exc:
                    raise WorkspaceError(
                        f"{root / rel}:{number}: the marked value of {name} is not valid: {exc.message}",
                        hint=exc.hint,
                    ) from None
    return Markers(values, frozenset(named))


def _read_back(value: object, labels: Mapping[str, str]) -> Value | None:
    """``value`` with each label put back as the parameter value it renders (None: not one of them)."""
    if not labels:
        return value if isinstance(value, str | bool | int | list) else None
    back = {label: key for key, label in labels.items()}
    items = value if isinstance(value, list) else [value]
    if not all(isinstance(item, str) and item in back for item in items):
        return None
    found = [back[str(item)] for item in items]
    return found if isinstance(value, list) else found[0]


def agreed_default(name: str, found: Mapping[str, Value], manifest: Path) -> Value:
    """The one value every marked place of ``name`` holds; places that disagree are an error."""
    distinct = {shown(v): where for where, v in found.items()}
    if len(distinct) > 1:
        (a, where_a), (b, where_b) = list(distinct.items())[:2]
        raise WorkspaceError(
            f"{manifest}: {name} has no [defaults] entry and the template's files mark different "
            f"values: {a} at {where_a}, {b} at {where_b}",
            hint=f"make the marked values agree, or add [defaults] {name} = ... to {manifest}",
        )
    return next(iter(found.values()))
