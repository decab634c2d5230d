"""Summary statistics over one benchmark point's repeats.

>>> s = summarize([1.0, 2.0, 3.0, 4.0])
>>> (s.median, s.min, s.max, s.rounds)
(2.5, 1.0, 4.0, 4)
>>> round(s.cv, 4)
0.5164

Quartiles follow the methods pytest-benchmark uses (Wikipedia's "method 2" for an even count,
"method 3" for an odd one), so the JSON we write reads the same as one it wrote itself.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from ..errors import BenchError


@dataclass(frozen=True)
class Summary:
    """Location and spread of a series of measurements."""

    rounds: int
    median: float
    min: float
    max: float
    mean: float
    stddev: float
    q1: float
    q3: float

    @property
    def cv(self) -> float:
        """Coefficient of variation: sample standard deviation over the mean (0 for one value)."""
        return self.stddev / self.mean if self.mean else 0.0

    @property
    def iqr(self) -> float:
        return self.q3 - self.q1

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "cv": self.cv}


def median(values: Sequence[float]) -> float:
    """The median; an empty series is an error."""
    _require(values)
    return float(statistics.median(values))


def coefficient_of_variation(values: Sequence[float]) -> float:
    """Sample standard deviation divided by the mean (0 for a single value or a zero mean)."""
    return summarize(values).cv


def quartiles(values: Sequence[float]) -> tuple[float, float]:
    """First and third quartiles (Tukey-style for even counts, interpolated for odd ones)."""
    _require(values)
    data = sorted(values)
    n = len(data)
    if n == 1:
        return data[0], data[0]
    if n % 2 == 0:
        half = n // 2
        return float(statistics.median(data[:half])), float(statistics.median(data[half:]))
    k, r = divmod(n, 4)
    if r == 1:
        return 0.25 * data[k - 1] + 0.75 * data[k], 0.75 * data[3 * k] + 0.25 * data[3 * k + 1]
    return 0.75 * data[k] + 0.25 * data[k + 1], 0.25 * data[3 * k + 1] + 0.75 * data[3 * k + 2]


def summarize(values: Sequence[float]) -> Summary:
    """Median, min, max, mean, sample stddev and quartiles of ``values``."""
    _require(values)
    data = [float(v) for v in values]
    q1, q3 = quartiles(data)
    return Summary(
        rounds=len(data),
        median=float(statistics.median(data)),
        min=min(data),
        max=max(data),
        mean=float(statistics.fmean(data)),
        stddev=float(statistics.stdev(data)) if len(data) > 1 else 0.0,
        q1=q1,
        q3=q3,
    )


def _require(values: Sequence[float]) -> None:
    if len(values) == 0:
        raise BenchError("no measurements to summarise", hint="run at least one repeat (--repeats 1 or more)")
