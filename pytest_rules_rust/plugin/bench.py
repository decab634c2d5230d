"""Fixtures for allocator benchmarks: thin wrappers over :mod:`pytest_rules_rust.bench`.

Settings used (``rules_rust_settings``): ``--rr-bench-threads``, ``--rr-bench-allocators``,
``--rr-bench-repeats``, ``--rr-bench-quick``, and ``--rr-platform`` (each platform is measured on
its musl target; linux/arm64 through qemu, marked emulated). Thresholds are the user's: assert on
``alloc_bench.speedup(...)`` in your own tests. The results of the last run are remembered in
``config.cache`` under ``pytest_rules_rust/bench/last`` (the directory holding results.json).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from ..bench.baseline import DEFAULT_STORAGE, BaselineStore
from ..bench.results import BenchResults
from ..bench.session import BenchOutcome, BenchRequest, run_bench_session
from ..cache import Cache
from ..containers import Engine
from ..errors import EmulationError
from ..platforms import Platform
from ..progress import terminal_progress
from ..settings import Settings
from .containers import BuilderImage
from .skips import skip_missing

bench_outcome_key = pytest.StashKey[BenchOutcome]()
CACHE_KEY = "pytest_rules_rust/bench/last"
BenchFactory = Callable[..., BenchOutcome]


def request_from_settings(settings: Settings, cache_dir: Path | None) -> BenchRequest:
    """The benchmark a session's options ask for: every configured platform's musl target."""
    return BenchRequest(
        targets=tuple(Platform.parse(p).triple("musl") for p in settings.platforms),
        allocators=tuple(settings.bench_allocators),
        threads=tuple(settings.bench_threads),
        repeats=settings.bench_repeats,  # None: the mode's own count (fewer with --rr-bench-quick)
        quick=settings.bench_quick,
        cache_dir=cache_dir,
    )


@pytest.fixture(scope="session")
def alloc_bench_factory(
    pytestconfig: pytest.Config,
    tmp_path_factory: pytest.TempPathFactory,
    rules_rust_cache: Cache,
    docker_engine: Engine,
    builder_image: BuilderImage,
) -> BenchFactory:
    """Factory: ``alloc_bench_factory(targets=(...), allocators=(...), threads=(...), quick=True, ...)``.

    Takes the fields of :class:`pytest_rules_rust.bench.BenchRequest`, builds what is needed
    (the Rust benchmark through the cargo builder, the C twin on musl targets), runs it with
    warm-up and interleaved repeats, and returns a ``BenchOutcome`` (``.results``, and the paths of
    results.json, results.csv, the plots and report.md). The Rust program is built on
    ``docker_engine`` in ``builder_image``'s images, caches live in ``rules_rust_cache``. Runs hold a
    file lock so two xdist workers never measure at the same time. An arm64 target without qemu
    in binfmt skips with the fix.
    """
    count = 0

    def make(**fields: object) -> BenchOutcome:
        nonlocal count
        count += 1
        request = BenchRequest(**{"cache_dir": rules_rust_cache.root, **fields})  # type: ignore[arg-type]
        out_dir = tmp_path_factory.mktemp(f"bench{count}")
        try:
            with rules_rust_cache.lock("bench-run"):
                outcome = run_bench_session(
                    request,
                    out_dir,
                    progress=terminal_progress(pytestconfig, "bench"),
                    build_options={"engine": docker_engine, "images": builder_image},
                )
        except EmulationError as exc:
            skip_missing(
                f"needs qemu-aarch64 in binfmt_misc to run arm64 benchmarks: {exc.message}; {exc.hint}"
            )
        pytestconfig.stash[bench_outcome_key] = outcome
        cache = getattr(pytestconfig, "cache", None)  # absent with -p no:cacheprovider
        if cache is not None:
            cache.set(CACHE_KEY, str(outcome.out_dir))
        return outcome

    return make


@pytest.fixture(scope="session")
def alloc_bench(alloc_bench_factory: BenchFactory, rules_rust_settings: Settings) -> BenchResults:
    """Allocator benchmark results for this session's settings (once per session).

    Measures system (the libc's malloc: musl's on musl targets), jemalloc and mimalloc on each
    ``--rr-platform``'s musl target at ``--rr-bench-threads``. Ask it for ratios and set your own
    thresholds, e.g.::

        @pytest.mark.bench
        def test_jemalloc_beats_musl(alloc_bench):
            assert alloc_bench.speedup("jemalloc", over="system", threads=4,
                                       target="x86_64-unknown-linux-musl", workload="larson",
                                       impl="rust") >= 5

    ``alloc_bench.ratio(...)`` takes the same arguments and adds the 95 % interval over the
    interleaved rounds and a verdict that never says more than it: on a noisy machine assert on
    ``.verdict == "faster"`` or ``.low >= 5`` rather than on the point estimate.

    ``--rr-bench-quick`` runs short (larson only, fewer ops): for smoke tests, not for figures.
    Emulated (arm64 under qemu) points are flagged: compare their ratios only.
    ``alloc_bench.noise_floor.cv`` is how steady the machine itself was (a fixed CPU loop timed
    between rounds); no point's CV can be expected below it, so skip absolute thresholds when it is high.
    """
    request = request_from_settings(rules_rust_settings, None)
    fields = {
        name: getattr(request, name) for name in ("targets", "allocators", "threads", "repeats", "quick")
    }
    return alloc_bench_factory(**fields).results


@pytest.fixture(scope="session")
def alloc_bench_baselines(pytestconfig: pytest.Config) -> BaselineStore:
    """Saved benchmark runs under ``<rootdir>/.benchmarks`` (pytest-benchmark's layout), to guard
    against regressions in your own tests::

        def test_no_allocator_regression(alloc_bench, alloc_bench_baselines):
            comparison = alloc_bench_baselines.compare(alloc_bench, "main", fail_on_regression=20)
            comparison.check()  # fails listing the points surely >20 % slower than the saved run

        # once, on the reference build: alloc_bench_baselines.save(alloc_bench, "main")

    ``compare`` puts each point's throughput over the saved one with a 95 % interval;
    ``comparison.table()`` shows every point, ``comparison.regressions`` the failing ones.
    """
    return BaselineStore(pytestconfig.rootpath / DEFAULT_STORAGE)
