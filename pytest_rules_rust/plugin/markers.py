"""Markers the plugin applies by itself, so ``pytest -m cross`` (or ``container``, ``bench``,
``cargo``, ``bazel``) selects the tests that do that, whoever wrote them.

A test is marked from what it requests: ``cross`` when it runs for linux/arm64 (its ``rr_platform``
parameter) or needs ``arm64_emulation``; ``container`` when it needs the Docker engine (builds,
container runs, images, benchmarks); ``cargo``/``bazel`` when it builds with ``rules_rust_build``
(the builders of this run's settings); ``bench`` for the allocator benchmark fixtures. ``musl``
and ``proto`` depend on which workspace a test builds: mark those tests yourself.
"""

from __future__ import annotations

import pytest

from .options import settings_key
from .params import PLATFORM_CELL

FOREIGN_PLATFORM = "linux/arm64"
NEEDS_ENGINE = frozenset(
    {
        "docker_engine",
        "builder_image",
        "container_runner",
        "rules_rust_build",
        "oci_image_assembler",
        "local_registry",
        "alloc_bench",
        "alloc_bench_factory",
    }
)
BENCH = frozenset({"alloc_bench", "alloc_bench_factory", "alloc_bench_baselines"})


def implied_markers(item: pytest.Item, builders: tuple[str, ...]) -> set[str]:
    """The markers what ``item`` requests implies (see the module docstring)."""
    fixtures = set(getattr(item, "fixturenames", ()))
    params = getattr(getattr(item, "callspec", None), "params", {})
    marks: set[str] = set()
    platform = params.get("rr_platform", params.get(PLATFORM_CELL))
    if platform == FOREIGN_PLATFORM or "arm64_emulation" in fixtures:
        marks.add("cross")
    if fixtures & NEEDS_ENGINE:
        marks.add("container")
    if fixtures & BENCH:
        marks.add("bench")
    if "rules_rust_build" in fixtures:
        marks.update(builders)
    return marks


@pytest.hookimpl(tryfirst=True)  # before pytest's own -m selection reads the markers
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    builders = config.stash[settings_key].builders
    for item in items:
        present = {mark.name for mark in item.iter_markers()}
        for name in sorted(implied_markers(item, builders) - present):
            item.add_marker(name)
