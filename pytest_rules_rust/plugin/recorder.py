"""Matrix entries attached to the test that is running, so they reach the summary (also from xdist
workers, through the test report's ``user_properties``).

``rules_rust_build`` records each build (built, failed, or skipped with the reason); when a built
binary then runs successfully (``run_binary``, natively or through qemu) its cell becomes
``ran``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path

import pytest

from .. import report
from ..builders.base import BuildRequest, BuildResult
from ..errors import RulesRustError
from ..execution import RunResult

_items: list[pytest.Item] = []
_by_artifact: dict[Path, report.MatrixEntry] = {}


def begin(item: pytest.Item) -> None:
    _items.append(item)


def end(item: pytest.Item) -> None:
    if _items and _items[-1] is item:
        _items.pop()


def record(entry: report.MatrixEntry, artifacts: Iterable[Path] = ()) -> None:
    """Attach ``entry`` to the running test; remember its artifacts to mark the cell ``ran`` later."""
    for path in artifacts:
        _by_artifact[path.resolve()] = entry
    if _items:
        report.record(_items[-1].user_properties, entry)


def record_build(result: BuildResult) -> None:
    """A successful build's cell; its binaries are remembered so a later run marks it ``ran``."""
    record(report.entry_from_result(result), [a.path for a in result.artifacts if a.kind == "binary"])


def record_failure(
    request: BuildRequest, builder: str, error: RulesRustError, *, skipped: bool = False
) -> None:
    """A failed (or skipped) build's cell, with the reason and the log."""
    record(report.entry_from_error(request, builder, error, skipped=skipped))


def on_run(path: Path, result: RunResult) -> None:
    """``execution.RUN_OBSERVERS`` callback: a successful run of a built binary marks it ``ran``."""
    entry = _by_artifact.get(Path(path).resolve())
    if entry is not None and result.succeeded:
        record(replace(entry, status="ran", duration_s=None, binary_size=None))
