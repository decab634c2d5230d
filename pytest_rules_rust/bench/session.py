"""One benchmark session, end to end: binaries → interleaved runs → results.json, CSV, plots, report.md.

``run_bench_session(request, out_dir)`` is what ``python -m pytest_rules_rust bench`` and the
``alloc_bench`` fixture both call.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..cache import Cache
from ..containers.emulation import require_emulation
from ..platforms import Platform, triple_libc
from ..progress import Progress
from .binaries import binaries_for
from .ctwin import TARGETS as C_TARGETS
from .ctwin import Where
from .noise import Clock
from .pairs import Pair
from .plots import write_plots
from .report import write_report
from .results import BenchResults
from .runner import ALLOCATORS, BenchBinary, BenchSettings, run_benchmarks


@dataclass(frozen=True)
class BenchRequest:
    """What to measure; ``None`` fields take the defaults of the chosen mode (quick or full)."""

    targets: tuple[str, ...] = ("x86_64-unknown-linux-musl",)
    allocators: tuple[str, ...] = ALLOCATORS
    threads: tuple[int, ...] = (1, 2, 4, 8)
    workloads: tuple[str, ...] | None = None
    repeats: int | None = None
    ops: int | None = None
    quick: bool = False
    impls: tuple[str, ...] | None = None  # None: the C twin on musl targets, plus Rust when a builder exists
    c_build: Where = "auto"
    cache_dir: Path | None = None
    pairs: tuple[Pair, ...] | None = None  # None: every allocator over the system one
    count_futex: bool = True  # one extra strace'd run per point (see .futex)

    def settings(self) -> BenchSettings:
        overrides: dict[str, object] = {"threads": tuple(self.threads)}
        if not self.count_futex:
            overrides["futex_ops_divisor"] = 0
        if self.workloads is not None:
            overrides["workloads"] = tuple(self.workloads)
        if self.repeats is not None:
            overrides["repeats"] = self.repeats
        if self.ops is not None:
            overrides["ops"] = self.ops
        return BenchSettings.quick(**overrides) if self.quick else BenchSettings(**overrides)  # type: ignore[arg-type]

    def impls_for(self, target: str) -> tuple[str, ...]:
        if self.impls is not None:
            return self.impls
        return ("rust", "c") if target in C_TARGETS else ("rust",)


@dataclass(frozen=True)
class BenchOutcome:
    """The results and every file written."""

    results: BenchResults
    out_dir: Path
    json_path: Path
    csv_path: Path
    report_path: Path
    plots: tuple[Path, ...]

    @property
    def files(self) -> tuple[Path, ...]:
        return (self.json_path, self.csv_path, *self.plots, self.report_path)


def check_runnable(target: str) -> None:
    """Validate the triple; a foreign target needs a working qemu binfmt entry (else EmulationError)."""
    platform = Platform.parse(target)
    triple_libc(target)
    if platform.is_foreign():
        require_emulation(platform.cpu)


def write_outputs(
    results: BenchResults, out_dir: Path, pairs: tuple[Pair, ...] | None = None
) -> BenchOutcome:
    """results.json (pytest-benchmark schema), results.csv, the PNG plots, then report.md."""
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path = results.write_json(out_dir / "results.json")
    csv_path = results.write_csv(out_dir / "results.csv")
    plots = tuple(write_plots(results, out_dir))
    report = write_report(results, out_dir, plots, pairs)
    return BenchOutcome(results, out_dir, json_path, csv_path, report, plots)


def collect_binaries(
    request: BenchRequest,
    cache: Cache,
    work_dir: Path,
    *,
    progress: Progress = print,
    build_options: Mapping[str, Any] | None = None,
) -> tuple[BenchBinary, ...]:
    binaries: list[BenchBinary] = []
    for target in request.targets:
        check_runnable(target)
        binaries += binaries_for(
            target,
            request.impls_for(target),
            request.allocators,
            cache,
            work_dir / target,
            where=request.c_build,
            progress=progress,
            build_options=build_options,
        )
    return tuple(binaries)


def run_bench_session(
    request: BenchRequest,
    out_dir: Path,
    *,
    progress: Progress = print,
    clock: Clock = time.perf_counter,
    build_options: Mapping[str, Any] | None = None,
) -> BenchOutcome:
    """Build what is needed, measure, and write every output into ``out_dir``.

    ``build_options`` go to the cargo builder that builds the Rust program (engine, images).
    """
    settings = request.settings()  # validate before building anything
    cache = Cache(request.cache_dir)
    binaries = collect_binaries(
        request, cache, out_dir / "work", progress=progress, build_options=build_options
    )
    results = run_benchmarks(binaries, settings, clock=clock, progress=progress)
    return write_outputs(results, out_dir, request.pairs)
