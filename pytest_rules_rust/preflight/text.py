"""Token-level scanning of Starlark text that the parser does not give us.

The parser stops at the first error and reports it where parsing failed (for an unclosed
``use_repo(`` that is the next statement); this scanner tracks brackets and strings per line
so the preflight can point at the line that opened the bracket.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache


@dataclass(frozen=True)
class LineState:
    """Scanner state at the start of a line: open brackets (char, line) and whether inside a string."""

    brackets: tuple[tuple[str, int], ...]
    in_string: bool


_PAIRS = {")": "(", "]": "[", "}": "{"}


def scan(text: str) -> list[LineState]:
    """State at the start of every line (index 0 is line 1)."""
    states: list[LineState] = []
    stack: list[tuple[str, int]] = []
    quote = ""  # current string delimiter: ', ", ''' or \"\"\"
    i, n, line = 0, len(text), 1
    states.append(LineState((), False))
    while i < n:
        c = text[i]
        if c == "\n":
            if quote and len(quote) == 1:
                quote = ""  # an unterminated one-line string ends at the newline (a syntax error)
            line += 1
            states.append(LineState(tuple(stack), bool(quote)))
            i += 1
            continue
        if quote:
            if c == "\\":
                i += 2
                continue
            if text.startswith(quote, i):
                i += len(quote)
                quote = ""
                continue
            i += 1
            continue
        if c == "#":
            j = text.find("\n", i)
            i = n if j < 0 else j
            continue
        if c in "'\"":
            quote = c * 3 if text.startswith(c * 3, i) else c
            i += len(quote)
            continue
        if c in "([{":
            stack.append((c, line))
        elif c in ")]}" and stack and stack[-1][0] == _PAIRS[c]:
            stack.pop()
        i += 1
    return states


def unclosed_bracket_before(text: str, error_line: int) -> tuple[str, int] | None:
    """When ``error_line`` starts a new top-level statement while a bracket is still open, that bracket."""
    states = scan(text)
    lines = text.split("\n")
    for lineno in range(error_line, 0, -1):
        if lineno - 1 >= len(states):
            continue
        st = states[lineno - 1]
        src = lines[lineno - 1] if lineno - 1 < len(lines) else ""
        if st.brackets and not st.in_string and src[:1].isalpha():
            return st.brackets[-1]
    return None


def unclosed_at_end(text: str) -> tuple[str, int] | None:
    """The innermost bracket still open where the text ends (the parser reports that at 1:1)."""
    states = scan(text.rstrip("\n") + "\n")
    return states[-1].brackets[-1] if states and states[-1].brackets else None


def top_level_lines(text: str) -> list[tuple[int, str]]:
    """(line, text) of lines that start a top-level statement (not in brackets/strings, not comments)."""
    out = []
    for idx, (st, src) in enumerate(zip(scan(text), text.split("\n"), strict=False)):
        if st.brackets or st.in_string or not src or src[0] in " \t#)]}":
            continue
        out.append((idx + 1, src))
    return out


@lru_cache(maxsize=64)
def _lines(text: str) -> list[str]:
    return text.split("\n")


def find_string_line(text: str, value: str, from_line: int) -> int:
    """Line of the first literal ``"value"`` (or single-quoted) at or after ``from_line``; else from_line."""
    lines = _lines(text)
    needles = (f'"{value}"', f"'{value}'")
    for idx in range(max(from_line - 1, 0), min(len(lines), from_line + 400)):
        if any(nd in lines[idx] for nd in needles):
            return idx + 1
    return from_line
