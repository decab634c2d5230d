"""Contention counters: the kernel's accounting of real processes, and futex calls counted by strace.

Real programs throughout: a shell that sleeps (each sleep is a voluntary context switch), the C
twin of the allocator benchmark (musl's malloc against jemalloc at 4 threads), and strace.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import pytest
from bench_helpers import X86_MUSL, c_twin

from pytest_rules_rust.bench.accounting import run_accounted, spawn_command
from pytest_rules_rust.bench.futex import unavailable
from pytest_rules_rust.bench.plots import counters_file_name
from pytest_rules_rust.bench.results import BenchResults
from pytest_rules_rust.bench.runner import BenchSettings, run_benchmarks
from pytest_rules_rust.bench.session import write_outputs
from pytest_rules_rust.cache import Cache
from pytest_rules_rust.errors import BenchError


def test_voluntary_switches_count_the_sleeps_of_the_program_and_its_children() -> None:
    done = run_accounted(
        spawn_command(["sh", "-c", "for i in 1 2 3 4 5 6 7 8 9 10; do sleep 0.01; done"]), 30
    )
    assert done.returncode == 0
    # Every sleep blocks its process at least once; the sleeps are grandchildren, still counted.
    assert done.accounting.voluntary_csw >= 10
    assert done.accounting.minor_faults > 0


def test_a_timeout_ends_the_shell_and_the_program_it_started(tmp_path: Path) -> None:
    pid_file = tmp_path / "pid"
    start = time.monotonic()
    with pytest.raises(BenchError, match="exceeded 1 s"):
        run_accounted(spawn_command(["sh", "-c", f"echo $$ > {pid_file}; exec sleep 60"]), 1.0)
    assert time.monotonic() - start < 10
    pid = int(pid_file.read_text())
    for _ in range(50):  # the kill is sent; give the kernel a moment to reap the orphan
        if not Path(f"/proc/{pid}").exists() or "State:\tZ" in Path(f"/proc/{pid}/status").read_text():
            break
        time.sleep(0.1)
    else:
        os.kill(pid, 9)
        pytest.fail(f"the benchmark process {pid} outlived its timeout")


def test_without_strace_the_note_says_why(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    assert "strace is not installed" in unavailable()


@pytest.mark.musl
def test_musl_contention_shows_in_the_counters(tmp_path: Path) -> None:
    if unavailable():
        pytest.skip(f"futex calls cannot be counted here: {unavailable()}")
    binaries = tuple(b for b in c_twin(X86_MUSL, Cache()) if b.allocator in ("system", "jemalloc"))
    settings = BenchSettings(
        workloads=("larson",), threads=(1, 4), ops=50_000, repeats=3, futex_ops_divisor=2
    )
    results = run_benchmarks(binaries, settings)
    assert "strace -f -c -e trace=futex" in results.futex_note
    for p in results.points:
        assert p.futex is not None and p.futex.ops == 25_000 * p.key.threads
        assert all(s.voluntary_csw is not None and s.involuntary_csw is not None for s in p.samples)
    musl, jem = results.point("system", 4), results.point("jemalloc", 4)
    assert musl.futex is not None and jem.futex is not None
    # musl's one lock: threads sleep on it in futex; jemalloc's per-thread caches hardly ever do.
    assert musl.futex.per_op > 5 * jem.futex.per_op, (musl.futex, jem.futex)
    single = results.point("system", 1).futex
    assert single is not None and single.per_op < musl.futex.per_op / 10

    outcome = write_outputs(results, tmp_path)
    info = {e["name"]: e["extra_info"] for e in json.loads(outcome.json_path.read_text())["benchmarks"]}
    extra = info[musl.key.name]
    assert extra["futex"]["calls"] == musl.futex.calls
    assert extra["voluntary_csw_per_op"] == pytest.approx(musl.per_op("voluntary_csw"))
    assert extra["involuntary_csw_per_op"] is not None and extra["sys_s"] >= 0
    assert info[jem.key.name]["vs_system"]["verdict"] in ("faster", "slower", "not distinguishable")
    again = BenchResults.load(outcome.json_path)
    assert again.point("system", 4).futex == musl.futex and again.futex_note == results.futex_note
    assert (tmp_path / counters_file_name("c", X86_MUSL, "larson")).stat().st_size > 10_000
    report = outcome.report_path.read_text()
    assert (
        "## Contention counters" in report
        and f"| system | 4 | {musl.per_op('voluntary_csw') * 1000:.3g} |" in report
    )
    header = outcome.csv_path.read_text().splitlines()[0]
    assert header.endswith("voluntary_csw,involuntary_csw,minor_faults")


def test_strace_is_what_counts_futex_calls() -> None:
    if shutil.which("strace") is None:
        pytest.skip("strace is not installed: the futex count is then reported as not available")
    from pytest_rules_rust.bench.futex import count_futex

    # A shell with no threads makes (almost) no futex call; the count parses even when it is zero.
    assert count_futex(["sh", "-c", "true"], 1, 30).calls <= 2
