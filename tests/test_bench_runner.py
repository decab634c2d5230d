"""The runner's schedule: warm-up discarded, interleaved rounds, the injected clock.

The benchmark program is replaced here only to observe the order the runner chooses; real runs
of real binaries are in test_bench_results.py.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from pytest_rules_rust.bench.results import Sample
from pytest_rules_rust.bench.runner import (
    BenchBinary,
    BenchSettings,
    Cell,
    cells_for,
    interleaved_order,
    run_benchmarks,
)
from pytest_rules_rust.errors import BenchError

X86 = "x86_64-unknown-linux-musl"


def _binaries() -> list[BenchBinary]:
    return [BenchBinary("c", X86, a, Path(f"/nonexistent/{a}")) for a in ("system", "jemalloc")]


def test_every_round_runs_every_cell_once_in_a_different_order() -> None:
    settings = BenchSettings(workloads=("larson", "xmalloc"), threads=(1, 2, 4), repeats=4, warmup=1)
    cells = cells_for(_binaries(), settings)
    assert len(cells) == 2 * 2 * 3
    order = interleaved_order(cells, settings.repeats, settings.warmup)
    assert len(order) == len(cells) * 5
    rounds: dict[int, list[Cell]] = {}
    for run in order:
        rounds.setdefault(run.round, []).append(run.cell)
        assert run.warmup == (run.round == 0)
    orders = [tuple(cs) for _, cs in sorted(rounds.items())]
    for cs in orders:
        assert Counter(cs) == Counter(cells)
    assert len(set(orders)) == len(orders), "consecutive rounds must not repeat one order"
    # No cell is measured twice in a row across a round boundary with the same neighbour pattern:
    # each cell's position moves from round to round.
    positions = {c: [o.index(c) for o in orders] for c in cells}
    assert all(len(set(p)) > 1 for p in positions.values())


def test_the_allocators_of_a_point_run_back_to_back_in_every_round() -> None:
    binaries = [*_binaries(), BenchBinary("c", X86, "mimalloc", Path("/nonexistent/mimalloc"))]
    settings = BenchSettings(workloads=("larson", "xmalloc"), threads=(1, 2, 4), repeats=7, warmup=1)
    order = interleaved_order(cells_for(binaries, settings), settings.repeats, settings.warmup)
    first_in_round: Counter[str] = Counter()
    for r in range(8):
        cells = [run.cell for run in order if run.round == r]
        points = [(c.workload, c.threads) for c in cells]
        # Each point's three allocators form one block: the pair runs close in time, drift cancels.
        blocks = [points[i] for i in range(len(points)) if i == 0 or points[i] != points[i - 1]]
        assert len(blocks) == len(set(blocks)) == 6, cells
        first_in_round[cells[0].binary.allocator] += 1
    assert len(first_in_round) > 1, "the same allocator must not always run first"


def test_run_uses_the_schedule_drops_warmup_and_reads_the_clock() -> None:
    settings = BenchSettings(workloads=("larson",), threads=(1, 4), repeats=3, warmup=2, ops=1000)
    seen: list[tuple[str, int]] = []
    ticks = iter(range(1000))

    def clock() -> float:
        return float(next(ticks))

    def execute(cell: Cell, ops: int, timeout: float) -> Sample:
        seen.append((cell.binary.allocator, cell.threads))
        n = len(seen)
        line = {
            "workload": cell.workload,
            "allocator": cell.binary.allocator,
            "threads": cell.threads,
            "ops": ops * cell.threads,
            "elapsed_s": 0.5,
            "ops_per_s": float(n),  # the call number: tells measured runs from warm-up ones
            "user_s": 0.1,
            "sys_s": 0.0,
            "max_rss_kib": 1000 + n,
            "target": cell.binary.target,
        }
        return Sample.from_json_line(json.dumps(line))

    results = run_benchmarks(_binaries(), settings, clock=clock, execute=execute)
    cells = cells_for(_binaries(), settings)
    expected = interleaved_order(cells, 3, 2)
    assert seen == [(r.cell.binary.allocator, r.cell.threads) for r in expected]
    assert len(results.points) == len(cells)
    warm = 2 * len(cells)
    for point in results.points:
        assert point.throughput.rounds == 3
        assert min(s.ops_per_s for s in point.samples) > warm, "warm-up runs must be discarded"
    # The injected clock is read once at the start and once at the end of the session.
    assert results.duration_s == 1.0
    assert results.settings["warmup"] == 2


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"workloads": ("nope",)}, "unknown workload"),
        ({"threads": (0,)}, "thread counts"),
        ({"repeats": 0}, "repeats must be"),
        ({"threads": ()}, "nothing to run"),
    ],
)
def test_bad_settings_are_named(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(BenchError, match=message):
        BenchSettings(**kwargs)  # type: ignore[arg-type]


def test_emulated_flag_follows_the_target_arch() -> None:
    from pytest_rules_rust.platforms import Platform

    for triple in (X86, "aarch64-unknown-linux-musl"):
        foreign = Platform.parse(triple) != Platform.host()
        assert BenchBinary("c", triple, "system", Path("x")).emulated == foreign
    settings = BenchSettings()
    assert settings.ops_for(emulated=True) == settings.ops // settings.emulated_ops_divisor


def test_fixture_request_follows_the_session_settings() -> None:
    from pytest_rules_rust.plugin.bench import request_from_settings
    from pytest_rules_rust.settings import Settings

    settings = Settings(platforms=("linux/amd64", "linux/arm64"), bench_threads=(1, 4), bench_quick=True)
    request = request_from_settings(settings, None)
    assert request.targets == (X86, "aarch64-unknown-linux-musl")
    assert request.threads == (1, 4) and request.quick
    assert request.settings().workloads == ("larson",)
    assert request.settings().repeats == 6
