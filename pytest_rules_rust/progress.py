"""Progress lines for long steps (image builds, builds, benchmark runs) in pytest's terminal output."""

from __future__ import annotations

from collections.abc import Callable

import pytest


def terminal_progress(config: pytest.Config, prefix: str = "rules_rust") -> Callable[[str], None]:
    """A ``progress(message)`` callback writing ``[prefix] message`` lines through pytest's terminal
    reporter (shown even with output capture on); silent where there is none (xdist workers)."""
    reporter = config.pluginmanager.get_plugin("terminalreporter")

    def progress(message: str) -> None:
        if reporter is not None:
            reporter.write_line(f"[{prefix}] {message}")

    return progress
