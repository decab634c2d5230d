"""Real short runs of the C twin: pytest-benchmark schema, CSV, speedup, plots, report, emulation."""

from __future__ import annotations

import csv
import logging
import statistics
import subprocess
import sys
from pathlib import Path

import pytest
from bench_helpers import ARM_MUSL, X86_MUSL, c_twin, png_size, require_arm64_emulation, short_run
from pytest_benchmark.stats import Stats
from pytest_benchmark.storage.file import FileStorage

from pytest_rules_rust.bench.results import CSV_COLUMNS, EMULATED_NOTE, BenchResults
from pytest_rules_rust.bench.session import write_outputs
from pytest_rules_rust.cache import Cache
from pytest_rules_rust.errors import BenchError
from pytest_rules_rust.inspect.elf import inspect_binary

pytestmark = pytest.mark.musl


@pytest.fixture(scope="module")
def x86_outcome(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    binaries = c_twin(X86_MUSL, Cache())
    return write_outputs(short_run(binaries), tmp_path_factory.mktemp("bench-x86"))


def test_c_twin_links_the_allocator_its_name_says(x86_outcome) -> None:  # type: ignore[no-untyped-def]
    for allocator in ("system", "jemalloc", "mimalloc"):
        info = inspect_binary(
            c_twin(X86_MUSL, Cache())[("system", "jemalloc", "mimalloc").index(allocator)].path
        )
        assert info.libc == "musl" and info.static, info.summary
        expected = () if allocator == "system" else (allocator,)
        assert tuple(info.allocators) == expected, info.evidence


def test_json_loads_with_pytest_benchmark_and_matches_its_stats(x86_outcome) -> None:  # type: ignore[no-untyped-def]
    storage = FileStorage(x86_outcome.out_dir, logger=logging.getLogger("bench-test"))
    loaded = list(storage.load_benchmarks(str(x86_outcome.json_path)))
    assert len(loaded) == len(x86_outcome.results.points) == 3 * 2
    for bench in loaded:
        theirs = Stats()
        for value in bench["data"]:
            theirs.update(value)
        for name in Stats.fields:
            expected = getattr(theirs, name)
            assert bench[name] == (expected if isinstance(expected, str) else pytest.approx(expected)), name
        info = bench["extra_info"]
        for key in ("allocator", "threads", "target", "workload", "ops_per_s", "rss_kib", "emulated"):
            assert key in info, key
        assert info["emulated"] is False and info["target"] == X86_MUSL
        runs = info["runs"]
        assert info["ops_per_s"] == pytest.approx(statistics.median(r["ops_per_s"] for r in runs))
        assert bench["data"] == [r["elapsed_s"] for r in runs]


def test_pytest_benchmark_compare_reads_it(x86_outcome) -> None:  # type: ignore[no-untyped-def]
    exe = Path(sys.executable).with_name("pytest-benchmark")
    proc = subprocess.run(
        [str(exe), "compare", "--columns=min,median,max", str(x86_outcome.json_path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    for point in x86_outcome.results.points:
        assert point.key.name in proc.stdout


def test_round_trip_csv_and_speedup(x86_outcome) -> None:  # type: ignore[no-untyped-def]
    results = x86_outcome.results
    again = BenchResults.load(x86_outcome.json_path)
    assert again.points == results.points
    # The noise probe ran before each of the 4 rounds and at the end, 3 chunks each (real timings).
    assert results.noise_floor is not None and results.noise_floor.chunks == 5 * 3
    assert results.noise_floor.chunk_s > 0
    assert again.noise_floor == results.noise_floor and "noise_floor" not in again.machine
    rows = list(csv.DictReader(x86_outcome.csv_path.open()))
    assert tuple(rows[0].keys())[:6] == ("test", "alloc", "elapsed", "rss", "user", "sys")
    assert tuple(rows[0].keys()) == CSV_COLUMNS
    assert len(rows) == sum(len(p.samples) for p in results.points)
    assert {r["alloc"] for r in rows} == {"system", "jemalloc", "mimalloc"}
    for threads in (1, 2):
        by = {
            p.key.allocator: statistics.median(s.ops_per_s for s in p.samples)
            for p in results.select(threads=threads)
        }
        assert results.speedup("jemalloc", over="system", threads=threads) == pytest.approx(
            by["jemalloc"] / by["system"]
        )
    with pytest.raises(BenchError, match="no point") as info:
        results.speedup("jemalloc", over="system", threads=64)
    assert "larson-system-1t" in info.value.hint


def test_plots_and_report(x86_outcome) -> None:  # type: ignore[no-untyped-def]
    assert [p.name.split("-")[0] for p in x86_outcome.plots] == ["throughput", "counters"]
    report = x86_outcome.report_path.read_text()
    for plot in x86_outcome.plots:
        width, height = png_size(plot)
        assert width >= 800 and height >= 300
        assert plot.stat().st_size > 10_000
        assert plot.name in report
    assert "at least 10x slower" in report
    interval = x86_outcome.results.ratio("jemalloc", threads=2)
    assert f"{interval.text()} at 2 threads" in report
    floor = x86_outcome.results.noise_floor
    assert f"varied by CV {floor.cv * 100:.1f} %" in report
    assert EMULATED_NOTE not in report


@pytest.mark.cross
def test_aarch64_runs_under_qemu_and_is_marked_emulated(tmp_path: Path) -> None:
    require_arm64_emulation()
    binaries = c_twin(ARM_MUSL, Cache())
    assert inspect_binary(binaries[0].path).machine == "aarch64"
    outcome = write_outputs(short_run(binaries), tmp_path)
    assert outcome.results.points and all(p.emulated for p in outcome.results.points)
    assert all(p.key.target == ARM_MUSL for p in outcome.results.points)
    assert EMULATED_NOTE in outcome.report_path.read_text()
    assert BenchResults.load(outcome.json_path).emulated
