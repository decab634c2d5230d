"""Fixtures shared by several test modules (defined once here, so each exists once)."""

from __future__ import annotations

import os
import pwd
from pathlib import Path

import pytest
from oci_helpers import responders

__all__ = ["responders", "rustup_outside_pytester"]


@pytest.fixture
def rustup_outside_pytester(monkeypatch: pytest.MonkeyPatch) -> None:
    """pytester points HOME at a fresh directory; keep rustup's toolchains and cargo's home ours."""
    home = Path(pwd.getpwuid(os.getuid()).pw_dir)
    monkeypatch.setenv("RUSTUP_HOME", os.environ.get("RUSTUP_HOME", str(home / ".rustup")))
    monkeypatch.setenv("CARGO_HOME", os.environ.get("CARGO_HOME", str(home / ".cargo")))
