"""Run benchmark binaries: warm-up, repeats, and an interleaved order that spreads drift evenly.

Every cell (binary × workload × threads) runs once per round; round ``r`` visits the cells in an
order rotated by ``r`` and reversed on odd rounds, so slow drift (another job starting, thermal
throttling) hits every cell alike instead of biasing whichever ran last. The first ``warmup``
rounds are run and discarded. The clock is a parameter so tests can drive it.

>>> settings = BenchSettings(workloads=("larson",), threads=(1, 4), repeats=3)
>>> settings.ops_for(emulated=True) < settings.ops_for(emulated=False)
True
"""

from __future__ import annotations

import dataclasses
import os
import platform as host_platform
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..errors import BenchError
from ..platforms import Platform
from ..progress import Progress
from .accounting import run_accounted, spawn_command
from .futex import TOOL as FUTEX_TOOL
from .futex import FutexCount, count_futex
from .futex import unavailable as futex_unavailable
from .noise import Clock, NoiseProbe
from .results import BenchResults, PointKey, Sample, group_samples

WORKLOADS = ("larson", "xmalloc", "baseline")
ALLOCATORS = ("system", "jemalloc", "mimalloc")


@dataclass(frozen=True)
class BenchBinary:
    """A built benchmark program for one target, with its allocator fixed at build time."""

    impl: str  # "rust" (fixture_workspaces/alloc_bench) or "c" (the C twin)
    target: str  # Rust triple, e.g. x86_64-unknown-linux-musl
    allocator: str  # system | jemalloc | mimalloc
    path: Path

    @property
    def emulated(self) -> bool:
        """True when this host runs it through qemu (binfmt)."""
        return Platform.parse(self.target).is_foreign()


@dataclass(frozen=True)
class BenchSettings:
    """How much to run. ``ops`` is allocations per thread per run (the programs' ``--ops``)."""

    workloads: tuple[str, ...] = WORKLOADS
    threads: tuple[int, ...] = (1, 2, 4, 8)
    # Many short rounds beat a few long ones on a shared machine: the intervals narrow with the
    # square root of the rounds, and the runs of a pair sit closer together in time.
    ops: int = 300_000
    repeats: int = 20
    warmup: int = 1
    emulated_ops_divisor: int = 4  # qemu-user is several times slower; keep emulated runs short
    timeout_s: float = 600.0
    noise_chunks: int = 3  # chunks of the noise probe timed before each round and at the end (0: none)
    futex_ops_divisor: int = 5  # one strace'd run per cell with ops ÷ this, to count futex calls (0: none)

    @classmethod
    def quick(cls, **overrides: Any) -> BenchSettings:
        """A short run for smoke tests and CI: one workload, fewer ops and repeats."""
        base: dict[str, Any] = {
            "workloads": ("larson",),
            "ops": 100_000,
            "repeats": 6,
            "warmup": 1,
            "emulated_ops_divisor": 2,  # short runs under qemu are all start-up otherwise
        }
        return cls(**{**base, **overrides})

    def __post_init__(self) -> None:
        unknown = [w for w in self.workloads if w not in WORKLOADS]
        if unknown:
            raise BenchError(f"unknown workload {unknown[0]!r}", hint=f"choose from {', '.join(WORKLOADS)}")
        if not self.workloads or not self.threads:
            raise BenchError("nothing to run: no workloads or no thread counts")
        if any(t < 1 or t > 1024 for t in self.threads):
            raise BenchError(f"thread counts must be 1..1024, got {list(self.threads)}")
        if (
            self.repeats < 1
            or self.warmup < 0
            or self.ops < 1
            or min(self.noise_chunks, self.futex_ops_divisor) < 0
        ):
            raise BenchError(
                "repeats must be >= 1, warmup >= 0, ops >= 1, noise_chunks and futex_ops_divisor >= 0 "
                f"(got {self.repeats}, {self.warmup}, {self.ops}, {self.noise_chunks}, "
                f"{self.futex_ops_divisor})"
            )

    def ops_for(self, *, emulated: bool) -> int:
        return max(1, self.ops // self.emulated_ops_divisor) if emulated else self.ops

    def to_json(self) -> dict[str, Any]:
        return {
            "workloads": list(self.workloads),
            "threads": list(self.threads),
            "ops": self.ops,
            "repeats": self.repeats,
            "warmup": self.warmup,
            "emulated_ops_divisor": self.emulated_ops_divisor,
            "noise_chunks": self.noise_chunks,
            "futex_ops_divisor": self.futex_ops_divisor,
        }


@dataclass(frozen=True)
class Cell:
    """One point to measure: a binary running one workload at one thread count."""

    binary: BenchBinary
    workload: str
    threads: int

    @property
    def key(self) -> PointKey:
        b = self.binary
        return PointKey(b.impl, b.target, self.workload, b.allocator, self.threads)

    def command(self, ops: int) -> list[str]:
        return [
            str(self.binary.path),
            "--workload",
            self.workload,
            "--threads",
            str(self.threads),
            "--ops",
            str(ops),
        ]


@dataclass(frozen=True)
class Run:
    """A scheduled execution: which round, whether it is warm-up, which cell."""

    round: int
    warmup: bool
    cell: Cell


def cells_for(binaries: Sequence[BenchBinary], settings: BenchSettings) -> list[Cell]:
    """The matrix in a stable order: program × workload × threads, the allocators side by side.

    The allocators compared at one point run back to back in every round, so the drift of a shared
    machine (its speed changes for seconds at a time) hits both runs of a pair alike and the
    paired intervals (:mod:`.pairs`) see through it.
    """
    programs = dict.fromkeys((b.impl, b.target) for b in binaries)
    return [
        Cell(b, w, t)
        for program in programs
        for w in settings.workloads
        for t in settings.threads
        for b in binaries
        if (b.impl, b.target) == program
    ]


def interleaved_order(cells: Sequence[Cell], rounds: int, warmup: int = 0) -> list[Run]:
    """Every cell once per round; round r rotated by r points and reversed when r is odd.

    A point's cells (its allocators) stay side by side in every round: the rotation moves whole
    points, and the reversal keeps neighbours neighbours while swapping who runs first.
    """
    points: dict[tuple[str, str, str, int], list[Cell]] = {}
    for c in cells:
        points.setdefault((c.binary.impl, c.binary.target, c.workload, c.threads), []).append(c)
    groups = list(points.values())
    order: list[Run] = []
    for r in range(warmup + rounds):
        shift = r % len(groups) if groups else 0
        rotated = [c for group in groups[shift:] + groups[:shift] for c in group]
        if r % 2:
            rotated.reverse()
        order += [Run(r, r < warmup, c) for c in rotated]
    return order


Execute = Callable[[Cell, int, float], Sample]


def run_cell(cell: Cell, ops: int, timeout_s: float, *, clock: Clock = time.perf_counter) -> Sample:
    """Run the binary once, parse its JSON line and attach the kernel's counts for the process.

    Any failure is a ``BenchError`` with the command.
    """
    cmd = cell.command(ops)
    try:
        done = run_accounted(spawn_command(cmd), timeout_s, clock=clock)
    except OSError as exc:
        hint = "check the binary was built for this machine"
        if cell.binary.emulated:
            hint = "running aarch64 code needs qemu-aarch64 in binfmt_misc: see `pytest-rules-rust doctor`"
        raise BenchError(f"cannot run {cell.binary.path}: {exc.strerror or exc}", hint=hint) from exc
    if done.returncode != 0:
        raise BenchError(
            f"benchmark exited with {done.returncode}: {' '.join(cmd)}\n{done.stderr.strip()[-800:]}",
            hint="run the command by hand to see the whole output",
        )
    lines = [ln for ln in done.stdout.splitlines() if ln.strip()]
    if not lines:
        raise BenchError(f"benchmark printed nothing on stdout: {' '.join(cmd)}")
    sample = Sample.from_json_line(
        lines[-1], source=str(cell.binary.path), wall_s=done.wall_s, accounting=done.accounting
    )
    expected = (cell.workload, cell.binary.allocator, cell.threads)
    if (sample.workload, sample.allocator, sample.threads) != expected:
        raise BenchError(
            f"{cell.binary.path} reported workload/allocator/threads "
            f"{(sample.workload, sample.allocator, sample.threads)}, expected {expected}",
            hint="the binary was built with a different allocator than its name says; rebuild it",
        )
    return sample


def run_benchmarks(
    binaries: Sequence[BenchBinary],
    settings: BenchSettings,
    *,
    clock: Clock = time.perf_counter,
    execute: Execute | None = None,
    progress: Progress | None = None,
    probe: NoiseProbe | None = None,
) -> BenchResults:
    """Measure every cell ``settings.repeats`` times after ``settings.warmup`` discarded rounds.

    Before each round and after the last, ``settings.noise_chunks`` chunks of the noise probe are
    timed (:mod:`.noise`); their spread is the session's ``noise_floor``.
    """
    if not binaries:
        raise BenchError("no benchmark binaries to run", hint="build at least one allocator variant")
    run = execute or (lambda cell, ops, timeout: run_cell(cell, ops, timeout, clock=clock))
    cells = cells_for(binaries, settings)
    schedule = interleaved_order(cells, settings.repeats, settings.warmup)
    started = datetime.now(UTC).isoformat()
    t0 = clock()
    if probe is None and settings.noise_chunks:
        probe = NoiseProbe()
    measured: list[tuple[PointKey, Sample, bool]] = []
    probed_round = -1
    for i, item in enumerate(schedule, 1):
        if probe is not None and item.round != probed_round:
            probe.sample(settings.noise_chunks)
            probed_round = item.round
        cell = item.cell
        emulated = cell.binary.emulated
        sample = run(cell, settings.ops_for(emulated=emulated), settings.timeout_s)
        if progress:
            tag = "warm-up" if item.warmup else f"round {item.round - settings.warmup + 1}/{settings.repeats}"
            progress(
                f"[{i}/{len(schedule)}] {tag} {cell.key.name}: {sample.ops_per_s / 1e6:.2f} Mops/s"
                f"{' (emulated)' if emulated else ''}"
            )
        if not item.warmup:
            measured.append((cell.key, sample, emulated))
    if probe is not None:
        probe.sample(settings.noise_chunks)
    futex, futex_note = count_futex_calls(cells, settings, execute is None, progress)
    points = [dataclasses.replace(p, futex=futex.get(p.key)) for p in group_samples(measured)]
    order = {c.key: n for n, c in enumerate(cells)}
    return BenchResults(
        points=tuple(sorted(points, key=lambda p: order[p.key])),
        settings=settings.to_json(),
        machine=machine_info(),
        started=started,
        duration_s=clock() - t0,
        noise_floor=probe.floor() if probe is not None else None,
        futex_note=futex_note,
    )


def count_futex_calls(
    cells: Sequence[Cell], settings: BenchSettings, real: bool, progress: Progress | None
) -> tuple[dict[PointKey, FutexCount], str]:
    """One traced, untimed run per cell counting futex calls (see .futex), and a note saying how."""
    if not settings.futex_ops_divisor:
        return {}, "futex calls not counted (switched off)"
    if not real:
        return {}, "futex calls not counted (runs replaced by the caller)"
    why_not = futex_unavailable()
    if why_not:
        return {}, f"futex calls not counted: {why_not}"
    counts: dict[PointKey, FutexCount] = {}
    for i, cell in enumerate(cells, 1):
        ops = max(1, settings.ops_for(emulated=cell.binary.emulated) // settings.futex_ops_divisor)
        counts[cell.key] = count_futex(cell.command(ops), ops * cell.threads, settings.timeout_s)
        if progress:
            progress(
                f"[futex {i}/{len(cells)}] {cell.key.name}: {counts[cell.key].per_op * 1000:.3f} per 1000 ops"
            )
    note = (
        f"futex calls counted by `{FUTEX_TOOL}` on one extra, untimed run per point with "
        f"1/{settings.futex_ops_divisor} of the allocations (ptrace slows every syscall, so the count "
        "shows the order of magnitude of the contention)"
    )
    return counts, note


def machine_info() -> dict[str, Any]:
    """What the numbers depend on: CPU, core count, kernel, load at the start (pytest-benchmark's keys)."""
    load = os.getloadavg()
    return {
        "node": host_platform.node(),
        "processor": host_platform.processor(),
        "machine": host_platform.machine(),
        "python_implementation": host_platform.python_implementation(),
        "python_version": host_platform.python_version(),
        "release": host_platform.release(),
        "system": host_platform.system(),
        "cpu": {"brand_raw": _cpu_model(), "count": os.cpu_count() or 1},
        "loadavg_at_start": [round(x, 2) for x in load],
    }


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith(("model name", "cpu model")):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return host_platform.processor() or "unknown"
