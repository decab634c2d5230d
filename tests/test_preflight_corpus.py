"""Real workspaces that rules_rust's CI builds: preflight must not crash on them nor raise an error.

The corpus (``../shared/corpus``: rules_rust's ``examples/`` and its root module) is shared
material beside the checkout, not part of the project; without it these tests skip and say so.
An error finding on a workspace that CI builds is a false alarm, except where the corpus
README records a fact of the copy (listed in ``FACTS_OF_THE_COPY``, each with its reason).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest

from pytest_rules_rust.preflight import PreflightReport, preflight_workspace

CORPUS = Path(__file__).resolve().parent.parent.parent / "shared" / "corpus"
EXAMPLES = CORPUS / "rules_rust_examples"
ROOT_MODULE = CORPUS / "rules_rust_root"

# (workspace, file, code): errors that are true of the copy, as its README says.
FACTS_OF_THE_COPY = {
    # "without rust/private/known_shas.bzl, a large generated file that this copy lacks"
    ("rules_rust_root", "rust/private/repository_utils.bzl", "RR103"),
}


@cache
def _report(root: Path) -> PreflightReport:
    return preflight_workspace(root, use_buildifier=False)


def _workspaces() -> list[Path]:
    if not EXAMPLES.is_dir():
        return []
    found = sorted(p.parent for p in EXAMPLES.rglob("MODULE.bazel"))
    return [*found, ROOT_MODULE] if ROOT_MODULE.is_dir() else found


@pytest.mark.parametrize(
    "root", _workspaces() or [None], ids=lambda p: p.name if isinstance(p, Path) else "no-corpus"
)
def test_corpus_workspace_has_no_error_and_no_crash(root: Path | None) -> None:
    if root is None:
        pytest.skip(f"the real-world corpus is not at {CORPUS} (shared material beside the checkout)")
    report = _report(root)
    crashes = [f for f in report.findings if f.code == "RR009"]
    assert crashes == [], report.format()
    errors = [f for f in report.errors if (root.name, f.file, f.code) not in FACTS_OF_THE_COPY]
    assert errors == [], report.format()


def test_the_copy_facts_are_still_found() -> None:
    """The errors excused above are real: the checker must keep seeing them."""
    if not ROOT_MODULE.is_dir():
        pytest.skip(f"the real-world corpus is not at {CORPUS} (shared material beside the checkout)")
    report = _report(ROOT_MODULE)
    assert {("rules_rust_root", f.file, f.code) for f in report.errors} == FACTS_OF_THE_COPY
