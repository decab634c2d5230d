"""Keep one bad file from taking the run down: read safely, refuse what the interpreter cannot
take, and turn any exception or interpreter panic into a finding on that file.

starlark-rust recurses on nesting (brackets, operator chains, indentation); on the default 8 MB
stack a few thousand levels overflow it and the process dies with SIGSEGV. So the interpreter
runs on a thread with a large stack (:func:`run_with_big_stack`), and :func:`shape_problem`
refuses files far beyond what any real BUILD/.bzl file needs before the interpreter sees them.
"""

from __future__ import annotations

import functools
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from itertools import accumulate
from pathlib import Path
from typing import TypeVar

from .model import Finding

T = TypeVar("T")

STACK_BYTES = 512 * 1024 * 1024  # reserved address space; only the pages used are committed


@dataclass(frozen=True)
class Limits:
    """What a file may hold before preflight declines to evaluate it (real files stay far below)."""

    max_bytes: int = 2 * 1024 * 1024
    max_tokens: int = 1_000_000
    max_depth: int = 200
    """Open brackets at once, and indentation columns."""
    max_chain: int = 2_000
    """Operators in one expression without a bracket or comma between them (``-`` * 10000, ``a.b.c...``)."""
    max_eval_seconds: float = 5.0
    """Evaluation time of one file (its loads not counted): real files take milliseconds."""


LIMITS = Limits()

_STRINGS_AND_COMMENTS = re.compile(
    r'"""(?:[^"\\]|\\.|"(?!""))*(?:"""|\Z)'
    r"|'''(?:[^'\\]|\\.|'(?!''))*(?:'''|\Z)"
    r'|"(?:[^"\\\n]|\\.)*(?:"|$)'
    r"|'(?:[^'\\\n]|\\.)*(?:'|$)"
    r"|#[^\n]*",
    re.S | re.M,
)
_TOKEN = re.compile(r"\w+|\S")
_BRACKET_STEP = {"(": 1, "[": 1, "{": 1, ")": -1, "]": -1, "}": -1}
_BRACKETS = re.compile(r"[()\[\]{}]")
_SEPARATORS = re.compile(r"[,;()\[\]{}]")
_OPERATOR = re.compile(r"[-+*/%|&^~<>.=!]|\b(?:not|and|or|if|else|in|lambda)\b")
_INDENT = re.compile(r"^[ \t]*", re.M)
# Substrings that every match of _OPERATOR contains: their counts bound the operator count.
_OPERATOR_PARTS = (*"-+*/%|&^~<>.=!", "not", "and", "or", "if", "else", "in", "lambda")


@functools.cache
def _indent_beyond(depth: int) -> re.Pattern[str]:
    return re.compile(rf"^[ \t]{{{depth + 1}}}", re.M)


@dataclass(frozen=True)
class Source:
    """A file's text, or the finding that says why it cannot be read."""

    text: str | None
    finding: Finding | None = None


def read_source(root: Path, rel: str, limits: Limits | None = None) -> Source:
    """Read ``root/rel`` as UTF-8 text; unreadable, oversized or non-UTF-8 files become a finding.

    Invalid UTF-8 is decoded with replacement characters (so the file is still checked) and
    reported once, at the line of the first bad byte.
    """
    limits = limits or LIMITS
    path = root / rel
    try:
        with path.open("rb") as fh:
            data = fh.read(limits.max_bytes + 1)
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        return Source(
            None,
            Finding(
                rel, 1, "RR005", "error", f"cannot read this file: {reason}", "fix the file (or the link)"
            ),
        )
    if len(data) > limits.max_bytes:
        return Source(None, too_big(rel, limits))
    return decode(rel, data)


def too_big(rel: str, limits: Limits | None = None) -> Finding:
    """The finding for a file over the size limit."""
    limits = limits or LIMITS
    return Finding(
        rel,
        1,
        "RR004",
        "warning",
        f"not evaluated: larger than {limits.max_bytes // (1024 * 1024)} MiB",
        "preflight skips files this large; split it if it is hand-written",
    )


def decode(rel: str, data: bytes) -> Source:
    """Bytes → text; a finding (RR005) for invalid UTF-8 or NUL bytes, which Bazel does not read as source."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        text = data.decode("utf-8", errors="replace")
        return Source(
            text,
            Finding(
                rel,
                line,
                "RR005",
                "error",
                f"not valid UTF-8 (byte {exc.start}: 0x{data[exc.start]:02x})",
                "save the file as UTF-8; Starlark source must be UTF-8 text",
            ),
        )
    nul = text.find("\0")
    if nul >= 0:
        return Source(
            text,
            Finding(
                rel,
                text.count("\n", 0, nul) + 1,
                "RR005",
                "error",
                "contains a NUL byte (binary data, not Starlark source)",
                "remove the NUL byte, or keep binary data out of BUILD and .bzl files",
            ),
        )
    return Source(text)


def _clearly_within(text: str, limits: Limits) -> bool:
    """True when counts over the raw text, which bound those over the code, are all within the
    limits (most files): then the exact measures below need not run."""
    # A lone "#" becomes '""' in the code: one token more than characters, at the most.
    if len(text) >= limits.max_tokens or _indent_beyond(limits.max_depth).search(text):
        return False
    if sum(map(text.count, "([{")) > limits.max_depth:
        return False
    return sum(map(text.count, _OPERATOR_PARTS)) <= limits.max_chain


def shape_problem(rel: str, text: str, limits: Limits | None = None) -> Finding | None:
    """A finding when ``text`` is beyond a limit (see :class:`Limits`), before the interpreter sees it."""
    limits = limits or LIMITS
    if len(text) > limits.max_bytes:
        return too_big(rel, limits)
    if _clearly_within(text, limits):
        return None
    code = _STRINGS_AND_COMMENTS.sub('""', text)
    problem = ""
    line = 1
    steps = [_BRACKET_STEP[c] for c in _BRACKETS.findall(code)]
    depth = max(accumulate(steps), default=0)
    if depth > limits.max_depth:
        problem = f"brackets nested {depth} deep (limit {limits.max_depth})"
        line = _line_at_depth(code, limits.max_depth)
    else:
        indent = max(map(len, _INDENT.findall(code)), default=0)
        if indent > limits.max_depth:
            problem = f"indented {indent} columns deep (limit {limits.max_depth})"
    if not problem:
        # A chain of n operators is at least n characters long: only long segments can hold one.
        long = [seg for seg in _SEPARATORS.split(code) if len(seg) > limits.max_chain]
        chain = max(map(len, map(_OPERATOR.findall, long)), default=0)
        if chain > limits.max_chain:
            problem = f"an expression chains {chain} operators (limit {limits.max_chain})"
    if not problem and len(code) > limits.max_tokens:
        tokens = len(_TOKEN.findall(code))
        if tokens > limits.max_tokens:
            problem = f"{tokens} tokens (limit {limits.max_tokens})"
    if not problem:
        return None
    return Finding(
        rel,
        line,
        "RR004",
        "warning",
        f"not evaluated: {problem}",
        "preflight declines files this deep or large (the interpreter would exhaust its stack); "
        "no hand-written BUILD or .bzl file needs it",
    )


def too_slow(rel: str, line: int, limits: Limits | None = None) -> Finding:
    """The finding for a file whose evaluation was stopped after ``limits.max_eval_seconds``."""
    limits = limits or LIMITS
    return Finding(
        rel,
        line,
        "RR004",
        "warning",
        f"evaluation stopped after {limits.max_eval_seconds:g} s"
        " (a loop far larger than any BUILD file needs?)",
        "preflight stops evaluating a file after this long; checks on the rest of it are limited",
    )


def _line_at_depth(code: str, depth: int) -> int:
    level = 0
    for mt in _BRACKETS.finditer(code):
        level += _BRACKET_STEP[mt.group()]
        if level > depth:
            return code.count("\n", 0, mt.start()) + 1
    return 1


def crash_finding(rel: str, exc: BaseException, stage: str) -> Finding:
    """The finding for an unexpected exception or interpreter panic while handling ``rel``."""
    detail = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else ""
    name = type(exc).__name__
    return Finding(
        rel,
        1,
        "RR009",
        "warning",
        f"preflight failed while {stage} this file ({name}{': ' + detail if detail else ''}); "
        "the rest of the workspace was checked",
        "this is a preflight bug: please report it to the pytest-rules-rust maintainers with this file",
    )


def isolated(rel: str, stage: str, fn: Callable[[], T], on_crash: Callable[[Finding], None]) -> T | None:
    """``fn()``; an exception or interpreter panic becomes a finding passed to ``on_crash`` (and None)."""
    try:
        return fn()
    except (KeyboardInterrupt, SystemExit, GeneratorExit):
        raise
    except BaseException as exc:
        on_crash(crash_finding(rel, exc, stage))
        return None


def run_with_big_stack(fn: Callable[[], T]) -> T:
    """Run ``fn`` on a thread with a large stack and return its result (or raise its exception)."""
    result: list[T] = []
    error: list[BaseException] = []

    def target() -> None:
        try:
            result.append(fn())
        except BaseException as exc:
            error.append(exc)

    old = threading.stack_size()
    try:
        threading.stack_size(STACK_BYTES)
        worker = threading.Thread(target=target, name="preflight-eval", daemon=True)
        worker.start()
    finally:
        threading.stack_size(old)
    worker.join()
    if error:
        raise error[0]
    return result[0]
