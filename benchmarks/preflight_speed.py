"""Time preflight over every fixture workspace in one process (target: <= 0.5 s in total).

Prints per-workspace and per-file figures; buildifier (a subprocess per workspace) is reported
separately because it is an optional second opinion.

    .venv/bin/python benchmarks/preflight_speed.py [ROOT ...]
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from pytest_rules_rust.preflight import buildifier
from pytest_rules_rust.preflight.checks import run_checks
from pytest_rules_rust.preflight.evaluate import evaluate_workspace


def main(argv: list[str]) -> int:
    base = Path(__file__).resolve().parent.parent / "fixture_workspaces"
    roots = [Path(a) for a in argv] or sorted(p for p in base.iterdir() if (p / "MODULE.bazel").is_file())
    total = total_bf = 0.0
    files = 0
    for root in roots:
        t0 = time.perf_counter()
        model = evaluate_workspace(root)
        findings = run_checks(model)
        t1 = time.perf_counter()
        bf = buildifier.lint_files(root, sorted(model.files))
        t2 = time.perf_counter()
        n = len(model.files)
        files += n
        total += t1 - t0
        total_bf += t2 - t1
        per_file = (t1 - t0) / n * 1000 if n else 0.0
        print(
            f"{root.name:24s} {n:3d} files  {(t1 - t0) * 1000:7.1f} ms  ({per_file:5.2f} ms/file)"
            f"  buildifier {(t2 - t1) * 1000:6.1f} ms  findings {len(findings) + len(bf)}"
        )
    status = "OK" if total <= 0.5 else "OVER TARGET"
    print(
        f"total: {len(roots)} workspaces, {files} files, {total * 1000:.1f} ms (target <= 500 ms: {status});"
        f" with buildifier {(total + total_bf) * 1000:.1f} ms"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
