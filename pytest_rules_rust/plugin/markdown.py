"""Markdown documents as test items: each Starlark block of a ``--rr-doc`` document is one item.

The documents come from the ``docs`` setting (``--rr-doc PATH``, repeatable, or ini ``rr_doc``),
checked to exist at start-up; each document is preflighted once, its findings reported per block.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ..errors import PreflightError
from ..preflight.markdown import Block, check_document, find_blocks
from ..preflight.model import Finding
from .options import settings_key


def configured_docs(config: pytest.Config) -> tuple[Path, ...]:
    """The documents of this run (absolute, existing, without duplicates)."""
    return config.stash[settings_key].docs


class MarkdownDocument(pytest.File):
    """A Markdown file whose Starlark blocks are items (checked together, reported per block)."""

    _findings: list[Finding] | None = None

    def findings(self) -> list[Finding]:
        if self._findings is None:
            text = self.path.read_text(encoding="utf-8", errors="replace")
            self._findings = check_document(self.path.name, text)
        return self._findings

    def collect(self) -> Iterator[MarkdownBlock]:
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
