"""Markdown mode: check every fenced Starlark block of a document, with line numbers in that file.

Blocks are evaluated in document order with the union of MODULE/BUILD/.bzl builtins; names that
earlier blocks bound (``crate = use_extension(...)``, ``RUST_EDITION = "2021"``) carry over, and
names a block uses without defining are stubbed (a warning when the whole document never defines
or loads them). Semantic checks then run on the combined model with ``fragment=True``: an excerpt
cannot be complete, so apart from syntax and self-contradictions they report warnings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import Path

import starlark as sl

from ..errors import UsageError
from . import buildifier, guard, make_report, text
from .checks import run_checks
from .evaluate import DIALECT, Session
from .model import Finding, PreflightReport
from .records import build_model

_OPEN = re.compile(r"^( {0,3})(`{3,}|~{3,})[ \t]*(starlark|bzl|bazel|python|py|python3)[ \t]*$", re.I)
_STARLARK_TAGS = ("starlark", "bzl", "bazel")
# What makes a ```python block Bazel: a load, a MODULE.bazel call, or a call with name = "...".
_BAZEL_LIKE = re.compile(
    r"^\s*(?:load\(|module\(|bazel_dep\(|use_extension\(|use_repo\(|register_toolchains\("
    r"|\w+ = use_extension\()"
    r"|^\s*[\w.]+\(\s*\n?\s*name\s*=\s*[\"']",
    re.M,
)
_MODULE_CALLS = ("bazel_dep", "use_extension", "use_repo", "register_toolchains", "module", "tag", "override")
_ASSIGN = re.compile(r"^([A-Za-z_]\w*)\s*=(?!=)")
_DEF = re.compile(r"^def\s+(\w+)")


@dataclass(frozen=True)
class Block:
    """A fenced Starlark block: first and last line of its content (1-based, in the document)."""

    first: int
    last: int
    text: str


def find_blocks(document: str) -> list[Block]:
    """Fenced blocks tagged starlark/bzl/bazel (any case, trailing spaces tolerated), and blocks
    tagged python that parse as Starlark and look like Bazel (rules_rust's own docs fence its
    examples so)."""
    lines = document.split("\n")
    blocks: list[Block] = []
    i = 0
    while i < len(lines):
        mt = _OPEN.match(lines[i].rstrip("\r"))
        if not mt:
            i += 1
            continue
        fence = mt.group(2)
        close = re.compile(rf"^ {{0,3}}{re.escape(fence[0])}{{{len(fence)},}}[ \t]*$")
        j = i + 1
        while j < len(lines) and not close.match(lines[j].rstrip("\r")):
            j += 1
        body = [ln.rstrip("\r") for ln in lines[i + 1 : j]]
        indent = len(mt.group(1))
        if indent:
            body = [ln[indent:] if ln[:indent].isspace() else ln for ln in body]
        block = Block(i + 2, j, "\n".join(body))
        if mt.group(3).lower() in _STARLARK_TAGS or looks_like_bazel(block.text):
            blocks.append(block)
        i = j + 1
    return blocks


def looks_like_bazel(code: str) -> bool:
    """True for Python-fenced code that is Starlark for Bazel: it parses, and loads or calls rules."""
    if not _BAZEL_LIKE.search(code):
        return False
    try:
        sl.parse("block.bzl", code, DIALECT)
    except Exception:
        return False
    return True


def preflight_markdown(path: Path | str, *, use_buildifier: bool = True) -> PreflightReport:
    """Check the Starlark blocks of a Markdown (or any text) file; ``file`` in findings is ``path``
    as given (relative stays relative)."""
    path = Path(path)
    try:
        document = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise UsageError(
            f"preflight: cannot read {path}: {exc.strerror}", hint="pass a readable file"
        ) from exc
    if not find_blocks(document):
        raise UsageError(
            f"preflight: {path} has no Starlark code blocks to check",
            hint="fence the Starlark examples as ```starlark, ```bzl or ```python (Bazel code), "
            "or pass a workspace directory",
        )
    findings = check_document(path.name, document, use_buildifier=use_buildifier)
    # named as the caller named the file, so that the location opens from where they are
    shown = [replace(f, file=str(path)) if f.file == path.name else f for f in findings]
    return make_report(shown, str(path.parent), "document")


def check_document(display: str, document: str, *, use_buildifier: bool = True) -> list[Finding]:
    """Findings for all blocks of ``document`` (shown as ``display``).

    Evaluated on a thread with a large stack, like workspaces (the interpreter recurses on nesting).
    """
    return guard.run_with_big_stack(lambda: _check_document(display, document, use_buildifier))


def _check_document(display: str, document: str, use_buildifier: bool) -> list[Finding]:
    blocks = find_blocks(document)
    session = Session(None, fragment=True)
    doc_names: set[str] = set()
    for b in blocks:
        for _line, code in text.top_level_lines(b.text):
            for rx in (_ASSIGN, _DEF):
                mt = rx.match(code)
                if mt:
                    doc_names.add(mt.group(1))
        for mt in re.finditer(r"load\(([^)]*)\)", b.text):
            doc_names.update(re.findall(r"[\"'](\w+)[\"']", mt.group(1)))
            doc_names.update(re.findall(r"(\w+)\s*=", mt.group(1)))
    undefined: dict[str, int] = {}
    module_blocks: list[tuple[Block, dict[str, int]]] = []
    for b in blocks:
        mark = len(session.records)
        source = "\n" * (b.first - 1) + b.text
        stubbed: list[str] = []

        def allow(name: str, _stubbed: list[str] = stubbed) -> bool:
            _stubbed.append(name)
            return True

        mod = session.eval_file(display, source, "all", "", allow_stub=allow)
        for name in stubbed:
            if name not in doc_names and name not in undefined:
                undefined[name] = _first_use(source, name)
        new = session.records[mark:]
        assigned: dict[str, int] = {}
        for line, code in text.top_level_lines(b.text):
            mt = _ASSIGN.match(code)
            if mt:
                assigned.setdefault(mt.group(1), line + b.first - 1)
        for name, line in assigned.items():
            ext = next((r for r in new if r.kind == "use_extension" and r.loc.line == line), None)
            if ext is not None:
                session.doc_env[name] = f"{name} = _rr_proxy({session.records.index(ext)})\n"
            elif mod is not None:
                try:
                    value = mod[name]
                except Exception:
                    continue
                session.doc_env[name] = f"{name} = {value!r}\n"
        if any(r.kind in _MODULE_CALLS for r in new):
            module_blocks.append((b, assigned))
    findings = list(_rebinding_across(display, module_blocks))
    for name, line in undefined.items():
        findings.append(
            Finding(
                display,
                line,
                "RR002",
                "warning",
                f"name '{name}' is used but never defined or loaded in this document",
                "add the load() (or definition) it needs to the example",
            )
        )
    session.findings = [f for f in session.findings if f.code != "RR002"]
    session.sources = {display: document}
    model = build_model(session, "", blocks=tuple((b.first, b.last) for b in blocks))
    findings += run_checks(model)
    if use_buildifier:
        findings += buildifier.lint_blocks(display, [(b.first, b.text) for b in blocks])
    return findings


def _first_use(source: str, name: str) -> int:
    mt = re.search(rf"(?<![\w.]){re.escape(name)}\b", source)
    return source.count("\n", 0, mt.start()) + 1 if mt else 1


def _rebinding_across(display: str, module_blocks: list[tuple[Block, dict[str, int]]]) -> list[Finding]:
    """RR502 for MODULE.bazel excerpts that bind the same top-level name (Bazel rejects the combination)."""
    first: dict[str, int] = {}
    out: list[Finding] = []
    for _block, assigned in module_blocks:
        for name, line in assigned.items():
            if name in first:
                out.append(
                    Finding(
                        display,
                        line,
                        "RR502",
                        "warning",
                        f"{name!r} is bound again (first at line {first[name]}): combined into one "
                        "MODULE.bazel, Bazel rejects the second binding",
                        "say that the block replaces the earlier one, or reuse the existing binding",
                    )
                )
            else:
                first[name] = line
    return out
