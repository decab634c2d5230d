"""The two leaf fixtures every other fixture is built on: the run's settings and the shared cache."""

from __future__ import annotations

import pytest

from ..cache import Cache
from ..settings import Settings
from .options import settings_key


@pytest.fixture(scope="session")
def rules_rust_settings(pytestconfig: pytest.Config) -> Settings:
    """The resolved ``--rr-*`` options and ``rr_*`` ini values of this run (command line > ini > default).

    Every fixture of the plugin reads its options from here. Override it in a conftest to change
    them for a directory, e.g. ``return dataclasses.replace(settings, platforms=("linux/amd64",))``
    over the ``pytestconfig``-derived value (``pytest_rules_rust.Settings.from_mapping`` validates a
    mapping of raw option values the same way the command line does).
    """
    return pytestconfig.stash[settings_key]


@pytest.fixture(scope="session")
def rules_rust_cache(rules_rust_settings: Settings) -> Cache:
    """The shared cache (images, crates, Bazel caches, builds), safe for ``pytest -n`` workers.

    Location: ``--rr-cache-dir``, else ``$PYTEST_RULES_RUST_CACHE``, else ``~/.cache/pytest-rules-rust``.
    Every fixture that caches (builds, builder images, the registry image, benchmarks) uses this one.
    Override it to isolate a session's cache.
    """
    cache = Cache(rules_rust_settings.cache_dir)
    cache.check_writable()
    return cache
