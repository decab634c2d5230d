"""``bench``: allocator throughput (musl's malloc vs jemalloc vs mimalloc): ratios with intervals,
contention counters, JSON, CSV, plots, report; ``--save``/``--compare`` against stored runs."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from ..errors import UsageError
from . import AddArguments, Handler

ALLOCATORS = ("system", "jemalloc", "mimalloc")  # as bench.runner.ALLOCATORS, without importing matplotlib


def _csv(text: str, what: str, kind: type = str) -> tuple[Any, ...]:
    items = [t.strip() for t in text.split(",") if t.strip()]
    if not items:
        raise UsageError(f"{what} is empty", hint=f"give a comma-separated list, e.g. {what} 1,4")
    try:
        return tuple(kind(t) for t in items)
    except ValueError as exc:
        raise UsageError(f"{what}: {exc}", hint=f"give a comma-separated list of {kind.__name__}") from exc


def arguments(p: argparse.ArgumentParser) -> Handler:
    """``bench``'s arguments; returns its handler."""
    p.description = (
        "Build the allocator benchmark (Rust, and its C twin on musl targets) for each target, "
        "run every allocator × workload × thread count with warm-up and interleaved repeats, and write "
        "results.json, results.csv, PNG plots and report.md into --out."
    )
    p.add_argument("--quick", action="store_true", help="short runs: larson only, fewer ops and repeats")
    p.add_argument(
        "--target",
        action="append",
        default=None,
        metavar="TRIPLE",
        help="Rust target triple (repeatable; default x86_64-unknown-linux-musl)",
    )
    p.add_argument(
        "--allocators", default="system,jemalloc,mimalloc", help="comma-separated (default: %(default)s)"
    )
    p.add_argument(
        "--threads", default="1,2,4,8", help="comma-separated thread counts (default: %(default)s)"
    )
    p.add_argument(
        "--workload",
        default=None,
        help="larson, xmalloc or baseline, comma-separated (default: all three; --quick: larson)",
    )
    p.add_argument(
        "--repeats", type=int, default=None, help="measured rounds per point (default 20; --quick 6)"
    )
    p.add_argument(
        "--ops", type=int, default=None, help="allocations per thread per run (default 3e5; --quick 1e5)"
    )
    p.add_argument(
        "--pairs",
        default=None,
        metavar="A/B,...",
        help="allocator pairs to compare, A over B (default: every allocator over system)",
    )
    p.add_argument(
        "--no-futex",
        action="store_true",
        help="skip the extra strace'd run per point that counts futex calls",
    )
    p.add_argument("--save", metavar="NAME", default=None, help="store this run as NAME under --storage")
    p.add_argument(
        "--compare",
        metavar="NAME",
        default=None,
        help="compare this run point by point with the newest stored run NAME (or a results.json path)",
    )
    p.add_argument(
        "--fail-on-regression",
        type=float,
        default=None,
        metavar="PCT",
        help="with --compare: exit 1 when a point is slower than the stored one by more than PCT %% "
        "with 95 %% confidence",
    )
    p.add_argument(
        "--regression-metric",
        choices=("cpu", "wall"),
        default="cpu",
        help="the figure --fail-on-regression judges: allocations per CPU second (default; holds on a "
        "shared machine) or per wall-clock second",
    )
    p.add_argument(
        "--storage",
        type=Path,
        default=Path(".benchmarks"),
        help="where --save/--compare keep runs (pytest-benchmark's layout; default: %(default)s)",
    )
    p.add_argument(
        "--impl",
        default="auto",
        help="rust, c or rust,c; auto = the C twin on musl targets plus Rust when the cargo builder exists",
    )
    p.add_argument(
        "--c-build",
        choices=("auto", "container", "host"),
        default="auto",
        help="where to build the C twin (auto: the amd64 builder image when Docker answers)",
    )
    p.add_argument(
        "--cache-dir", type=Path, default=None, help="cache directory (default: the harness cache)"
    )
    p.add_argument(
        "--out", type=Path, required=True, help="directory for results.json, CSV, plots, report.md"
    )
    return run


def run(args: argparse.Namespace) -> int:
    if args.repeats is not None and args.repeats < 1:
        raise UsageError(f"--repeats must be at least 1, got {args.repeats}")
    if args.ops is not None and args.ops < 1:
        raise UsageError(f"--ops must be at least 1, got {args.ops}")
    allocators = _csv(args.allocators, "--allocators")
    unknown = [a for a in allocators if a not in ALLOCATORS]
    if unknown:
        raise UsageError(
            f"--allocators: unknown allocator {unknown[0]!r}", hint=f"choose from {', '.join(ALLOCATORS)}"
        )
    threads = _csv(args.threads, "--threads", int)
    if any(not 1 <= t <= 1024 for t in threads):
        raise UsageError(
            f"--threads: thread counts must be 1..1024, got {args.threads}", hint="e.g. --threads 1,2,4,8"
        )
    if args.fail_on_regression is not None and args.compare is None:
        raise UsageError(
            "--fail-on-regression needs --compare NAME", hint="e.g. --compare main --fail-on-regression 20"
        )
    # imported here: the benchmark stage pulls in matplotlib, which every other subcommand can do without
    from ..bench.baseline import BaselineStore, check_name
    from ..bench.pairs import Pair
    from ..bench.report import verdict_lines
    from ..bench.session import BenchRequest, run_bench_session

    pairs = tuple(Pair.parse(t) for t in _csv(args.pairs, "--pairs")) if args.pairs else None
    for pair in pairs or ():
        if {pair.allocator, pair.over} - set(allocators):
            raise UsageError(
                f"--pairs: {pair} names an allocator that is not measured",
                hint=f"measured: {', '.join(allocators)}",
            )
    store = BaselineStore(args.storage)
    if args.save:
        check_name(args.save)
    baseline = store.load(args.compare) if args.compare else None  # a missing baseline fails before the run

    request = BenchRequest(
        targets=tuple(args.target or ("x86_64-unknown-linux-musl",)),
        allocators=allocators,
        threads=threads,
        workloads=_csv(args.workload, "--workload") if args.workload else None,
        repeats=args.repeats,
        ops=args.ops,
        quick=args.quick,
        impls=None if args.impl == "auto" else _csv(args.impl, "--impl"),
        c_build=args.c_build,
        cache_dir=args.cache_dir,
        pairs=pairs,
        count_futex=not args.no_futex,
    )
    outcome = run_bench_session(request, args.out, progress=lambda line: print(line, flush=True))
    for path in outcome.files:
        print(f"wrote {path}")
    results = outcome.results
    print(verdict_lines(results, pairs))
    floor = results.noise_floor
    if floor is not None:
        print(f"machine noise floor: CV {floor.cv * 100:.1f} % (a fixed CPU loop; see report.md)")
    code = 0
    if baseline is not None:
        from ..bench.baseline import compare

        comparison = compare(
            baseline[0], results, baseline[1], args.fail_on_regression, args.regression_metric
        )
        print(comparison.table())
        if comparison.regressions:
            print(
                f"regression: {len(comparison.regressions)} point(s) slower than {args.compare} by more than "
                f"{args.fail_on_regression:g} % with 95 % confidence ({args.regression_metric} time)",
                file=sys.stderr,
            )
            code = 1
    if args.save:
        print(f"saved as {args.save}: {store.save(results, args.save)}")
    return code


#: subcommand -> adds its arguments, returns its handler (see ``cli.SUBCOMMANDS``)
COMMANDS: dict[str, AddArguments] = {"bench": arguments}
