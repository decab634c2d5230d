"""PNG plots, two per series: throughput vs threads per allocator with peak RSS beside it, and the
contention counters (context switches and futex calls per 1000 allocations) vs threads.

A series is one implementation × target × workload. Throughput shows the median with a min–max
bar; an emulated target says so in its title, since only its ratios mean anything.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from .results import EMULATED_NOTE, BenchPoint, BenchResults

COLORS = {"system": "#d62728", "jemalloc": "#1f77b4", "mimalloc": "#2ca02c"}
Series = tuple[str, str, str]  # impl, target, workload


def series(results: BenchResults) -> dict[Series, list[BenchPoint]]:
    """Points grouped by (impl, target, workload), in first-seen order."""
    out: dict[Series, list[BenchPoint]] = {}
    for p in results.points:
        out.setdefault((p.key.impl, p.key.target, p.key.workload), []).append(p)
    return out


def plot_file_name(impl: str, target: str, workload: str) -> str:
    return f"throughput-{impl}-{target}-{workload}.png"


def counters_file_name(impl: str, target: str, workload: str) -> str:
    return f"counters-{impl}-{target}-{workload}.png"


def write_plots(results: BenchResults, out_dir: Path) -> list[Path]:
    """Write two PNGs per series (throughput, counters) into ``out_dir`` and return their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for (impl, target, workload), points in series(results).items():
        title = f"{workload} — {target} ({'Rust' if impl == 'rust' else 'C twin'})"
        path = out_dir / plot_file_name(impl, target, workload)
        _plot_series(points, title, path)
        written.append(path)
        if any(p.per_op("voluntary_csw") is not None or p.futex for p in points):
            path = out_dir / counters_file_name(impl, target, workload)
            _plot_counters(points, title, path)
            written.append(path)
    return written


def _futex_per_op(point: BenchPoint) -> float | None:
    return point.futex.per_op if point.futex else None


COUNTER_PANELS: tuple[tuple[str, Callable[[BenchPoint], float | None]], ...] = (
    ("voluntary context switches", lambda p: p.per_op("voluntary_csw")),
    ("involuntary context switches", lambda p: p.per_op("involuntary_csw")),
    ("futex calls (traced run)", _futex_per_op),
)


def _plot_counters(points: list[BenchPoint], title: str, path: Path) -> None:
    plt = _pyplot()
    fig, axes = plt.subplots(1, len(COUNTER_PANELS), figsize=(13, 4.0))
    try:
        by_alloc: dict[str, list[BenchPoint]] = {}
        for p in sorted(points, key=lambda p: p.key.threads):
            by_alloc.setdefault(p.key.allocator, []).append(p)
        threads_all = sorted({p.key.threads for p in points})
        for ax, (name, value) in zip(axes, COUNTER_PANELS, strict=True):
            for alloc, pts in by_alloc.items():
                xy = [(p.key.threads, v * 1000) for p in pts if (v := value(p)) is not None and v > 0]
                if xy:
                    label = "system (libc malloc)" if alloc == "system" else alloc
                    ax.plot(*zip(*xy, strict=True), marker="o", color=COLORS.get(alloc), label=label)
            ax.set_xscale("log", base=2)
            ax.set_yscale("log")
            ax.set_xticks(threads_all, [str(t) for t in threads_all])
            ax.set_xlabel("threads")
            ax.set_title(f"{name}\nper 1000 allocations (lower is better)", fontsize=9)
            ax.grid(True, which="both", alpha=0.3)
            if ax.get_legend_handles_labels()[0]:
                ax.legend(loc="best", fontsize=8)
        _save(fig, points, title, path)
    finally:
        plt.close(fig)


def _save(fig: Any, points: list[BenchPoint], title: str, path: Path) -> None:
    """Title the figure (flagging emulated points) and write it as a PNG."""
    emulated = any(p.emulated for p in points)
    fig.suptitle(title + (f"\n{EMULATED_NOTE}" if emulated else ""), fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=100)


def _pyplot() -> Any:
    """matplotlib's pyplot on the Agg backend, imported on first use (it costs ~1 s to import)."""
    import matplotlib

    matplotlib.use("Agg")  # no display; must precede pyplot
    import matplotlib.pyplot as plt

    return plt


def _plot_series(points: list[BenchPoint], title: str, path: Path) -> None:
    plt = _pyplot()
    fig, (ax_ops, ax_rss) = plt.subplots(1, 2, figsize=(11, 4.2), gridspec_kw={"width_ratios": [3, 2]})
    try:
        by_alloc: dict[str, list[BenchPoint]] = {}
        for p in points:
            by_alloc.setdefault(p.key.allocator, []).append(p)
        threads_all = sorted({p.key.threads for p in points})
        width = 0.8 / max(1, len(by_alloc))
        for i, (alloc, pts) in enumerate(by_alloc.items()):
            pts = sorted(pts, key=lambda p: p.key.threads)
            xs = [p.key.threads for p in pts]
            med = [p.throughput.median / 1e6 for p in pts]
            lo = [m - p.throughput.min / 1e6 for m, p in zip(med, pts, strict=True)]
            hi = [p.throughput.max / 1e6 - m for m, p in zip(med, pts, strict=True)]
            color = COLORS.get(alloc)
            label = "system (libc malloc)" if alloc == "system" else alloc
            ax_ops.errorbar(xs, med, yerr=[lo, hi], marker="o", capsize=3, color=color, label=label)
            pos = [threads_all.index(t) + (i - (len(by_alloc) - 1) / 2) * width for t in xs]
            ax_rss.bar(pos, [p.rss_kib / 1024 for p in pts], width=width, color=color, label=label)
        ax_ops.set_xscale("log", base=2)
        ax_ops.set_xticks(threads_all, [str(t) for t in threads_all])
        ax_ops.set_xlabel("threads")
        ax_ops.set_ylabel("million allocations / s")
        ax_ops.set_title("throughput (median, bar = min–max; higher is better)", fontsize=9)
        ax_ops.set_ylim(bottom=0)
        ax_ops.grid(True, alpha=0.3)
        ax_ops.legend(loc="best", fontsize=8)
        ax_rss.set_xticks(range(len(threads_all)), [str(t) for t in threads_all])
        ax_rss.set_xlabel("threads")
        ax_rss.set_ylabel("MiB")
        ax_rss.set_title("peak RSS (median; lower is better)", fontsize=9)
        ax_rss.grid(True, axis="y", alpha=0.3)
        _save(fig, points, title, path)
    finally:
        plt.close(fig)
