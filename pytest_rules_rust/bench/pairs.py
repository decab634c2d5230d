"""Which allocators to compare, and their ratios with intervals, point by point within one session.

A pair ``jemalloc/system`` is compared wherever both were measured with the same implementation,
target, workload and thread count. The default pairs are every allocator against the target's
system malloc (musl's on musl targets).

>>> Pair.parse("jemalloc/system"), Pair.parse(" mimalloc / jemalloc ").over
(Pair(allocator='jemalloc', over='system'), 'jemalloc')
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..errors import UsageError
from .intervals import RatioInterval, ratio_interval

if TYPE_CHECKING:
    from .results import BenchPoint, BenchResults, PointKey

SYSTEM = "system"


@dataclass(frozen=True)
class Pair:
    """``allocator`` over ``over``: a ratio above 1 means ``allocator`` is faster."""

    allocator: str
    over: str = SYSTEM

    @classmethod
    def parse(cls, text: str) -> Pair:
        """``A/B`` (A over B); a bad spelling is a ``UsageError`` naming it."""
        parts = [p.strip() for p in text.split("/")]
        if len(parts) != 2 or not all(parts) or parts[0] == parts[1]:
            raise UsageError(
                f"bad allocator pair {text!r}",
                hint="write ALLOCATOR/OVER, e.g. jemalloc/system,mimalloc/jemalloc",
            )
        return cls(parts[0], parts[1])

    def __str__(self) -> str:
        return f"{self.allocator}/{self.over}"


@dataclass(frozen=True)
class PairRatio:
    """One pair at one point: ``key`` is the numerator's point, ``over`` the denominator's allocator."""

    key: PointKey
    over: str
    interval: RatioInterval  # wall-clock throughput
    cpu: RatioInterval  # allocations per CPU second: the cost, which a busy neighbour hardly moves
    emulated: bool

    @property
    def label(self) -> str:
        return f"{self.key.allocator}/{self.over}"


def default_pairs(allocators: Sequence[str]) -> tuple[Pair, ...]:
    """Every allocator against the system one (none when the system allocator was not measured)."""
    if SYSTEM not in allocators:
        return ()
    return tuple(Pair(a) for a in allocators if a != SYSTEM)


def pair_ratios(results: BenchResults, pairs: Sequence[Pair] | None = None) -> list[PairRatio]:
    """Ratios with paired-bootstrap intervals for ``pairs`` (default: everything over system)."""
    by_cell: dict[tuple[str, str, str, int], dict[str, BenchPoint]] = {}
    for p in results.points:
        by_cell.setdefault((p.key.impl, p.key.target, p.key.workload, p.key.threads), {})[p.key.allocator] = p
    allocators = list(dict.fromkeys(p.key.allocator for p in results.points))
    chosen = default_pairs(allocators) if pairs is None else tuple(pairs)
    out: list[PairRatio] = []
    for points in by_cell.values():
        for pair in chosen:
            a, b = points.get(pair.allocator), points.get(pair.over)
            if a is None or b is None or len(a.samples) != len(b.samples):
                continue
            wall = ratio_interval([s.ops_per_s for s in a.samples], [s.ops_per_s for s in b.samples])
            cpu = ratio_interval([s.cpu_ops_per_s for s in a.samples], [s.cpu_ops_per_s for s in b.samples])
            out.append(PairRatio(a.key, pair.over, wall, cpu, a.emulated or b.emulated))
    return out
