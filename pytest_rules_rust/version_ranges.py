"""Version ranges like ``>=0.46.0, <0.74.0`` (templates' supported versions, conditional blocks).

Only the numeric ``major.minor.patch`` part is compared: ``0.46.0-rc.1`` counts as ``0.46.0``.

>>> VersionRange.parse(">=0.55.0").contains("0.63.0")
True
>>> str(VersionRange.parse(">=0.46.0,<0.74.0"))
'>=0.46.0, <0.74.0'
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from dataclasses import dataclass

_CLAUSE = re.compile(r"^\s*(>=|<=|==|!=|>|<)\s*(\d+(?:\.\d+){0,2})\s*$")
_OPS: dict[str, Callable[[tuple[int, ...], tuple[int, ...]], bool]] = {
    ">=": operator.ge,
    "<=": operator.le,
    "==": operator.eq,
    "!=": operator.ne,
    ">": operator.gt,
    "<": operator.lt,
}


def numeric(version: str) -> tuple[int, int, int]:
    """``(major, minor, patch)`` of a version string (missing parts are 0)."""
    parts = [int(p) for p in re.findall(r"\d+", version.split("-", 1)[0])[:3]]
    parts += [0] * (3 - len(parts))
    return parts[0], parts[1], parts[2]


@dataclass(frozen=True)
class VersionRange:
    """A conjunction of ``op version`` clauses."""

    clauses: tuple[tuple[str, str], ...]

    @classmethod
    def parse(cls, text: str) -> VersionRange:
        """Parse ``">=0.46.0, <0.74.0"``; ValueError names the clause that is not one."""
        clauses = []
        for part in text.split(","):
            found = _CLAUSE.match(part)
            if not found:
                raise ValueError(f"{part.strip()!r} is not a version clause like >=0.46.0")
            clauses.append((found.group(1), found.group(2)))
        return cls(tuple(clauses))

    def contains(self, version: str) -> bool:
        """True when ``version`` satisfies every clause."""
        v = numeric(version)
        return all(_OPS[op](v, numeric(bound)) for op, bound in self.clauses)

    def __str__(self) -> str:
        return ", ".join(f"{op}{bound}" for op, bound in self.clauses)
