"""``python -m pytest_rules_rust bench`` end to end on short real runs, and its input errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from bench_helpers import X86_MUSL, c_twin, png_size

from pytest_rules_rust.bench.results import BenchResults
from pytest_rules_rust.cache import Cache

pytestmark = pytest.mark.musl


def bench(*args: str, timeout: float = 1800) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest_rules_rust", "bench", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def _check_outputs(out: Path, impls: set[str]) -> BenchResults:
    results = BenchResults.load(out / "results.json")
    assert {p.key.impl for p in results.points} == impls
    assert {p.key.allocator for p in results.points} == {"system", "jemalloc"}
    assert {p.key.threads for p in results.points} == {1, 4}
    assert all(p.throughput.median > 0 for p in results.points)
    header = (out / "results.csv").read_text().splitlines()[0]
    assert header.startswith("test,alloc,elapsed,rss,user,sys")
    pngs = sorted(out.glob("*.png"))
    assert len(pngs) == 2 * len(impls) and all(png_size(p)[0] > 0 for p in pngs)  # throughput, counters
    assert {p.name for p in pngs} >= {f"counters-{impl}-{X86_MUSL}-larson.png" for impl in impls}
    report = (out / "report.md").read_text()
    assert report.index("## Verdicts") < report.index("## Throughput")
    for impl in impls:
        interval = results.ratio("jemalloc", over="system", threads=4, impl=impl)
        assert f"{interval.text()} at 4 threads" in report
    return results


def test_quick_c_twin_end_to_end(tmp_path: Path) -> None:
    c_twin(X86_MUSL, Cache())  # skips with the fix when Debian sources cannot be fetched
    proc = bench(
        "--quick", "--target", X86_MUSL, "--allocators", "system,jemalloc", "--threads", "1,4",
        "--impl", "c", "--ops", "20000", "--out", str(tmp_path),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "wrote" in proc.stdout and "round 6/6" in proc.stdout
    results = _check_outputs(tmp_path, {"c"})
    # The terminal leads with the verdicts: ratio, interval, verdict and the counters behind them.
    for threads in (1, 4):
        iv = results.ratio("jemalloc", threads=threads)
        point = results.point("jemalloc", threads)
        line = next(ln for ln in proc.stdout.splitlines() if f"larson {threads}t jemalloc/system:" in ln)
        assert f"{iv.text()} {iv.verdict}" in line
        assert f"vol. csw {point.per_op('voluntary_csw') * 1000:.3g} vs" in line
    doc = json.loads((tmp_path / "results.json").read_text())
    assert doc["pytest_rules_rust"]["schema_version"] == 1
    assert results.noise_floor is not None
    assert f"machine noise floor: CV {results.noise_floor.cv * 100:.1f} %" in proc.stdout


def test_quick_rust_and_c_end_to_end(tmp_path: Path) -> None:
    proc = bench(
        "--quick", "--target", X86_MUSL, "--allocators", "system,jemalloc", "--threads", "1,4",
        "--ops", "20000", "--out", str(tmp_path),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    _check_outputs(tmp_path, {"rust", "c"})


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--threads", "1,x"], 2, "--threads"),
        (["--repeats", "0"], 2, "--repeats must be at least 1"),
        (["--allocators", "tcmalloc", "--impl", "c"], 2, "unknown allocator 'tcmalloc'"),
        (["--workload", "nope"], 1, "unknown workload 'nope'"),
        (["--target", "riscv64-unknown-linux-musl"], 2, "unknown platform"),
        (["--target", "x86_64-unknown-linux-gnu", "--impl", "c"], 1, "musl targets only"),
    ],
)
def test_bad_input_is_one_clear_line(tmp_path: Path, args: list[str], code: int, message: str) -> None:
    proc = bench(*args, "--out", str(tmp_path), timeout=120)
    assert proc.returncode == code, proc.stderr
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr
