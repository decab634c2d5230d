"""Markdown documents collected as pytest items (one per Starlark block) and the ``preflight`` fixture."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

settings = pytest.importorskip("pytest_rules_rust.settings")
INI_KEY = next(o.ini for o in settings.OPTIONS if o.name == "doc")

DOC = 'Intro\n\n```starlark\nx = 1\n```\n\ntext\n\n```Starlark\nuse_repo(llvm, "a"\n\nRUST = "2021"\n```\n'


def test_doc_blocks_become_items(pytester: pytest.Pytester) -> None:
    pytester.makefile(".md", guide=DOC)
    pytester.makeini(f"[pytest]\n{INI_KEY} = guide.md\n")
    result = pytester.runpytest_inprocess(
        "-p", "pytest_rules_rust.plugin.markdown", "-v", "-p", "no:cacheprovider"
    )
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        ["*guide.md::starlark@L4 PASSED*", "*guide.md::starlark@L10 FAILED*", "*guide.md:10: error RR001*"]
    )


def test_rr_doc_option_outside_the_test_paths(pytester: pytest.Pytester, tmp_path: Path) -> None:
    doc = tmp_path / "elsewhere.md"
    doc.write_text("```starlark\nx = 1\n```\n")
    pytester.makepyfile(test_x="def test_x():\n    pass\n")
    result = pytester.runpytest_inprocess(
        "-p", "pytest_rules_rust.plugin.markdown", "--rr-doc", str(doc), "-p", "no:cacheprovider"
    )
    result.assert_outcomes(passed=2)


def test_preflight_fixture(pytester: pytest.Pytester) -> None:
    cases = Path(__file__).parent / "data" / "preflight" / "cases"
    pytester.makepyfile(
        test_f=f"""
import pytest
from pytest_rules_rust.errors import PreflightError

def test_clean(preflight):
    assert preflight({str(cases / "clean")!r}, use_buildifier=False).ok

def test_strict(preflight):
    with pytest.raises(PreflightError, match="RR301"):
        preflight({str(cases / "crate_missing")!r}, strict=True, use_buildifier=False)
"""
    )
    result = pytester.runpytest_inprocess("-p", "pytest_rules_rust.plugin.markdown", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)
