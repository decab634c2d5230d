"""Progress lines for long steps (image builds, builds, benchmark runs) in pytest's terminal output."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pytest

Progress = Callable[[str], None]
"""A callback taking one line of progress (``print`` is one); every long step accepts it."""


def terminal_progress(config: pytest.Config, prefix: str = "rules_rust") -> Progress:
    """A ``progress(message)`` callback writing ``[prefix] message`` lines through pytest's terminal
    reporter (shown even with output capture on); silent where there is none (xdist workers)."""
    reporter = config.pluginmanager.get_plugin("terminalreporter")

    def progress(message: str) -> None:
        if reporter is not None:
            reporter.write_line(f"[{prefix}] {message}")

    return progress
