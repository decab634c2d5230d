"""Ratio intervals and verdicts: on a real recorded session, and their properties on simulated noise.

``tests/data/bench/recorded-c-x86_64.json`` is a real ``bench`` session of the C twin (larson, 1 and
4 threads, 20 interleaved rounds) recorded on the project's shared 2-core VM while other jobs ran;
the simulations draw from a seeded generator with a known true ratio, so coverage can be counted.
"""

from __future__ import annotations

import math
import random
import statistics
from pathlib import Path

import pytest

from pytest_rules_rust.bench.intervals import NOT_DISTINGUISHABLE, ratio_interval
from pytest_rules_rust.bench.pairs import Pair, pair_ratios
from pytest_rules_rust.bench.report import render_report
from pytest_rules_rust.bench.results import BenchResults
from pytest_rules_rust.errors import BenchError, UsageError

RECORDED = Path(__file__).parent / "data" / "bench" / "recorded-c-x86_64.json"


@pytest.fixture(scope="module")
def recorded() -> BenchResults:
    return BenchResults.load(RECORDED)


def throughputs(results: BenchResults, allocator: str, threads: int) -> list[float]:
    return [s.ops_per_s for s in results.point(allocator, threads).samples]


def test_recorded_session_ratio_is_the_ratio_of_medians_inside_its_interval(recorded: BenchResults) -> None:
    for threads in (1, 4):
        jem, musl = throughputs(recorded, "jemalloc", threads), throughputs(recorded, "system", threads)
        iv = recorded.ratio("jemalloc", threads=threads)
        assert iv.ratio == pytest.approx(statistics.median(jem) / statistics.median(musl))
        assert iv.ratio == pytest.approx(recorded.speedup("jemalloc", threads=threads))
        assert iv.low < iv.ratio < iv.high
        # A percentile interval of medians cannot reach past the most extreme per-round ratios.
        per_round = [a / b for a, b in zip(jem, musl, strict=True)]
        assert min(per_round) <= iv.low and iv.high <= max(per_round)
        assert iv.rounds == 20 and iv.level == 0.95


def test_recorded_session_verdicts(recorded: BenchResults) -> None:
    ratios = {(r.label, r.key.threads): r.interval for r in pair_ratios(recorded)}
    assert set(ratios) == {(f"{a}/system", t) for a in ("jemalloc", "mimalloc") for t in (1, 4)}
    # musl's malloc loses to both thread-caching allocators at 4 threads, beyond any doubt.
    for alloc in ("jemalloc", "mimalloc"):
        assert ratios[(f"{alloc}/system", 4)].verdict == "faster"
        assert ratios[(f"{alloc}/system", 4)].low > 2
    # A point against itself is never distinguishable from 1.
    twice = throughputs(recorded, "jemalloc", 4)
    assert ratio_interval(twice, twice).verdict == NOT_DISTINGUISHABLE


def test_recorded_session_in_the_report_leads(recorded: BenchResults) -> None:
    report = render_report(recorded)
    verdicts = report.index("## Verdicts")
    assert verdicts < report.index("## Contention counters") < report.index("## Throughput")
    iv = recorded.ratio("jemalloc", threads=4)
    cpu = recorded.ratio("jemalloc", threads=4, metric="cpu")
    assert f"| jemalloc/system | 4 | {iv.text()} | faster | {cpu.text()} |" in report
    assert f"{iv.text()} at 4 threads" in report  # the claim section quotes the interval too


def test_the_interval_follows_the_data_not_the_order() -> None:
    rng = random.Random(7)
    a = [rng.lognormvariate(math.log(5.0), 0.2) for _ in range(12)]
    b = [rng.lognormvariate(0.0, 0.2) for _ in range(12)]
    iv = ratio_interval(a, b)
    # Scaling one side scales the ratio and both ends exactly.
    scaled = ratio_interval([3 * x for x in a], b)
    assert (scaled.ratio, scaled.low, scaled.high) == pytest.approx((3 * iv.ratio, 3 * iv.low, 3 * iv.high))
    # Swapping the sides inverts it: the same resampled rounds, each ratio inverted.
    swapped = ratio_interval(b, a)
    assert (swapped.ratio, swapped.low, swapped.high) == pytest.approx(
        (1 / iv.ratio, 1 / iv.high, 1 / iv.low)
    )
    # Seeded: the same data gives the same interval.
    assert ratio_interval(a, b) == iv


def test_verdict_never_claims_more_than_the_interval() -> None:
    rng = random.Random(11)
    for _ in range(200):
        n = rng.randint(2, 12)
        true = rng.choice([0.5, 0.9, 1.0, 1.1, 2.0])
        a = [true * rng.lognormvariate(0, 0.3) for _ in range(n)]
        b = [rng.lognormvariate(0, 0.3) for _ in range(n)]
        iv = ratio_interval(a, b, resamples=400, seed=rng.randrange(1 << 30))
        assert iv.low <= iv.ratio <= iv.high
        if iv.verdict == "faster":
            assert iv.low > 1
        elif iv.verdict == "slower":
            assert iv.high < 1
        else:
            assert iv.low <= 1 <= iv.high


@pytest.mark.parametrize("paired", [True, False])
def test_intervals_cover_the_true_ratio_under_drift_and_noise(paired: bool) -> None:
    """A shared machine: each round's speed drifts (hitting both sides alike), each run adds its own noise."""
    rng = random.Random(3 if paired else 4)
    true, trials, n = 4.0, 200, 10
    covered, wrong_verdicts, widths = 0, 0, []
    for trial in range(trials):
        drift = [rng.lognormvariate(0, 0.3) for _ in range(n)]
        a = [true * d * rng.lognormvariate(0, 0.15) for d in drift]
        b = [d * rng.lognormvariate(0, 0.15) for d in drift]
        iv = ratio_interval(a, b, paired=paired, resamples=500, seed=trial)
        covered += iv.low <= true <= iv.high
        wrong_verdicts += iv.verdict == "slower"
        widths.append(iv.high / iv.low)
    assert covered / trials >= 0.90, f"95 % intervals covered the true ratio only {covered}/{trials} times"
    assert wrong_verdicts == 0
    if paired:
        # Pairing the rounds cancels the drift: clearly narrower than resampling the sides apart.
        apart = []
        for trial in range(50):
            drift = [rng.lognormvariate(0, 0.3) for _ in range(n)]
            a = [true * d * rng.lognormvariate(0, 0.15) for d in drift]
            b = [d * rng.lognormvariate(0, 0.15) for d in drift]
            both = (
                ratio_interval(a, b, resamples=500, seed=trial),
                ratio_interval(a, b, paired=False, resamples=500, seed=trial),
            )
            apart.append((both[0].high / both[0].low, both[1].high / both[1].low))
        assert statistics.median(p for p, _ in apart) < statistics.median(u for _, u in apart)


def test_more_rounds_narrow_the_interval() -> None:
    rng = random.Random(5)
    medians = {}
    for n in (5, 20, 80):
        widths = []
        for trial in range(40):
            a = [2.0 * rng.lognormvariate(0, 0.25) for _ in range(n)]
            b = [rng.lognormvariate(0, 0.25) for _ in range(n)]
            widths.append(ratio_interval(a, b, resamples=300, seed=trial).half_width)
        medians[n] = statistics.median(widths)
    assert medians[5] > medians[20] > medians[80]


def test_bad_inputs_are_named() -> None:
    with pytest.raises(BenchError, match="both sides"):
        ratio_interval([], [1.0])
    with pytest.raises(BenchError, match="same rounds"):
        ratio_interval([1.0, 2.0], [1.0])
    with pytest.raises(BenchError, match="0 or less"):
        ratio_interval([1.0], [0.0])
    with pytest.raises(UsageError, match="bad allocator pair"):
        Pair.parse("jemalloc")
    assert ratio_interval([1.0, 2.0], [1.0], paired=False).rounds == 1
