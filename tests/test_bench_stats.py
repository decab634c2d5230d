"""Statistics on known inputs, checked against hand-computed values and pytest-benchmark's own Stats."""

from __future__ import annotations

import math
import statistics

import pytest
from pytest_benchmark.stats import Stats

from pytest_rules_rust.bench.stats import coefficient_of_variation, median, quartiles, summarize
from pytest_rules_rust.errors import BenchError

SERIES = [
    [5.0],
    [2.0, 4.0],
    [3.0, 1.0, 2.0],
    [1.0, 2.0, 3.0, 4.0],
    [10.0, 12.0, 11.0, 13.0, 50.0],
    [0.5, 0.7, 0.6, 0.9, 0.8, 0.4],
    [1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0],
    [7.0, 1.0, 8.0, 2.0, 9.0, 3.0, 10.0, 4.0, 5.0],
]


def test_known_values() -> None:
    s = summarize([2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0])
    assert (s.rounds, s.median, s.min, s.max, s.mean) == (8, 4.5, 2.0, 9.0, 5.0)
    # sample stddev of this classic series: sqrt(32 / 7)
    assert s.stddev == pytest.approx(math.sqrt(32 / 7))
    assert s.cv == pytest.approx(math.sqrt(32 / 7) / 5.0)
    assert median([3.0, 1.0, 2.0]) == 2.0
    assert coefficient_of_variation([4.0, 4.0, 4.0]) == 0.0


def test_single_value_has_no_spread() -> None:
    s = summarize([3.5])
    assert (s.stddev, s.cv, s.q1, s.q3, s.iqr) == (0.0, 0.0, 3.5, 3.5, 0.0)


@pytest.mark.parametrize("data", SERIES, ids=lambda d: f"n{len(d)}")
def test_matches_pytest_benchmark(data: list[float]) -> None:
    theirs = Stats()
    for value in data:
        theirs.update(value)
    ours = summarize(data)
    assert quartiles(data) == pytest.approx((theirs.q1, theirs.q3))
    for name in ("min", "max", "mean", "median", "stddev", "rounds", "iqr"):
        assert getattr(ours, name) == pytest.approx(getattr(theirs, name)), name
    assert ours.cv == pytest.approx(statistics.stdev(data) / statistics.mean(data) if len(data) > 1 else 0.0)


def test_empty_series_is_a_clear_error() -> None:
    with pytest.raises(BenchError, match="no measurements"):
        summarize([])
