"""Token-level scanning of Starlark text that the parser does not give us.

The parser stops at the first error and reports it where parsing failed (for an unclosed
``use_repo(`` that is the next statement); this scanner tracks brackets and strings per line
so the preflight can point at the line that opened the bracket. One regular expression finds
strings (with their escapes, so ``\"""\\`` continuing onto the next line stays one string),
comments, brackets and newlines; Python only loops over those, so megabytes scan in milliseconds.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from functools import lru_cache

# An open bracket and the ones around it: (char, line, enclosing), shared between lines.
_Open = tuple[str, int, "_Open | None"]


@dataclass(frozen=True)
class LineState:
    """Scanner state at the start of a line: the innermost open bracket (with the ones around it)
    and whether the line starts inside a string."""

    innermost: _Open | None
    in_string: bool

    @property
    def brackets(self) -> tuple[tuple[str, int], ...]:
        """Open brackets (char, line), outermost first."""
        out: list[tuple[str, int]] = []
        node = self.innermost
        while node is not None:
            out.append((node[0], node[1]))
            node = node[2]
        return tuple(reversed(out))


_PAIRS = {")": "(", "]": "[", "}": "{"}
# Longest first: a triple-quoted string (closed, or running to the end of the text), a one-line
# string (closed, or ending at the newline: a syntax error), a comment, a bracket, a newline.
_TOKEN = re.compile(
    r'"""(?:[^"\\]|\\.|"(?!""))*(?:"""|\Z)'
    r"|'''(?:[^'\\]|\\.|'(?!''))*(?:'''|\Z)"
    r'|"(?:[^"\\\n]|\\.)*(?:"|(?=\n)|\Z)'
    r"|'(?:[^'\\\n]|\\.)*(?:'|(?=\n)|\Z)"
    r"|#[^\n]*"
    r"|[()\[\]{}\n]",
    re.S,
)


@lru_cache(maxsize=8)
def scan(text: str) -> tuple[LineState, ...]:
    """State at the start of every line (index 0 is line 1); linear in the text, whatever the nesting."""
    states: list[LineState] = [LineState(None, False)]
    top: _Open | None = None
    line = 1
    for mt in _TOKEN.finditer(text):
        tok = mt.group()
        c = tok[0]
        if c == "\n":
            line += 1
            states.append(LineState(top, False))
        elif c in "([{":
            top = (c, line, top)
        elif c in ")]}":
            if top is not None and top[0] == _PAIRS[c]:
                top = top[2]
        elif c in "'\"":
            inner = tok.count("\n")
            if inner:
                inside = LineState(top, True)
                states.extend([inside] * inner)
                line += inner
    return tuple(states)


def unclosed_bracket_before(text: str, error_line: int) -> tuple[str, int] | None:
    """When ``error_line`` starts a new top-level statement while a bracket is still open, that bracket."""
    states = scan(text)
    lines = _lines(text)
    for lineno in range(min(error_line, len(states)), 0, -1):
        st = states[lineno - 1]
        src = lines[lineno - 1] if lineno - 1 < len(lines) else ""
        if st.innermost is not None and not st.in_string and src[:1].isalpha():
            return st.innermost[0], st.innermost[1]
    return None


def offset_after_line(text: str, line: int) -> int:
    """Offset just past the end of ``line`` (1-based); the text's length when it has fewer lines."""
    pos = -1
    for _ in range(max(line, 1)):
        pos = text.find("\n", pos + 1)
        if pos < 0:
            return len(text)
    return pos + 1


def unclosed_at_end(text: str) -> tuple[str, int] | None:
    """The innermost bracket still open where the text ends (the parser reports that at 1:1)."""
    last = scan(text.rstrip("\n") + "\n")[-1].innermost
    return (last[0], last[1]) if last is not None else None


def top_level_lines(text: str) -> list[tuple[int, str]]:
    """(line, text) of lines that start a top-level statement (not in brackets/strings, not comments)."""
    out = []
    for idx, (top, src) in enumerate(zip(_top_level_flags(text), _lines(text), strict=False)):
        if not top or not src or src[0] in " \t#)]}":
            continue
        out.append((idx + 1, src))
    return out


def _top_level_flags(text: str) -> list[bool]:
    """For every line: does it start outside brackets and strings?"""
    flags = [True]
    depth = 0
    for mt in _TOKEN.finditer(text):
        c = mt.group()[0]
        if c == "\n":
            flags.append(depth == 0)
        elif c in "([{":
            depth += 1
        elif c in ")]}":
            depth = max(depth - 1, 0)
        elif c in "'\"":
            flags.extend([False] * mt.group().count("\n"))
    return flags


@lru_cache(maxsize=64)
def _lines(text: str) -> list[str]:
    return text.split("\n")


@lru_cache(maxsize=64)
def _line_starts(text: str) -> list[int]:
    return [0] + [mt.end() for mt in re.finditer("\n", text)]


def find_string_line(text: str, value: str, from_line: int) -> int:
    """Line of the first literal ``"value"`` (or single-quoted) at or after ``from_line``; else from_line."""
    starts = _line_starts(text)
    first = max(from_line - 1, 0)
    if first >= len(starts):
        return from_line
    begin = starts[first]
    end = starts[min(len(starts) - 1, from_line + 400)] if from_line + 400 < len(starts) else len(text)
    hits = [p for p in (text.find(f'"{value}"', begin, end), text.find(f"'{value}'", begin, end)) if p >= 0]
    return bisect.bisect_right(starts, min(hits)) if hits else from_line


def a_or_an(word: str) -> str:
    """``word`` with its indefinite article: "an alias", "an int", "a rust_library", "an x86_64"
    (a letter read out before a digit: "ex", "es")."""
    first = word[:1].lower()
    spelt = first in "fhlmnrsx" and word[1:2].isdigit()
    return f"{'an' if (first and first in 'aeiou') or spelt else 'a'} {word}"
