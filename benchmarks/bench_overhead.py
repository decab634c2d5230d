"""Measure the benchmark harness itself: its overhead over running the binary by hand, and the CV per point.

    .venv/bin/python benchmarks/bench_overhead.py [--target TRIPLE] [--runs N] [--ops N] [--rust]

1. Overhead (goal ≤ 2 %): for a few cells of the C twin, alternate blocks of runs "by hand" (the
   binary started by /bin/sh, as a user would type it, timed around the process) and through the
   harness (``run_benchmarks``: spawn, parse, check, group, statistics), and compare the wall time
   per run and the throughput each reports. Blocks alternate so machine drift hits both alike.
2. Coefficient of variation per point at the default settings (goal ≤ 3 % on an idle machine):
   a full ``run_benchmarks`` with ``BenchSettings()`` on the C twin (and the Rust program when the
   cargo builder exists and ``--rust`` is given), one line per point.

Prints figures; asserts nothing. The machine's load average is printed alongside: on a shared
2-core machine the CV goal needs an idle machine.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from pytest_rules_rust.bench.binaries import rust_binaries
from pytest_rules_rust.bench.ctwin import build_c_twin
from pytest_rules_rust.bench.runner import BenchBinary, BenchSettings, run_benchmarks
from pytest_rules_rust.cache import Cache


def by_hand(binary: BenchBinary, workload: str, threads: int, ops: int) -> tuple[float, float]:
    """Wall seconds and reported ops/s of one run started the way a user would: a shell command."""
    cmd = f"{binary.path} --workload {workload} --threads {threads} --ops {ops}"
    start = time.perf_counter()
    out = subprocess.run(["/bin/sh", "-c", cmd], capture_output=True, text=True, check=True).stdout
    wall = time.perf_counter() - start
    return wall, float(json.loads(out.strip().splitlines()[-1])["ops_per_s"])


def harness(
    binary: BenchBinary, workload: str, threads: int, ops: int, runs: int
) -> tuple[float, list[float]]:
    """Wall seconds per run and ops/s per run through ``run_benchmarks`` (no warm-up, so runs match)."""
    settings = BenchSettings(workloads=(workload,), threads=(threads,), ops=ops, repeats=runs, warmup=0)
    start = time.perf_counter()
    results = run_benchmarks([binary], settings)
    wall = (time.perf_counter() - start) / runs
    return wall, [s.ops_per_s for s in results.points[0].samples]


def measure_overhead(binaries: tuple[BenchBinary, ...], ops: int, runs: int, blocks: int) -> None:
    print(f"== harness overhead ({blocks} alternating blocks of {runs} runs per side, {ops} ops/thread)")
    print(
        f"{'cell':44} {'wall/run hand':>13} {'harness':>9} {'overhead':>9} {'Mops/s hand':>12} {'harness':>9}"
    )
    worst = 0.0
    for binary in binaries:
        for workload, threads in (("larson", 1), ("larson", 2)):
            hand_wall: list[float] = []
            hand_ops: list[float] = []
            h_wall: list[float] = []
            h_ops: list[float] = []
            for _ in range(blocks):
                for _ in range(runs):
                    w, o = by_hand(binary, workload, threads, ops)
                    hand_wall.append(w)
                    hand_ops.append(o)
                w, os_ = harness(binary, workload, threads, ops, runs)
                h_wall += [w] * runs
                h_ops += os_
            hw, hh = statistics.median(hand_wall), statistics.median(h_wall)
            overhead = (hh - hw) / hw
            worst = max(worst, overhead)
            name = f"{binary.impl} {binary.allocator} {workload} {threads}t"
            print(
                f"{name:44} {hw * 1000:11.1f}ms {hh * 1000:7.1f}ms {overhead * 100:8.2f}% "
                f"{statistics.median(hand_ops) / 1e6:12.2f} {statistics.median(h_ops) / 1e6:9.2f}"
            )
    print(f"worst wall-time overhead per run: {worst * 100:.2f} % (goal ≤ 2 %)")


def measure_cv(binaries: tuple[BenchBinary, ...], settings: BenchSettings) -> None:
    print(f"== coefficient of variation per point ({settings.to_json()})")
    results = run_benchmarks(binaries, settings, progress=None)
    cvs = []
    for p in results.points:
        cvs.append(p.throughput.cv)
        flag = "" if p.throughput.cv <= 0.03 else "  > 3 %"
        print(f"{p.key.name:64} {p.ops_per_s / 1e6:8.2f} Mops/s  CV {p.throughput.cv * 100:5.2f} %{flag}")
    within = sum(1 for c in cvs if c <= 0.03)
    print(
        f"CV: median {statistics.median(cvs) * 100:.2f} %, worst {max(cvs) * 100:.2f} %, "
        f"{within}/{len(cvs)} points ≤ 3 % (goal: all, idle machine); session {results.duration_s:.0f} s"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", default="x86_64-unknown-linux-musl")
    parser.add_argument("--runs", type=int, default=5, help="runs per block in the overhead measurement")
    parser.add_argument("--blocks", type=int, default=3, help="alternating blocks per side")
    parser.add_argument("--ops", type=int, default=BenchSettings().ops, help="allocations per thread")
    parser.add_argument("--rust", action="store_true", help="also measure the Rust program (cargo builder)")
    parser.add_argument("--cv-only", action="store_true")
    parser.add_argument("--overhead-only", action="store_true")
    args = parser.parse_args(argv)
    print(f"load average at start: {os.getloadavg()}, {os.cpu_count()} CPUs")
    cache = Cache()
    binaries = build_c_twin(args.target, cache)
    if args.rust:
        with tempfile.TemporaryDirectory() as tmp:
            binaries += rust_binaries(args.target, ("system", "jemalloc", "mimalloc"), cache, Path(tmp))
            return _run(args, binaries)
    return _run(args, binaries)


def _run(args: argparse.Namespace, binaries: tuple[BenchBinary, ...]) -> int:
    if not args.cv_only:
        picked = tuple(b for b in binaries if b.allocator in ("system", "jemalloc"))
        measure_overhead(picked, args.ops, args.runs, args.blocks)
    if not args.overhead_only:
        measure_cv(binaries, BenchSettings(ops=args.ops))
    print(f"load average at end: {os.getloadavg()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
