"""Preflight in pytest: the ``preflight`` fixture and Markdown documents collected as test items.

The plugin registers this module as a plugin of its own (fixture and hooks). Option read: the
plugin's ``doc`` setting (``--rr-doc PATH``, repeatable, or its ini key ``rr_doc``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from .errors import PreflightError
from .preflight import PreflightReport
from .preflight import preflight as run_preflight
from .preflight.markdown import Block, check_document, find_blocks
from .preflight.model import Finding


def require_clean(report: PreflightReport, what: str = "preflight") -> PreflightReport:
    """Raise :class:`PreflightError` listing the findings when ``report`` has errors; else return it."""
    if not report.ok:
        raise PreflightError(
            f"{what}: {len(report.errors)} error finding(s)\n{report.format()}",
            hint="fix the findings above (file:line), then run again",
        )
    return report


@pytest.fixture
def preflight() -> Callable[..., PreflightReport]:
    """Run preflight on a workspace directory or a Markdown file: ``report = preflight(path)``.

    Returns a :class:`~pytest_rules_rust.preflight.PreflightReport` (``.ok``, ``.errors``,
    ``.findings``, ``.format()``). Pass ``strict=True`` to raise ``PreflightError`` on error
    findings instead, and ``use_buildifier=False`` to skip buildifier's second opinion.
    """

    def run(path: Path | str, *, strict: bool = False, use_buildifier: bool = True) -> PreflightReport:
        report = run_preflight(path, use_buildifier=use_buildifier)
        return require_clean(report, f"preflight {path}") if strict else report

    return run


# ---- Markdown documents as test items ------------------------------------------------------------
def configured_docs(config: pytest.Config) -> list[Path]:
    """Documents from ``--rr-doc`` (else the ini key ``rr_doc``), relative to the rootdir."""
    from .settings import raw_value

    unique: dict[Path, None] = {}
    for name in raw_value(config, "doc"):
        unique.setdefault((Path(config.rootpath) / Path(name).expanduser()).resolve(), None)
    return list(unique)


class MarkdownDocument(pytest.File):
    """A Markdown file whose Starlark blocks are items (checked together, reported per block)."""

    _findings: list[Finding] | None = None

    def findings(self) -> list[Finding]:
        if self._findings is None:
            text = self.path.read_text(encoding="utf-8", errors="replace")
            self._findings = check_document(self.path.name, text)
        return self._findings

    def collect(self) -> Iterator[MarkdownBlock]:
        if not self.path.is_file():
            raise PreflightError(
                f"document {self.path} (rr_docs / --rr-doc) does not exist",
                hint="fix the path in the ini option rr_docs or --rr-doc",
            )
        text = self.path.read_text(encoding="utf-8", errors="replace")
        for block in find_blocks(text):
            yield MarkdownBlock.from_parent(self, name=f"starlark@L{block.first}", block=block)


class MarkdownBlock(pytest.Item):
    """One Starlark block: fails when preflight has error findings inside it."""

    def __init__(self, *, block: Block, **kw: Any) -> None:
        super().__init__(**kw)
        self.block = block

    def mine(self) -> list[Finding]:
        assert isinstance(self.parent, MarkdownDocument)
        return [f for f in self.parent.findings() if self.block.first <= f.line <= self.block.last]

    def runtest(self) -> None:
        findings = self.mine()
        self.user_properties.append(("findings", [f.to_json() for f in findings]))
        errors = [f for f in findings if f.severity == "error"]
        if errors:
            raise PreflightError("\n".join(str(f) for f in findings))

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, PreflightError):
            return f"{self.path.name} lines {self.block.first}-{self.block.last}:\n{excinfo.value.message}"
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, self.block.first - 1, f"{self.path.name}:{self.block.first} starlark block"


def collect_markdown(parent: pytest.Collector, file_path: Path) -> MarkdownDocument | None:
    """A collector for ``file_path`` when it is one of the configured documents, else None."""
    if file_path.resolve() in configured_docs(parent.config):
        return MarkdownDocument.from_parent(parent, path=file_path)
    return None


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> MarkdownDocument | None:
    """Hook: configured documents found while collecting become MarkdownDocument nodes."""
    return collect_markdown(parent, file_path)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    """Hook: configured documents outside the collected paths are added too (before -k/-m deselection)."""
    seen = {item.path.resolve() for item in items if isinstance(item, MarkdownBlock)}
    for doc in configured_docs(config):
        if doc in seen:
            continue
        node = MarkdownDocument.from_parent(session, path=doc)
        items.extend(node.collect())
