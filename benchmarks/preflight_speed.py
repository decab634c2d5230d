"""Preflight speed on real workspaces, measured the way a user runs it (the command line).

Over every workspace of the corpus (``../shared/corpus``: rules_rust's examples and its root
module), or the roots given on the command line:

* CLI wall time per workspace, cold (an empty cache directory, buildifier included): median,
  p95 and max, and the share of it that is interpreter + CLI start-up;
* on the largest workspace: cold, cold without buildifier, and warm (nothing changed since the
  last run); then, in one process and on the same files, our own evaluation and checks next to
  ``buildifier --mode=check --lint=warn`` (its full default lint, one process), and next to
  buildifier the way preflight runs it;
* a 5 MB file of random bytes in a workspace.

Targets (issue 13): median <= 0.3 s; largest <= 1.5 s cold, <= 0.5 s warm; our checks <= half
of buildifier's lint time; hostile file <= 1 s.

    .venv/bin/python benchmarks/preflight_speed.py [--repeat N] [ROOT ...]
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CORPUS = Path(__file__).resolve().parent.parent.parent / "shared" / "corpus"


CPU: list[float] = []  # CPU seconds (user + sys, buildifier included) of every cli() run, in order


def children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def cli(root: Path, cache_dir: Path, *extra: str) -> float:
    """Wall time of one ``python -m pytest_rules_rust preflight ROOT`` run (its CPU time goes to CPU)."""
    env = {**os.environ, "PYTEST_RULES_RUST_CACHE": str(cache_dir)}
    cpu = children_cpu()
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "pytest_rules_rust", "preflight", str(root), "--json", *extra],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    took = time.perf_counter() - start
    CPU.append(children_cpu() - cpu)
    if proc.returncode not in (0, 1):
        raise SystemExit(f"preflight failed on {root} (exit {proc.returncode}):\n{proc.stderr}")
    return took


def cold(root: Path, repeat: int, *extra: str) -> tuple[float, float]:
    """Median wall time and median CPU time over ``repeat`` runs, each with a fresh cache directory."""
    times = []
    for _ in range(repeat):
        with tempfile.TemporaryDirectory(prefix="rr-bench-cache-") as tmp:
            times.append(cli(root, Path(tmp), *extra))
    return statistics.median(times), statistics.median(CPU[-repeat:])


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


STARTUP_IMPORTS = (
    "import pytest_rules_rust.cli, pytest_rules_rust.cli.preflight_cmd, pytest_rules_rust.preflight.evaluate,"
    " pytest_rules_rust.preflight.checks, pytest_rules_rust.preflight.buildifier"
)


def startup() -> tuple[float, float]:
    """Wall and CPU time of the interpreter plus every import a preflight run needs."""
    times, cpus = [], []
    for _ in range(5):
        cpu = children_cpu()
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", STARTUP_IMPORTS], capture_output=True, check=True)
        times.append(time.perf_counter() - start)
        cpus.append(children_cpu() - cpu)
    return statistics.median(times), statistics.median(cpus)


def ours_vs_buildifier(root: Path) -> tuple[float, float, float, int]:
    """CPU seconds of our evaluation + checks, of buildifier's full lint and of buildifier as
    preflight runs it, on the same files; and how many files that is."""
    from pytest_rules_rust.preflight import buildifier, guard, tree
    from pytest_rules_rust.preflight.checks import run_checks
    from pytest_rules_rust.preflight.evaluate import evaluate_workspace

    start = time.process_time()
    listing = tree.walk(root)
    files = guard.run_with_big_stack(lambda: sorted(evaluate_workspace(root, listing).files))
    run_checks(guard.run_with_big_stack(lambda: evaluate_workspace(root, listing)))
    ours = (time.process_time() - start) / 2  # evaluated twice above: once for the file list
    exe = buildifier.find_buildifier()
    if exe is None:
        return ours, float("nan"), float("nan"), len(files)
    before = children_cpu()
    subprocess.run([exe, *buildifier.BASE_ARGS, *files], cwd=root, capture_output=True, check=False)
    full = children_cpu() - before
    before = children_cpu()
    buildifier.start(root, files).finish(files)
    ours_way = children_cpu() - before
    return ours, full, ours_way, len(files)


def hostile(repeat: int) -> tuple[float, float]:
    with tempfile.TemporaryDirectory(prefix="rr-bench-hostile-") as tmp:
        root = Path(tmp)
        (root / "MODULE.bazel").write_text('module(name = "hostile")\n')
        (root / "BUILD.bazel").write_bytes(random.Random(13).randbytes(5 * 1024 * 1024))
        return cold(root, repeat)


def verdict(ok: bool) -> str:
    return "OK" if ok else "OVER TARGET"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("roots", nargs="*", type=Path)
    parser.add_argument("--repeat", type=int, default=3, help="runs per workspace (the median counts)")
    args = parser.parse_args(argv)
    roots = args.roots
    if not roots:
        examples = CORPUS / "rules_rust_examples"
        if not examples.is_dir():
            print(f"no corpus at {CORPUS}: pass workspace roots on the command line")
            return 2
        roots = [*sorted(p.parent for p in examples.rglob("MODULE.bazel")), CORPUS / "rules_rust_root"]

    print(
        f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}"
        " (wall times grow with the load; CPU times do not)"
    )
    walls, cpus = {}, {}
    for root in roots:
        walls[root], cpus[root] = cold(root, args.repeat)
        print(f"  {root.name:28s} {walls[root] * 1000:7.0f} ms wall {cpus[root] * 1000:7.0f} ms CPU, cold")
    values = list(walls.values())
    med = statistics.median(values)
    cpu_values = list(cpus.values())
    boot, boot_cpu = startup()
    print(
        f"CLI wall time over {len(values)} workspaces: median {med:.3f} s,"
        f" p95 {percentile(values, 0.95):.3f} s, max {max(values):.3f} s"
        f" (target median <= 0.3 s: {verdict(med <= 0.3)})"
    )
    print(
        f"CLI CPU time (user+sys, buildifier included): median {statistics.median(cpu_values):.3f} s,"
        f" p95 {percentile(cpu_values, 0.95):.3f} s, max {max(cpu_values):.3f} s"
    )
    print(
        f"start-up (interpreter + the imports a run needs): {boot:.3f} s wall ="
        f" {boot / med:.0%} of the median run; {boot_cpu:.3f} s CPU ="
        f" {boot_cpu / statistics.median(cpu_values):.0%} of the median CPU"
    )

    largest = max(roots, key=lambda r: sum(1 for _ in r.rglob("BUILD*")) + sum(1 for _ in r.rglob("*.bzl")))
    big_cold = walls[largest]
    no_bf, no_bf_cpu = cold(largest, args.repeat, "--no-buildifier")
    with tempfile.TemporaryDirectory(prefix="rr-bench-cache-") as tmp:
        cli(largest, Path(tmp))
        warm = statistics.median(cli(largest, Path(tmp)) for _ in range(args.repeat))
        warm_cpu = statistics.median(CPU[-args.repeat :])
    print(
        f"largest ({largest.name}): cold {big_cold:.3f} s wall / {cpus[largest]:.3f} s CPU"
        f" (target <= 1.5 s: {verdict(big_cold <= 1.5)}); cold without buildifier {no_bf:.3f} s wall /"
        f" {no_bf_cpu:.3f} s CPU; warm {warm:.3f} s wall / {warm_cpu:.3f} s CPU (target <= 0.5 s:"
        f" {verdict(warm <= 0.5)})"
    )
    ours, full, ours_way, n = ours_vs_buildifier(largest)
    print(
        f"same {n} files, CPU seconds: our evaluation + checks {ours:.3f} s;"
        f" buildifier --lint=warn (full, one process) {full:.3f} s;"
        f" buildifier as preflight runs it {ours_way:.3f} s;"
        f" ours / full lint = {ours / full:.0%} (target <= 50%: {verdict(ours <= full / 2)})"
    )
    bad, bad_cpu = hostile(args.repeat)
    print(
        f"5 MB of random bytes as BUILD.bazel: {bad:.3f} s wall / {bad_cpu:.3f} s CPU"
        f" (target <= 1 s: {verdict(bad <= 1.0)})"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
