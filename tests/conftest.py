"""Fixtures shared by several test modules (defined once here, so each exists once)."""

from __future__ import annotations

import os
import pwd
from pathlib import Path

import pytest
from containers_helpers import busybox_image, engine_or_skip
from oci_helpers import responders

from pytest_rules_rust.cache import Cache
from pytest_rules_rust.containers import Engine

__all__ = ["bb", "engine", "responders", "rustup_outside_pytester"]


@pytest.fixture(scope="module")
def engine() -> Engine:
    """The Docker engine, or a skip that says how to start one."""
    return engine_or_skip()


@pytest.fixture(scope="module")
def bb(engine: Engine, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The cheap busybox test image (built once per recipe, in a module-local cache)."""
    return busybox_image(engine, Cache(tmp_path_factory.mktemp("cache")))


@pytest.fixture
def rustup_outside_pytester(monkeypatch: pytest.MonkeyPatch) -> None:
    """pytester points HOME at a fresh directory; keep rustup's toolchains and cargo's home ours."""
    home = Path(pwd.getpwuid(os.getuid()).pw_dir)
    monkeypatch.setenv("RUSTUP_HOME", os.environ.get("RUSTUP_HOME", str(home / ".rustup")))
    monkeypatch.setenv("CARGO_HOME", os.environ.get("CARGO_HOME", str(home / ".cargo")))
