"""Allocator throughput benchmarks: musl's malloc vs jemalloc vs mimalloc, x86_64 and aarch64.

Stages, one module each: ``ctwin`` and ``binaries`` (what to run), ``runner`` (warm-up, repeats,
interleaved order), ``stats`` and ``results`` (values, pytest-benchmark JSON, CSV), ``plots`` and
``report`` (PNG, report.md), ``session`` (all of it, for the CLI and the ``alloc_bench`` fixture).
"""

from .results import BenchPoint, BenchResults, PointKey, Sample
from .runner import BenchBinary, BenchSettings, run_benchmarks
from .session import BenchOutcome, BenchRequest, run_bench_session, write_outputs

__all__ = [
    "BenchBinary",
    "BenchOutcome",
    "BenchPoint",
    "BenchRequest",
    "BenchResults",
    "BenchSettings",
    "PointKey",
    "Sample",
    "run_bench_session",
    "run_benchmarks",
    "write_outputs",
]
