"""The end-of-run matrix: entries collected from test reports (also from xdist workers), printed in
the terminal summary and written as JSON and Markdown with ``--rr-report DIR``."""

from __future__ import annotations

from pathlib import Path

import pytest

from .. import report


class MatrixSummary:
    """Registered on the controller only; reads the entries that builds attach to test reports."""

    def __init__(self, report_dir: Path | None) -> None:
        self.report_dir = report_dir
        self.report = report.MatrixReport()

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        for entry in _entries(report):
            self.report.add(entry)

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        if self.report.entries:
            terminalreporter.write_sep("=", "rules_rust build matrix")
            terminalreporter.line(self.report.to_text())
        if self.report_dir is not None:
            paths = self.report.write(self.report_dir)
            terminalreporter.line(f"rules_rust report: {', '.join(str(p) for p in paths)}")


def _entries(test_report: pytest.TestReport) -> list[report.MatrixEntry]:
    return list(report.entries_from_properties(test_report.user_properties))
