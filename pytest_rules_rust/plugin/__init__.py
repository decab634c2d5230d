"""The pytest plugin: options, markers, the parametrisation, and fixtures built from one another.

Installed through the ``pytest11`` entry point ``rules_rust``; ``-p no:rules_rust`` disables it.
Each stage's fixtures live in a module of this package; every composite fixture requests the
leaf fixtures it depends on (``rules_rust_settings``, ``rules_rust_cache``, ``docker_engine``,
``builder_image``, ``rules_rust_workspace_factory``, ``rr_platform``), so overriding a leaf in a
conftest changes what every composite does.
"""

from __future__ import annotations

from collections.abc import Generator

import pytest

pytest.register_assert_rewrite("pytest_rules_rust.inspect.assertions")

from ..execution import RUN_OBSERVERS  # noqa: E402
from . import recorder  # noqa: E402
from .options import add_options, settings_from_config, settings_key  # noqa: E402
from .summary import MatrixSummary  # noqa: E402

MARKERS = {
    "cross": "builds or runs code for a foreign architecture (linux/arm64 through qemu); applied to "
    "tests that run for linux/arm64. Example: pytest -m cross",
    "musl": "builds static musl binaries (Rust std built from source). "
    "Example: pytest -m 'musl and not cross'",
    "proto": "builds the prost/tonic gRPC workspace",
    "container": "needs a Docker engine (builds or runs containers); applied from the fixtures a test uses",
    "bazel": "builds with Bazel (Bazelisk in our image, or --rr-bazel-binary); skips with Bazelisk's "
    "own reason where it cannot download Bazel",
    "cargo": "builds with the cargo builder (applied to rules_rust_build tests when cargo is a --rr-builder)",
    "bench": "allocator throughput benchmarks (slow; prints figures). Example: pytest -m bench",
}

pytest_plugins = [
    "pytest_rules_rust.plugin.failures",
    "pytest_rules_rust.plugin.settings",
    "pytest_rules_rust.plugin.params",
    "pytest_rules_rust.plugin.workspaces",
    "pytest_rules_rust.plugin.preflight",
    "pytest_rules_rust.plugin.markdown",
    "pytest_rules_rust.plugin.containers",
    "pytest_rules_rust.plugin.builds",
    "pytest_rules_rust.plugin.binaries",
    "pytest_rules_rust.plugin.oci",
    "pytest_rules_rust.plugin.bench",
    "pytest_rules_rust.plugin.markers",
]

summary_key = pytest.StashKey[MatrixSummary]()


def pytest_addoption(parser: pytest.Parser) -> None:
    add_options(parser)


def pytest_configure(config: pytest.Config) -> None:
    for name, text in MARKERS.items():
        config.addinivalue_line("markers", f"{name}: {text}")
    config.stash[settings_key] = settings_from_config(config)
    RUN_OBSERVERS.append(recorder.on_run)
    if not hasattr(config, "workerinput"):  # the xdist controller, or a plain run
        summary = MatrixSummary(config.stash[settings_key].report_dir)
        config.stash[summary_key] = summary
        config.pluginmanager.register(summary, "rules_rust_matrix")


def pytest_unconfigure(config: pytest.Config) -> None:
    if recorder.on_run in RUN_OBSERVERS:
        RUN_OBSERVERS.remove(recorder.on_run)
    summary = config.stash.get(summary_key, None)
    if summary is not None:
        config.pluginmanager.unregister(summary)
        del config.stash[summary_key]


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item) -> Generator[None, object, object]:
    recorder.begin(item)
    try:
        return (yield)
    finally:
        recorder.end(item)
