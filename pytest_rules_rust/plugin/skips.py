"""Skips for a missing prerequisite, reported at the user's test rather than inside the plugin."""

from __future__ import annotations

from typing import NoReturn

import pytest


def skip_missing(reason: str) -> NoReturn:
    """Skip the running test because something it needs is missing; ``-rs`` shows the test's own
    location (as ``@pytest.mark.skip`` does), not a line of this plugin."""
    __tracebackhide__ = True
    raise pytest.skip.Exception(reason, _use_item_location=True)
