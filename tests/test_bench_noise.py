"""The machine's noise floor: the probe's timing and calibration, where the runner samples it, and what
the report concludes from it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pytest_rules_rust.bench.noise import NoiseFloor, NoiseProbe, count
from pytest_rules_rust.bench.report import render_report
from pytest_rules_rust.bench.results import BenchPoint, BenchResults, PointKey, Sample
from pytest_rules_rust.bench.runner import BenchBinary, BenchSettings, Cell, cells_for, run_benchmarks


class StepClock:
    """A clock that advances by the work done: ``work(n)`` costs ``n * per_iteration`` seconds."""

    def __init__(self, per_iteration: float) -> None:
        self.now = 0.0
        self.per_iteration = per_iteration
        self.calls: list[int] = []

    def __call__(self) -> float:
        return self.now

    def work(self, iterations: int) -> None:
        self.calls.append(iterations)
        self.now += iterations * self.per_iteration


def test_calibration_picks_the_iterations_for_the_chunk_length_and_keeps_them() -> None:
    clock = StepClock(per_iteration=1e-7)
    probe = NoiseProbe(chunk_s=0.02, clock=clock, work=clock.work)
    assert probe.calibrate() == 200_000
    probe.sample(3)
    assert clock.calls[-3:] == [200_000] * 3
    floor = probe.floor()
    assert floor == NoiseFloor(chunks=3, chunk_s=pytest.approx(0.02), cv=pytest.approx(0.0, abs=1e-9))


def test_floor_is_the_cv_of_the_chunks_and_needs_two() -> None:
    ticks = iter([0.0, 1.0, 1.0, 4.0])
    probe = NoiseProbe(iterations=1, clock=lambda: next(ticks), work=lambda _n: None)
    probe.sample(1)
    assert probe.floor() is None
    probe.sample(1)
    floor = probe.floor()
    assert floor is not None and (floor.chunks, floor.chunk_s) == (2, 2.0)
    assert floor.cv == pytest.approx(2**0.5 / 2)  # stdev of (1, 3) over their mean


def test_real_probe_times_real_work() -> None:
    assert count(10) == sum(i & 7 for i in range(10))
    probe = NoiseProbe(chunk_s=0.005)
    probe.sample(4)
    floor = probe.floor()
    assert floor is not None and floor.chunks == 4
    assert 0.0005 < floor.chunk_s < 0.5, floor
    assert floor.cv >= 0.0


def test_floor_json_round_trip_and_foreign_input() -> None:
    floor = NoiseFloor(chunks=40, chunk_s=0.021, cv=0.12)
    assert NoiseFloor.from_json(json.loads(json.dumps(floor.to_json()))) == floor
    assert NoiseFloor.from_json(None) is None
    assert NoiseFloor.from_json({"chunks": 3}) is None
    assert NoiseFloor.from_json({"chunks": "x", "chunk_s": 1, "cv": 0}) is None


def _binary(allocator: str) -> BenchBinary:
    return BenchBinary("c", "x86_64-unknown-linux-musl", allocator, Path(f"/nonexistent/{allocator}"))


def _sample(cell: Cell, ops_per_s: float) -> Sample:
    line = {
        "workload": cell.workload,
        "allocator": cell.binary.allocator,
        "threads": cell.threads,
        "ops": 1000,
        "elapsed_s": 0.1,
        "ops_per_s": ops_per_s,
        "user_s": 0.1,
        "sys_s": 0.0,
        "max_rss_kib": 1000,
        "target": cell.binary.target,
    }
    return Sample.from_json_line(json.dumps(line))


def test_runner_probes_before_every_round_and_at_the_end() -> None:
    settings = BenchSettings(workloads=("larson",), threads=(1, 2), repeats=3, warmup=1, noise_chunks=2)
    binaries = [_binary("system"), _binary("jemalloc")]
    events: list[str] = []
    probe = NoiseProbe(iterations=1, clock=lambda: float(len(events)), work=lambda _n: events.append("probe"))

    def execute(cell: Cell, _ops: int, _timeout: float) -> Sample:
        events.append("run")
        return _sample(cell, 1e6)

    results = run_benchmarks(binaries, settings, execute=execute, probe=probe)
    per_round = len(cells_for(binaries, settings))
    rounds = settings.warmup + settings.repeats
    expected = (["probe"] * 2 + ["run"] * per_round) * rounds + ["probe"] * 2
    assert events == expected
    assert results.noise_floor is not None and results.noise_floor.chunks == 2 * (rounds + 1)


def test_no_probe_when_noise_chunks_is_zero() -> None:
    settings = BenchSettings(workloads=("larson",), threads=(1,), repeats=1, warmup=0, noise_chunks=0)
    results = run_benchmarks([_binary("system")], settings, execute=lambda c, _o, _t: _sample(c, 1e6))
    assert results.noise_floor is None
    assert "not probed" in render_report(results)


def _results(cvs: tuple[float, ...], floor: NoiseFloor | None) -> BenchResults:
    points = []
    for threads, spread in enumerate(cvs, 1):
        cell = Cell(_binary("system"), "larson", threads)
        values = (1e6 * (1 - spread), 1e6, 1e6 * (1 + spread))
        key = PointKey("c", cell.binary.target, "larson", "system", threads)
        points.append(BenchPoint(key, tuple(_sample(cell, v) for v in values)))
    return BenchResults(points=tuple(points), noise_floor=floor)


@pytest.mark.parametrize(
    ("cvs", "floor_cv", "says"),
    [
        ((0.2, 0.001), 0.15, "Its speed changed during the session"),
        ((0.2, 0.001), 0.004, "comes from the benchmark itself"),
        ((0.001, 0.002), 0.004, "varied by CV 0.4 %. Points cannot be expected to be steadier"),
    ],
)
def test_report_reads_point_cvs_against_the_floor(cvs: tuple[float, ...], floor_cv: float, says: str) -> None:
    floor = NoiseFloor(chunks=48, chunk_s=0.02, cv=floor_cv)
    report = render_report(_results(cvs, floor))
    assert says in report
    assert "timed 48 times in 20 ms chunks" in report
    others = {"Its speed changed during the session", "comes from the benchmark itself"} - {says}
    assert not any(o in report for o in others)


def test_results_without_a_floor_still_load(tmp_path: Path) -> None:
    results = _results((0.01,), None)
    path = results.write_json(tmp_path / "results.json")
    assert "noise_floor" not in json.loads(path.read_text())["machine_info"]
    assert BenchResults.load(path).noise_floor is None
