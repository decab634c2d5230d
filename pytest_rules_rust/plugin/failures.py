"""A harness error in a test reads as its message, not as the plugin's source.

When a test (or a fixture) fails with a :class:`~pytest_rules_rust.errors.RulesRustError` (an
invalid workspace parameter, a failed build, a missing engine...), the frames inside this package
are left out of its traceback, as ``__tracebackhide__`` would leave them out: the report shows the
test's own line that called the factory, then the error's message, the paths it kept and its hint.
The error's cause (``raise ... from``) is left out too: the message already says what went wrong.

``--tb=long`` (the default) and ``--tb=short`` render what remains in their style, as they do
around pytest's own hidden frames; ``--tb=line``, ``no`` and ``native`` stay pytest's (native prints
Python's traceback unfiltered), and ``--full-trace`` shows everything, the plugin's frames and the
cause included. Any other exception (a user's assertion, ``assert_binary``'s ``AssertionError``, a
bug of ours) keeps its whole traceback, and items other than Python tests (our Markdown blocks)
format their own failures.
"""

from __future__ import annotations

import inspect
from collections.abc import Generator
from pathlib import Path
from typing import TYPE_CHECKING

import pluggy
import pytest

from ..errors import RulesRustError

if TYPE_CHECKING:  # pytest does not export these two types, only the objects
    from _pytest._code import Traceback, TracebackEntry

PACKAGE_DIR = Path(__file__).resolve().parent.parent
# Frames a harness error's report leaves out: ours, and pytest's and pluggy's own calls around them.
_HIDDEN_DIRS = (
    PACKAGE_DIR,
    Path(inspect.getfile(pytest.Item)).resolve().parent,
    Path(pluggy.__file__).resolve().parent,
)
_STYLES = {"auto": "long", "long": "long", "short": "short"}  # the others are pytest's to render


def _shown(entry: TracebackEntry) -> bool:
    path = Path(entry.path).resolve()
    return not any(path.is_relative_to(d) for d in _HIDDEN_DIRS)


def harness_frames_hidden(item: pytest.Item, excinfo: pytest.ExceptionInfo[BaseException]) -> Traceback:
    """The traceback of a harness error, cut to the test's own frames (as pytest cuts any traceback)
    without this package's frames, ``__tracebackhide__`` still honoured."""
    traceback = excinfo.traceback.cut(path=item.path)
    return traceback.filter(_shown).filter(excinfo)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    excinfo, config = call.excinfo, item.config
    style = _STYLES.get(config.getoption("tbstyle", "auto"))
    if (
        isinstance(item, pytest.Function)  # other items (our Markdown blocks) format their own failures
        and report.failed
        and excinfo is not None
        and excinfo.errisinstance(RulesRustError)
        and style is not None
        and not config.getoption("fulltrace", False)
    ):
        report.longrepr = excinfo.getrepr(
            style=style,  # type: ignore[arg-type]
            tbfilter=lambda info: harness_frames_hidden(item, info),
            chain=False,  # the cause is ours too; the message says what went wrong
            funcargs=True,
            showlocals=config.getoption("showlocals", False),
            truncate_locals=config.get_verbosity() < 2,
        )
    return report
