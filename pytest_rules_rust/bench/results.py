"""Benchmark results as values, and their files: pytest-benchmark JSON and a mimalloc-bench CSV.

A ``Sample`` is one run's JSON line; a ``BenchPoint`` is every measured repeat of one cell
(implementation × target × workload × allocator × threads); ``BenchResults`` holds the points,
answers ``speedup(...)`` and writes/reads ``results.json``. That file is in pytest-benchmark's
schema (``pytest-benchmark compare results.json`` reads it): ``stats`` are per-run wall times in
seconds as the benchmark program measured them, and ``extra_info`` carries the allocator figures.
Our own fields (schema version, settings, raw runs) ride along so ``load()`` gives back the same
``BenchResults``.
"""

from __future__ import annotations

import csv
import io
import json
import statistics
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..errors import BenchError
from ..report import write_atomic
from .accounting import Accounting
from .futex import FutexCount
from .intervals import Metric, RatioInterval, ratio_interval
from .noise import NoiseFloor
from .pairs import pair_ratios
from .stats import Summary, summarize

SCHEMA_VERSION = 1
# The pytest-benchmark release whose JSON layout we write (its loader reads the "benchmarks" list).
PYTEST_BENCHMARK_FORMAT = "5.3.1"
EMULATED_NOTE = "emulated — compare ratios only"
CSV_COLUMNS = (
    "test",
    "alloc",
    "elapsed",
    "rss",
    "user",
    "sys",
    "threads",
    "target",
    "impl",
    "repeat",
    "ops",
    "ops_per_s",
    "emulated",
    "voluntary_csw",
    "involuntary_csw",
    "minor_faults",
)
COUNTERS = ("voluntary_csw", "involuntary_csw", "minor_faults")  # the kernel's, per run (.accounting)
_SAMPLE_FIELDS = (
    "workload",
    "allocator",
    "threads",
    "ops",
    "elapsed_s",
    "ops_per_s",
    "user_s",
    "sys_s",
    "max_rss_kib",
    "target",
)


@dataclass(frozen=True)
class Sample:
    """One run of the benchmark program, as its JSON line reported it."""

    workload: str
    allocator: str
    threads: int
    ops: int
    elapsed_s: float
    ops_per_s: float
    user_s: float
    sys_s: float
    max_rss_kib: int
    target: str
    wall_s: float = 0.0  # the harness's own clock around the process, overhead included
    # The kernel's accounting of the whole process (see .accounting); None when not recorded.
    voluntary_csw: int | None = None
    involuntary_csw: int | None = None
    minor_faults: int | None = None

    @classmethod
    def from_json_line(
        cls,
        line: str,
        *,
        source: str = "benchmark output",
        wall_s: float = 0.0,
        accounting: Accounting | None = None,
    ) -> Sample:
        """Parse one JSON line; a missing field or a bad value is a ``BenchError`` naming it.

        ``accounting`` (the kernel's counts for the run) fills the counter fields; without it they
        are read from the line when present (a ``results.json`` written before).
        """
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            raise BenchError(
                f"{source}: not a JSON line: {line[:200]!r} ({exc.msg})",
                hint="the benchmark program must print exactly one JSON object per run on stdout",
            ) from exc
        if not isinstance(data, dict):
            raise BenchError(f"{source}: expected a JSON object, got {line[:200]!r}")
        missing = [name for name in _SAMPLE_FIELDS if name not in data]
        if missing:
            raise BenchError(
                f"{source}: JSON line lacks {', '.join(missing)}: {line[:200]!r}",
                hint=f"each line needs the fields {', '.join(_SAMPLE_FIELDS)}",
            )
        try:
            return cls(
                workload=str(data["workload"]),
                allocator=str(data["allocator"]),
                threads=int(data["threads"]),
                ops=int(data["ops"]),
                elapsed_s=float(data["elapsed_s"]),
                ops_per_s=float(data["ops_per_s"]),
                user_s=float(data["user_s"]),
                sys_s=float(data["sys_s"]),
                max_rss_kib=int(data["max_rss_kib"]),
                target=str(data["target"]),
                wall_s=float(data.get("wall_s", wall_s)),
                voluntary_csw=_count(data, "voluntary_csw", accounting),
                involuntary_csw=_count(data, "involuntary_csw", accounting),
                minor_faults=_count(data, "minor_faults", accounting),
            )
        except (TypeError, ValueError) as exc:
            raise BenchError(f"{source}: bad value in {line[:200]!r}: {exc}") from exc

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def cpu_ops_per_s(self) -> float:
        """Allocations per CPU second (user + system, all threads): the cost of an allocation.

        A busy neighbour stretches the wall clock (the program waits for a core) but hardly the CPU
        time it burns, so this figure holds across sessions where ``ops_per_s`` does not.
        """
        return self.ops / max(self.user_s + self.sys_s, 1e-6)

    def speed(self, metric: Metric) -> float:
        """``ops_per_s`` (``wall``) or ``cpu_ops_per_s`` (``cpu``)."""
        return self.ops_per_s if metric == "wall" else self.cpu_ops_per_s

    def per_op(self, counter: str) -> float | None:
        """A counter (``voluntary_csw``, ``involuntary_csw``, ``minor_faults``) per allocation."""
        value = getattr(self, counter)
        return None if value is None or self.ops <= 0 else value / self.ops


def _count(data: Mapping[str, Any], name: str, accounting: Accounting | None) -> int | None:
    if accounting is not None:
        return int(getattr(accounting, name))
    value = data.get(name)
    return None if value is None else int(value)


@dataclass(frozen=True)
class PointKey:
    """Which cell of the matrix a point measures."""

    impl: str  # "rust" or "c"
    target: str
    workload: str
    allocator: str
    threads: int

    @property
    def name(self) -> str:
        return f"alloc_bench[{self.impl}-{self.target}-{self.workload}-{self.allocator}-{self.threads}t]"


@dataclass(frozen=True)
class BenchPoint:
    """All measured repeats of one cell (warm-up runs excluded)."""

    key: PointKey
    samples: tuple[Sample, ...]
    emulated: bool = False
    futex: FutexCount | None = None  # from one extra traced run (see .futex); None if not counted

    @property
    def throughput(self) -> Summary:
        """Operations per second over the repeats."""
        return summarize([s.ops_per_s for s in self.samples])

    @property
    def elapsed(self) -> Summary:
        return summarize([s.elapsed_s for s in self.samples])

    @property
    def rss_kib(self) -> int:
        """Median peak resident set size in KiB (under qemu-user: the emulator's)."""
        return int(summarize([float(s.max_rss_kib) for s in self.samples]).median)

    @property
    def ops_per_s(self) -> float:
        return self.throughput.median

    def per_op(self, counter: str) -> float | None:
        """Median over the repeats of a kernel counter per allocation (None when not recorded)."""
        values = [v for s in self.samples if (v := s.per_op(counter)) is not None]
        return float(statistics.median(values)) if values else None

    def cpu_s(self, which: str) -> float:
        """Median ``user`` or ``sys`` CPU seconds of the timed part, as the program measured it."""
        return float(statistics.median(getattr(s, f"{which}_s") for s in self.samples))

    def counters_json(self) -> dict[str, Any]:
        """The contention figures of ``extra_info``: counters per allocation, CPU time, futex calls."""
        return {
            **{f"{name}_per_op": self.per_op(name) for name in COUNTERS},
            "user_s": self.cpu_s("user"),
            "sys_s": self.cpu_s("sys"),
            "futex": self.futex.to_json() if self.futex else None,
        }

    def pytest_benchmark_entry(self, vs_system: RatioInterval | None = None) -> dict[str, Any]:
        """This point as one element of pytest-benchmark's ``benchmarks`` list.

        ``vs_system`` (this point's throughput over the system allocator's in the same rounds, with
        its interval and verdict) rides in ``extra_info``.
        """
        times = [s.elapsed_s for s in self.samples]
        st = self.elapsed
        lo, hi = st.q1 - 1.5 * st.iqr, st.q3 + 1.5 * st.iqr
        inside = sorted(t for t in times if lo <= t <= hi) or sorted(times)
        # pytest-benchmark's own test, bound by bound (abs() would round differently at the edge)
        stddev_out = sum(1 for t in times if t < st.mean - st.stddev or t > st.mean + st.stddev)
        iqr_out = sum(1 for t in times if t < lo or t > hi)
        k = self.key
        return {
            "group": f"{k.impl} {k.target} {k.workload}",
            "name": k.name,
            "fullname": f"pytest_rules_rust.bench::{k.name}",
            "params": {"allocator": k.allocator, "threads": k.threads},
            "param": f"{k.allocator}-{k.threads}",
            "extra_info": {
                "allocator": k.allocator,
                "threads": k.threads,
                "target": k.target,
                "workload": k.workload,
                "impl": k.impl,
                "ops_per_s": self.ops_per_s,
                "ops_per_s_min": self.throughput.min,
                "ops_per_s_max": self.throughput.max,
                "cv": self.throughput.cv,
                "rss_kib": self.rss_kib,
                "emulated": self.emulated,
                "note": EMULATED_NOTE if self.emulated else "",
                **self.counters_json(),
                "vs_system": vs_system.to_json() if vs_system else None,
                "runs": [s.to_json() for s in self.samples],
            },
            "options": {"timer": "benchmark program (CLOCK_MONOTONIC)", "warmup": True},
            "stats": {
                "min": st.min,
                "max": st.max,
                "mean": st.mean,
                "stddev": st.stddev,
                "rounds": st.rounds,
                "median": st.median,
                "iqr": st.iqr,
                "q1": st.q1,
                "q3": st.q3,
                "iqr_outliers": iqr_out,
                "stddev_outliers": stddev_out,
                "outliers": f"{stddev_out};{iqr_out}",
                "ld15iqr": inside[0],
                "hd15iqr": inside[-1],
                "ops": st.rounds / sum(times) if sum(times) else 0.0,
                "total": sum(times),
                "data": times,
                "iterations": 1,
            },
        }


@dataclass(frozen=True)
class BenchResults:
    """Every point of a benchmark session, plus what produced it."""

    points: tuple[BenchPoint, ...]
    settings: Mapping[str, Any] = field(default_factory=dict)
    machine: Mapping[str, Any] = field(default_factory=dict)
    started: str = ""
    duration_s: float = 0.0
    noise_floor: NoiseFloor | None = None  # how steady the machine was (see .noise); None if not probed
    futex_note: str = ""  # how futex calls were counted, or why they were not

    def select(
        self,
        *,
        allocator: str | None = None,
        threads: int | None = None,
        target: str | None = None,
        workload: str | None = None,
        impl: str | None = None,
    ) -> list[BenchPoint]:
        """The points matching every filter given."""
        wanted = {
            "allocator": allocator,
            "threads": threads,
            "target": target,
            "workload": workload,
            "impl": impl,
        }
        return [
            p
            for p in self.points
            if all(value is None or getattr(p.key, name) == value for name, value in wanted.items())
        ]

    def point(self, allocator: str, threads: int, **filters: Any) -> BenchPoint:
        """The one point for ``allocator`` at ``threads``; none or several is an error listing choices."""
        found = self.select(allocator=allocator, threads=threads, **filters)
        if len(found) == 1:
            return found[0]
        have = sorted({p.key.name for p in self.select(**filters)}) or sorted(p.key.name for p in self.points)
        what = "no point" if not found else f"{len(found)} points"
        raise BenchError(
            f"{what} for allocator={allocator!r} threads={threads} {filters or ''}".rstrip(),
            hint="narrow it with target=/workload=/impl= ; measured: " + ", ".join(have[:12]),
        )

    def speedup(self, allocator: str, *, over: str = "system", threads: int = 1, **filters: Any) -> float:
        """Median throughput of ``allocator`` divided by that of ``over`` (e.g. jemalloc over musl's)."""
        base = self.point(over, threads, **filters).ops_per_s
        if base <= 0:
            raise BenchError(f"allocator {over!r} measured 0 ops/s at {threads} threads; no ratio")
        return self.point(allocator, threads, **filters).ops_per_s / base

    def ratio(
        self,
        allocator: str,
        *,
        over: str = "system",
        threads: int = 1,
        metric: Metric = "wall",
        **filters: Any,
    ) -> RatioInterval:
        """``speedup`` with its bootstrap interval over the interleaved rounds, and a verdict.

        ``.verdict`` is "faster", "slower" or "not distinguishable" and never says more than the
        interval: assert on it, or on ``.low`` (e.g. ``.low >= 5`` for "at least 5x, with 95 % confidence").
        ``metric="cpu"`` compares allocations per CPU second instead of per wall-clock second.
        """
        a, b = self.point(allocator, threads, **filters), self.point(over, threads, **filters)
        return ratio_interval([s.speed(metric) for s in a.samples], [s.speed(metric) for s in b.samples])

    @property
    def emulated(self) -> bool:
        return any(p.emulated for p in self.points)

    def to_pytest_benchmark(self) -> dict[str, Any]:
        """The whole session in pytest-benchmark's JSON layout, with our schema version alongside."""
        vs_system = {r.key: r.interval for r in pair_ratios(self)}
        return {
            "machine_info": {
                **self.machine,
                **({"noise_floor": self.noise_floor.to_json()} if self.noise_floor else {}),
            },
            "commit_info": {},
            "benchmarks": [p.pytest_benchmark_entry(vs_system.get(p.key)) for p in self.points],
            "datetime": self.started or datetime.now(UTC).isoformat(),
            "version": PYTEST_BENCHMARK_FORMAT,
            "pytest_rules_rust": {
                "schema_version": SCHEMA_VERSION,
                "settings": dict(self.settings),
                "duration_s": self.duration_s,
                "futex_note": self.futex_note,
            },
        }

    def write_json(self, path: Path) -> Path:
        """Write ``results.json`` atomically (temp file + ``os.replace``)."""
        write_atomic(path, json.dumps(self.to_pytest_benchmark(), indent=2, sort_keys=True) + "\n")
        return path

    def write_csv(self, path: Path) -> Path:
        """One row per measured run; mimalloc-bench's columns first (elapsed s, rss KiB, user s, sys s)."""
        rows = [",".join(CSV_COLUMNS)]
        for p in self.points:
            for i, s in enumerate(p.samples):
                rows.append(
                    _csv_row(
                        [
                            s.workload,
                            s.allocator,
                            f"{s.elapsed_s:.6f}",
                            s.max_rss_kib,
                            f"{s.user_s:.6f}",
                            f"{s.sys_s:.6f}",
                            s.threads,
                            s.target,
                            p.key.impl,
                            i + 1,
                            s.ops,
                            f"{s.ops_per_s:.1f}",
                            int(p.emulated),
                            _blank(s.voluntary_csw),
                            _blank(s.involuntary_csw),
                            _blank(s.minor_faults),
                        ]
                    )
                )
        write_atomic(path, "\n".join(rows) + "\n")
        return path

    @classmethod
    def load(cls, path: Path) -> BenchResults:
        """Read a ``results.json`` this module wrote (any other file is a clear error)."""
        try:
            data = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise BenchError(f"cannot read benchmark results {path}: {exc}") from exc
        ours = data.get("pytest_rules_rust") if isinstance(data, dict) else None
        if not isinstance(ours, dict) or ours.get("schema_version") != SCHEMA_VERSION:
            raise BenchError(
                f"{path} is not a pytest-rules-rust benchmark file of schema {SCHEMA_VERSION}",
                hint="write it with `python -m pytest_rules_rust bench --out DIR`",
            )
        machine = data.get("machine_info") or {}
        points = []
        for entry in data["benchmarks"]:
            info = entry["extra_info"]
            key = PointKey(
                info["impl"], info["target"], info["workload"], info["allocator"], int(info["threads"])
            )
            samples = tuple(Sample.from_json_line(json.dumps(run), source=str(path)) for run in info["runs"])
            futex = FutexCount.from_json(info.get("futex"))
            points.append(BenchPoint(key, samples, emulated=bool(info["emulated"]), futex=futex))
        return cls(
            points=tuple(points),
            settings=ours.get("settings", {}),
            machine={k: v for k, v in machine.items() if k != "noise_floor"},
            started=data.get("datetime", ""),
            duration_s=float(ours.get("duration_s", 0.0)),
            noise_floor=NoiseFloor.from_json(machine.get("noise_floor")),
            futex_note=str(ours.get("futex_note", "")),
        )


def group_samples(samples: Iterable[tuple[PointKey, Sample, bool]]) -> tuple[BenchPoint, ...]:
    """Collect (key, sample, emulated) triples into points, keeping first-seen order."""
    grouped: dict[PointKey, list[Sample]] = {}
    emulated: dict[PointKey, bool] = {}
    for key, sample, emu in samples:
        grouped.setdefault(key, []).append(sample)
        emulated[key] = emu
    return tuple(BenchPoint(k, tuple(v), emulated[k]) for k, v in grouped.items())


def _blank(value: int | None) -> str | int:
    return "" if value is None else value


def _csv_row(values: list[Any]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="").writerow(values)
    return buf.getvalue()
