"""Ratios of medians with bootstrap confidence intervals, and the verdict an interval supports.

On a shared machine a point's spread is mostly the machine's (see :mod:`.noise`), so a verdict
rests on a ratio and an interval around it, never on a point's CV. Two kinds of pairs:

* within one session (``paired=True``): two cells measured in the same interleaved rounds. Round
  ``i`` of both ran minutes apart at most and saw the same drift, so the bootstrap resamples
  *rounds*, keeping each round's two values together.
* across sessions (``paired=False``): a new run against a saved baseline. Nothing pairs their
  rounds, so each side is resampled on its own.

The resamples come from a seeded generator: the same data always gives the same interval.

>>> iv = ratio_interval([10.0, 11.0, 9.0, 10.5, 9.5], [5.0, 5.4, 4.6, 5.1, 4.9])
>>> round(iv.ratio, 3), iv.low < 2.0 < iv.high, iv.verdict
(2.0, True, 'faster')
>>> ratio_interval([10.0, 11.0, 9.0], [10.2, 9.1, 10.8]).verdict
'not distinguishable'
"""

from __future__ import annotations

import functools
import random
import statistics
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal

from ..errors import BenchError

Verdict = Literal["faster", "slower", "not distinguishable"]
Metric = Literal["wall", "cpu"]  # allocations per wall-clock second, or per CPU second
NOT_DISTINGUISHABLE: Verdict = "not distinguishable"
LEVEL = 0.95
RESAMPLES = 2000
SEED = 20150101


@dataclass(frozen=True)
class RatioInterval:
    """``ratio`` = median(a) / median(b); [low, high] its bootstrap interval at ``level``."""

    ratio: float
    low: float
    high: float
    level: float
    rounds: int  # the smaller side's number of values

    @property
    def verdict(self) -> Verdict:
        """``faster`` when the whole interval is above 1, ``slower`` when below, else not distinguishable."""
        if self.low > 1.0:
            return "faster"
        if self.high < 1.0:
            return "slower"
        return NOT_DISTINGUISHABLE

    @property
    def half_width(self) -> float:
        """The interval's larger distance from the ratio, relative to it (0.15 = ±15 %)."""
        return max(self.ratio - self.low, self.high - self.ratio) / self.ratio if self.ratio else 0.0

    def text(self) -> str:
        """``18.2x [16.9–19.5]``: the ratio and its interval."""
        return f"{_fmt(self.ratio)}x [{_fmt(self.low)}–{_fmt(self.high)}]"

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "verdict": self.verdict}


def ratio_interval(
    a: Sequence[float],
    b: Sequence[float],
    *,
    paired: bool = True,
    level: float = LEVEL,
    resamples: int = RESAMPLES,
    seed: int = SEED,
) -> RatioInterval:
    """median(a)/median(b) and its percentile-bootstrap interval (paired: resample rounds together)."""
    if not a or not b:
        raise BenchError("a ratio needs measurements on both sides", hint="run at least one repeat")
    if paired and len(a) != len(b):
        raise BenchError(
            f"paired values differ in number ({len(a)} vs {len(b)}): they must come from the same rounds",
            hint="compare points of one session, or pass paired=False",
        )
    if not 0.0 < level < 1.0:
        raise BenchError(f"confidence level must be between 0 and 1, got {level}")
    if min(b) <= 0:
        raise BenchError("the denominator measured 0 or less: no ratio")
    ratio = statistics.median(a) / statistics.median(b)
    low, high = _bootstrap(
        tuple(a), tuple(b), paired, resamples, int((1.0 - level) / 2.0 * (resamples - 1)), seed
    )
    return RatioInterval(ratio, min(low, ratio), max(high, ratio), level, min(len(a), len(b)))


@functools.lru_cache(maxsize=1024)  # a report, the JSON and the terminal ask for the same intervals
def _bootstrap(
    a: tuple[float, ...], b: tuple[float, ...], paired: bool, resamples: int, cut: int, seed: int
) -> tuple[float, float]:
    """The ``cut``-th smallest and largest of ``resamples`` resampled ratios of medians."""
    rng = random.Random(seed)
    rows_a, rows_b = range(len(a)), range(len(b))
    ratios = []
    for _ in range(resamples):
        pick_a = rng.choices(rows_a, k=len(a))
        pick_b = pick_a if paired else rng.choices(rows_b, k=len(b))
        ratios.append(_median([a[i] for i in pick_a]) / _median([b[i] for i in pick_b]))
    ratios.sort()
    return ratios[cut], ratios[resamples - 1 - cut]


def _median(values: list[float]) -> float:
    values.sort()
    mid = len(values) // 2
    return values[mid] if len(values) % 2 else (values[mid - 1] + values[mid]) / 2.0


def _fmt(value: float) -> str:
    return f"{value:.2f}" if value < 10 else f"{value:.1f}"
