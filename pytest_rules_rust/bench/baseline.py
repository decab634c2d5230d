"""Saved runs and point-by-point comparisons against them (``bench --save NAME`` / ``--compare NAME``).

A saved run is the session's ``results.json``, unchanged (pytest-benchmark's schema), stored the
way pytest-benchmark stores its own: ``<storage>/<machine id>/NNNN_<name>.json`` under
``.benchmarks`` by default, so ``pytest-benchmark compare`` and ``list`` find it too.

A comparison takes every point measured in both runs and puts the new figure over the saved one,
with a bootstrap interval that resamples each run's rounds on its own (two sessions share no
rounds), for two figures: allocations per wall-clock second, and allocations per CPU second.
A point is a *regression beyond PCT %* only when the whole interval of the chosen figure lies
below ``1 - PCT/100``: slower by more than the threshold with 95 % confidence.

The chosen figure is the CPU one by default. Two sessions on a shared machine can run at speeds
2-3x apart (a neighbour's load comes and goes), which stretches the wall clock of every run in a
session alike; pairing cannot cancel that across sessions, but it leaves the CPU time an
allocation costs nearly untouched (per-point CV of 1-2 % single-threaded where the wall clock's
was 25 % and more, measured on the project's 2-core VM). ``metric="wall"`` is there for quiet
machines, and for regressions that only add waiting, which the voluntary context switches show.
"""

from __future__ import annotations

import platform
import re
import struct
from dataclasses import dataclass
from pathlib import Path

from ..errors import BenchError, UsageError
from .intervals import Metric, RatioInterval, ratio_interval
from .report import per_kop, verdict_text
from .results import BenchPoint, BenchResults, PointKey

DEFAULT_STORAGE = Path(".benchmarks")
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


def machine_id() -> str:
    """pytest-benchmark's folder name for this machine, e.g. ``Linux-CPython-3.11-64bit``."""
    version = ".".join(platform.python_version_tuple()[:2])
    bits = struct.calcsize("P") * 8
    return f"{platform.system()}-{platform.python_implementation()}-{version}-{bits}bit"


def check_name(name: str) -> str:
    """A baseline name: letters, digits, ``.``, ``_``, ``-`` (it becomes part of a file name)."""
    if not NAME_RE.match(name):
        raise UsageError(
            f"bad baseline name {name!r}",
            hint="use letters, digits, '.', '_' and '-' (up to 100), e.g. --save main",
        )
    return name


@dataclass(frozen=True)
class PointChange:
    """One point in both runs: the new figures over the saved ones, with their intervals."""

    key: PointKey
    baseline: BenchPoint
    current: BenchPoint
    wall: RatioInterval  # allocations per wall-clock second, now / baseline
    cpu: RatioInterval  # allocations per CPU second, now / baseline

    def interval(self, metric: Metric) -> RatioInterval:
        return self.wall if metric == "wall" else self.cpu

    def regressed(self, threshold_pct: float, metric: Metric = "cpu") -> bool:
        """Slower by more than ``threshold_pct`` % with the interval's confidence."""
        return self.interval(metric).high < 1.0 - threshold_pct / 100.0


@dataclass(frozen=True)
class Comparison:
    """A new run against a saved one, point by point."""

    baseline_path: Path
    changes: tuple[PointChange, ...]
    only_in_baseline: tuple[PointKey, ...]
    only_in_current: tuple[PointKey, ...]
    threshold_pct: float | None = None  # --fail-on-regression; None: report only
    metric: Metric = "cpu"  # which figure decides a regression

    @property
    def regressions(self) -> tuple[PointChange, ...]:
        """The points slower than the threshold (none when no threshold was given)."""
        if self.threshold_pct is None:
            return ()
        pct = self.threshold_pct
        return tuple(c for c in self.changes if c.regressed(pct, self.metric))

    def table(self) -> str:
        """A Markdown table, one row per point, regressions marked."""
        rule = (
            f"; regression: the whole {self.metric} interval below {1 - self.threshold_pct / 100:.2f}"
            if self.threshold_pct
            else ""
        )
        rows = [
            f"Compared with {self.baseline_path}: now / baseline, allocations per wall-clock second and "
            f"per CPU second, 95 % intervals; the verdict is the {self.metric} one{rule}.",
            "",
            "| point | baseline Mops/s | now Mops/s | wall now / baseline | CPU now / baseline | verdict "
            "| vol. csw / 1k ops | |",
            "|---|---:|---:|---:|---:|---|---:|---|",
        ]
        regressed = {id(c) for c in self.regressions}
        for c in self.changes:
            flag = "**REGRESSION**" if id(c) in regressed else ""
            emulated = " (emulated)" if c.current.emulated else ""
            base, now = c.baseline, c.current
            rows.append(
                f"| {c.key.name}{emulated} | {base.ops_per_s / 1e6:.2f} | {now.ops_per_s / 1e6:.2f} "
                f"| {c.wall.text()} | {c.cpu.text()} | {verdict_text(c.interval(self.metric))} "
                f"| {per_kop(base.per_op('voluntary_csw'))} → {per_kop(now.per_op('voluntary_csw'))} "
                f"| {flag} |"
            )
        for what, keys in (
            ("only in the baseline", self.only_in_baseline),
            ("only now", self.only_in_current),
        ):
            if keys:
                rows += ["", f"Measured {what} (not compared): " + ", ".join(k.name for k in keys)]
        return "\n".join(rows)

    def check(self) -> None:
        """Raise a ``BenchError`` listing the regressions, if any."""
        if self.regressions:
            names = ", ".join(f"{c.key.name} {c.interval(self.metric).text()}" for c in self.regressions)
            raise BenchError(
                f"{len(self.regressions)} point(s) regressed beyond {self.threshold_pct:g} % against "
                f"{self.baseline_path}: {names}",
                hint="the table shows every point; rerun to confirm before blaming the change",
            )


def compare(
    baseline: BenchResults,
    current: BenchResults,
    baseline_path: Path,
    threshold_pct: float | None = None,
    metric: Metric = "cpu",
) -> Comparison:
    """Every point of ``current`` against the same point of ``baseline``."""
    if threshold_pct is not None and not 0.0 < threshold_pct < 100.0:
        raise UsageError(
            f"--fail-on-regression must be a percentage between 0 and 100, got {threshold_pct:g}",
            hint="e.g. --fail-on-regression 20 fails when a point is surely more than 20 % slower",
        )
    saved = {p.key: p for p in baseline.points}
    now = {p.key: p for p in current.points}
    changes = tuple(
        PointChange(
            key, saved[key], point, _unpaired(point, saved[key], "wall"), _unpaired(point, saved[key], "cpu")
        )
        for key, point in now.items()
        if key in saved
    )
    return Comparison(
        baseline_path,
        changes,
        only_in_baseline=tuple(k for k in saved if k not in now),
        only_in_current=tuple(k for k in now if k not in saved),
        threshold_pct=threshold_pct,
        metric=metric,
    )


def _unpaired(now: BenchPoint, base: BenchPoint, metric: Metric) -> RatioInterval:
    return ratio_interval(
        [s.speed(metric) for s in now.samples], [s.speed(metric) for s in base.samples], paired=False
    )


@dataclass(frozen=True)
class BaselineStore:
    """Saved runs under ``root`` (pytest-benchmark's layout: ``root/<machine id>/NNNN_<name>.json``)."""

    root: Path = DEFAULT_STORAGE

    def save(self, results: BenchResults, name: str) -> Path:
        """Store ``results`` as the newest run called ``name`` and return the file."""
        folder = self.root / machine_id()
        folder.mkdir(parents=True, exist_ok=True)
        numbers = [int(p.name[:4]) for p in folder.glob("[0-9][0-9][0-9][0-9]_*.json")]
        return results.write_json(folder / f"{max(numbers, default=0) + 1:04d}_{check_name(name)}.json")

    def find(self, name: str) -> Path:
        """The newest saved run called ``name`` (this machine's first), or ``name`` as a file path."""
        if Path(name).is_file():
            return Path(name)
        check_name(name)
        for folder in (machine_id(), "*"):
            found = sorted(self.root.glob(f"{folder}/[0-9][0-9][0-9][0-9]_{name}.json"), key=lambda p: p.name)
            if found:
                return found[-1]
        saved = sorted({p.name[5:-5] for p in self.root.glob("*/[0-9][0-9][0-9][0-9]_*.json")})
        raise BenchError(
            f"no saved benchmark run called {name!r} under {self.root}",
            hint=(f"saved: {', '.join(saved)}" if saved else "save one first with `bench --save NAME`")
            + "; or give the path of a results.json",
        )

    def load(self, name: str) -> tuple[BenchResults, Path]:
        path = self.find(name)
        return BenchResults.load(path), path

    def compare(
        self,
        results: BenchResults,
        name: str,
        *,
        fail_on_regression: float | None = None,
        metric: Metric = "cpu",
    ) -> Comparison:
        """``results`` against the saved run ``name``; ``fail_on_regression`` is the threshold in %,
        ``metric`` the figure that decides (``cpu``: allocations per CPU second, or ``wall``)."""
        baseline, path = self.load(name)
        return compare(baseline, results, path, fail_on_regression, metric)
