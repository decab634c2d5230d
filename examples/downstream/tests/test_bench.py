"""A threshold of our own on the allocator benchmark (quick settings from pyproject.toml)."""

from __future__ import annotations

import pytest

from pytest_rules_rust import BenchResults


@pytest.mark.bench
def test_jemalloc_is_not_slower_than_musl_malloc(alloc_bench: BenchResults) -> None:
    ratio = alloc_bench.speedup(
        "jemalloc", over="system", threads=2, target="x86_64-unknown-linux-musl", impl="rust"
    )
    assert ratio > 1.0, alloc_bench
