"""The pytest plugin: options, markers, thin fixtures over the plain functions, the matrix summary.

Installed through the ``pytest11`` entry point ``rules_rust``; ``-p no:rules_rust`` disables it.
"""

from __future__ import annotations

import contextlib
import itertools
import signal
from collections.abc import Generator, Iterator
from types import FrameType

import pytest

pytest.register_assert_rewrite("pytest_rules_rust.inspect.assertions")

from . import matrix_recorder, report  # noqa: E402
from .cache import Cache  # noqa: E402
from .inspect.run import RUN_OBSERVERS  # noqa: E402
from .settings import Settings, add_options  # noqa: E402

MARKERS = {
    "cross": "builds or runs code for a foreign architecture (linux/arm64 through qemu). "
    "Example: pytest -m cross",
    "musl": "builds static musl binaries (Rust std built from source). "
    "Example: pytest -m 'musl and not cross'",
    "proto": "builds the prost/tonic gRPC workspace",
    "container": "needs a Docker engine (builds or runs containers)",
    "bazel": "needs Bazel 7.4+ in the builder image; skipped where Bazel is unavailable",
    "cargo": "builds with the cargo builder",
    "bench": "allocator throughput benchmarks (slow; prints figures). Example: pytest -m bench",
}

# Each stage's fixtures (and the Markdown collection hooks) live in a module of their own.
pytest_plugins = [
    "pytest_rules_rust.fixtures_workspaces",
    "pytest_rules_rust.fixtures_preflight",
    "pytest_rules_rust.fixtures_containers",
    "pytest_rules_rust.fixtures_builds",
    "pytest_rules_rust.fixtures_inspect",
    "pytest_rules_rust.fixtures_oci",
    "pytest_rules_rust.fixtures_bench",
]

settings_key = pytest.StashKey[Settings]()
reporter_key = pytest.StashKey["MatrixReporter"]()


def pytest_addoption(parser: pytest.Parser) -> None:
    add_options(parser)


def pytest_configure(config: pytest.Config) -> None:
    for name, text in MARKERS.items():
        config.addinivalue_line("markers", f"{name}: {text}")
    config.stash[settings_key] = Settings.from_config(config)
    RUN_OBSERVERS.append(matrix_recorder.on_run)
    if not hasattr(config, "workerinput"):  # the xdist controller, or a plain run
        reporter = MatrixReporter(config)
        config.stash[reporter_key] = reporter
        config.pluginmanager.register(reporter, "rules_rust_matrix")


def pytest_unconfigure(config: pytest.Config) -> None:
    if matrix_recorder.on_run in RUN_OBSERVERS:
        RUN_OBSERVERS.remove(matrix_recorder.on_run)
    reporter = config.stash.get(reporter_key, None)
    if reporter is not None:
        config.pluginmanager.unregister(reporter)
        del config.stash[reporter_key]


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item) -> Generator[None, object, object]:
    matrix_recorder.begin(item)
    try:
        return (yield)
    finally:
        matrix_recorder.end(item)


@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    _sigterm_unwinds()


def _sigterm_unwinds() -> None:
    """Let SIGTERM unwind like Ctrl-C, so fixtures remove their containers (pytest does not by default)."""
    if signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt(f"received signal {signum}")

    with contextlib.suppress(ValueError):  # not the main thread
        signal.signal(signal.SIGTERM, handler)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    settings = metafunc.config.stash[settings_key]
    if "rr_versions" in metafunc.fixturenames:
        cells = version_matrix(settings)
        metafunc.parametrize("rr_versions", cells, scope="session", ids=[_cell_id(c) for c in cells])
    if "rr_platform" in metafunc.fixturenames:
        metafunc.parametrize("rr_platform", settings.platforms, scope="session", ids=_slug)


def version_matrix(settings: Settings) -> list[dict[str, object]]:
    """The cartesian product of the requested Bazel, rules_rust and Rust versions (empty axes skipped)."""
    axes: list[list[tuple[str, object]]] = []
    if settings.bazel_versions:
        axes.append([("bazel_version", v) for v in settings.bazel_versions])
    if settings.rules_rust_versions:
        axes.append([("rules_rust_version", v) for v in settings.rules_rust_versions])
    if settings.rust_versions:
        axes.append([("rust_versions", [v]) for v in settings.rust_versions])
    return [dict(cell) for cell in itertools.product(*axes)] if axes else [{}]


def _slug(value: object) -> str:
    return str(value).replace("/", "-")


def _cell_id(cell: dict[str, object]) -> str:
    if not cell:
        return "defaults"
    short = {"bazel_version": "bazel", "rules_rust_version": "rules_rust", "rust_versions": "rust"}
    parts = []
    for key, value in cell.items():
        shown = ",".join(value) if isinstance(value, list) else str(value)
        parts.append(f"{short.get(key, key)}{shown}")
    return "-".join(parts)


@pytest.fixture(scope="session")
def rules_rust_settings(pytestconfig: pytest.Config) -> Settings:
    """The resolved ``--rr-*`` options and ``rr_*`` ini values of this run (command line > ini > default).

    Use it in your own fixtures instead of reading ``pytestconfig`` yourself.
    """
    return pytestconfig.stash[settings_key]


@pytest.fixture(scope="session")
def rules_rust_cache(rules_rust_settings: Settings) -> Cache:
    """The shared cache (images, crates, Bazel caches, builds), safe for ``pytest -n`` workers.

    Override this fixture to isolate a test session's cache, or set ``--rr-cache-dir``.
    """
    cache = Cache(rules_rust_settings.cache_dir)
    cache.check_writable()
    return cache


@pytest.fixture(scope="session")
def rr_platform(request: pytest.FixtureRequest) -> str:
    """The target platform of the current test (``linux/amd64`` or ``linux/arm64``).

    Requesting it parametrises the test over ``--rr-platform`` (default: both).
    """
    return str(request.param)


@pytest.fixture(scope="session")
def rr_versions(request: pytest.FixtureRequest) -> dict[str, object]:
    """One cell of the version matrix: workspace parameter overrides for Bazel, rules_rust and Rust.

    Requesting it parametrises the test over ``--rr-bazel-version`` × ``--rr-rules-rust-version`` ×
    ``--rr-rust-version``; with none given there is one cell, ``{}`` (the workspace defaults). Pass it
    on: ``rules_rust_workspace("cross", **rr_versions)``.
    """
    return dict(request.param)


class MatrixReporter:
    """Collects matrix entries from test reports (also from xdist workers) and prints/writes the summary."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.report = report.MatrixReport()

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        for entry in _entries(report):
            self.report.add(entry)

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        settings = self.config.stash[settings_key]
        if self.report.entries:
            terminalreporter.write_sep("=", "rules_rust build matrix")
            terminalreporter.line(self.report.to_text())
        if settings.report_dir is not None:
            paths = self.report.write(settings.report_dir)
            terminalreporter.line(f"rules_rust report: {', '.join(str(p) for p in paths)}")


def _entries(test_report: pytest.TestReport) -> Iterator[report.MatrixEntry]:
    yield from report.entries_from_properties(test_report.user_properties)
