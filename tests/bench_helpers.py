"""Shared helpers for the benchmark tests: the C twin built once per machine, short real runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_rules_rust.bench.ctwin import build_c_twin
from pytest_rules_rust.bench.results import BenchResults
from pytest_rules_rust.bench.runner import BenchBinary, BenchSettings, run_benchmarks
from pytest_rules_rust.cache import Cache
from pytest_rules_rust.containers.emulation import emulation_status
from pytest_rules_rust.errors import BenchError

X86_MUSL = "x86_64-unknown-linux-musl"
ARM_MUSL = "aarch64-unknown-linux-musl"
# Tiny runs: the machinery is under test here, not the allocators.
TINY = BenchSettings(workloads=("larson",), threads=(1, 2), ops=5_000, repeats=3, warmup=1)


def c_twin(target: str, cache: Cache) -> tuple[BenchBinary, ...]:
    """The C twin for ``target`` (built once per machine into the shared cache)."""
    try:
        return build_c_twin(target, cache, progress=lambda _m: None)
    except BenchError as exc:
        if "deb-src" in exc.hint:
            pytest.skip(f"needs Debian source packages for jemalloc/mimalloc: {exc.hint}")
        raise


def require_arm64_emulation() -> None:
    status = emulation_status("aarch64")
    if not status.works:
        pytest.skip(f"needs qemu-aarch64 in binfmt_misc to run arm64 binaries: {status.fix}")


def short_run(binaries: tuple[BenchBinary, ...], settings: BenchSettings = TINY) -> BenchResults:
    return run_benchmarks(binaries, settings)


def png_size(path: Path) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk."""
    data = path.read_bytes()[:24]
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
