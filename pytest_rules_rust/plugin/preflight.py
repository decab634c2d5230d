"""The ``preflight`` fixture: the static checks over a workspace or a Markdown document."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import pytest

from ..preflight import PreflightReport, preflight, require_clean
from ..workspaces import Workspace


class PreflightRunner(Protocol):
    """The call signature of the ``preflight`` fixture."""

    def __call__(
        self, target: Workspace | Path | str, *, strict: bool = False, use_buildifier: bool = True
    ) -> PreflightReport: ...


@pytest.fixture(name="preflight")
def preflight_fixture() -> PreflightRunner:
    """Run preflight on a workspace or a Markdown file: ``report = preflight(ws_or_path)``.

    Takes a :class:`~pytest_rules_rust.Workspace` (what ``rules_rust_workspace`` returns), a
    workspace directory, or a Markdown file. Returns a :class:`~pytest_rules_rust.PreflightReport`
    (``.ok``, ``.errors``, ``.findings``, ``.format()``). ``strict=True`` raises ``PreflightError``
    listing the error findings instead; ``use_buildifier=False`` skips buildifier's second opinion.
    """
    return _run


def _run(
    target: Workspace | Path | str, *, strict: bool = False, use_buildifier: bool = True
) -> PreflightReport:
    __tracebackhide__ = True
    report = preflight(target, use_buildifier=use_buildifier)
    return require_clean(report) if strict else report
