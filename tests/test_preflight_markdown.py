"""Markdown mode on the two revisions of the "Rust with Bzlmod" document and on small documents."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pytest_rules_rust.preflight import preflight_markdown
from pytest_rules_rust.preflight.markdown import find_blocks

REFERENCE = Path("/work/shared/reference")
DOC_000 = REFERENCE / "000_7110dc9c3222ed3c.txt"
DOC_001 = REFERENCE / "001_ffa65f4638dff8b5.txt"
needs_reference = pytest.mark.skipif(
    not DOC_000.is_file() or not DOC_001.is_file(),
    reason=f"the reference documents are not in {REFERENCE} (shared material)",
)


def has(report, code: str, line: int, severity: str | None = None) -> bool:  # type: ignore[no-untyped-def]
    """A finding with this code at this line, or a collapsed repeat naming the line ("also at doc:641")."""
    return any(
        f.code == code
        and (f.line == line or re.search(rf"(?:at|,) [^ ]+:{line}[,)]", f.message))
        and (severity is None or f.severity == severity)
        for f in report.findings
    )


@needs_reference
def test_document_000_known_mistakes() -> None:
    r = preflight_markdown(DOC_000, use_buildifier=False)
    assert has(r, "RR001", 180, "error"), r.format()  # version = "1.0 (unclosed string)
    assert has(r, "RR104", 124)  # load("@crate_index//...") while the hub is @crates
    assert has(r, "RR403", 586, "error")  # aarch64 sysroot wired to linux-x86_64
    assert has(r, "RR402", 564) and has(r, "RR402", 579)  # sysroot LLVM toolchains never registered
    assert has(r, "RR404", 796)  # toolchains_musl declared, never wired
    assert has(r, "RR102", 1374)  # remote_tags = ":tags" where the target is remote_tag
    assert has(r, "RR502", 641) and has(r, "RR502", 638)  # rust = use_extension twice; RUST_EDITION rebound
    assert not has(r, "RR104", 1189)  # @scratch is declared in this revision


@needs_reference
def test_document_001_known_mistakes() -> None:
    r = preflight_markdown(DOC_001, use_buildifier=False)
    assert has(r, "RR001", 479, "error"), r.format()  # use_repo(llvm, ... never closed
    assert has(r, "RR001", 180, "error")
    assert has(r, "RR104", 977)  # base = "@scratch", never declared in this revision
    assert has(r, "RR104", 124)
    assert has(r, "RR503", 302)  # hub "crates" from from_cargo and from_specs
    assert len(r.errors) == 2


def test_fence_variants_and_line_numbers(tmp_path: Path) -> None:
    doc = tmp_path / "doc.md"
    doc.write_text('# t\n\n```Starlark   \nx = 1\n```\n\n~~~STARLARK\ny = "a\n~~~\n\n```python\nz = (\n```\n')
    blocks = find_blocks(doc.read_text())
    assert [(b.first, b.last) for b in blocks] == [(4, 4), (8, 8)]
    r = preflight_markdown(doc, use_buildifier=False)
    assert [(f.code, f.file, f.line) for f in r.errors] == [("RR001", str(doc), 8)]


def test_clean_document(tmp_path: Path) -> None:
    doc = tmp_path / "ok.md"
    doc.write_text('```starlark\nbazel_dep(name = "rules_rust", version = "0.46.0")\n```\n')
    assert preflight_markdown(doc, use_buildifier=False).findings == ()
