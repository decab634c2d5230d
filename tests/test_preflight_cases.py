"""Planted defects: each case workspace has exactly one mistake, found with code, file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_rules_rust.preflight import preflight_workspace

CASES = Path(__file__).parent / "data" / "preflight" / "cases"

# case directory -> (code, file, line, severity), or a list of them where the case shows that
# one defect does not hide another
EXPECTED: dict[str, tuple[str, str, int, str] | list[tuple[str, str, int, str]]] = {
    "syntax_string": ("RR001", "BUILD.bazel", 5, "error"),
    "unclosed_use_repo": ("RR001", "MODULE.bazel", 8, "error"),
    "missing_load": ("RR002", "BUILD.bazel", 1, "error"),
    "missing_package": ("RR101", "BUILD.bazel", 8, "error"),
    "missing_target": ("RR102", "BUILD.bazel", 11, "error"),
    "missing_bzl": ("RR103", "BUILD.bazel", 1, "error"),
    "repo_not_visible": ("RR104", "BUILD.bazel", 2, "error"),
    "select_key": ("RR105", "BUILD.bazel", 7, "error"),
    "constraint_typo": ("RR201", "build/platforms/BUILD.bazel", 5, "error"),
    "uncovered_platform": ("RR202", "build/platforms/BUILD.bazel", 1, "error"),  # a transition builds it
    "uncovered_platform_config": ("RR202", "build/platforms/BUILD.bazel", 1, "warning"),  # build:riscv only
    "crate_missing": ("RR301", "BUILD.bazel", 8, "error"),
    "crate_spelling": ("RR301", "BUILD.bazel", 7, "error"),  # @crates//:cfg_if, the alias is cfg-if
    # a member's Cargo.toml is not TOML: reported, and the other manifests still checked (itoa)
    "cargo_toml_broken": [("RR301", "BUILD.bazel", 8, "error"), ("RR302", "apps/a/Cargo.toml", 8, "error")],
    "cargo_member_untracked": ("RR303", "MODULE.bazel", 12, "error"),  # apps/pong matches apps/*
    "cargo_lock_stale": ("RR304", "apps/a/Cargo.toml", 10, "error"),  # itoa, target-specific
    "toolchain_package": ("RR401", "MODULE.bazel", 15, "error"),
    "llvm_unregistered": ("RR402", "MODULE.bazel", 26, "warning"),
    "sysroot_arch": ("RR403", "MODULE.bazel", 29, "error"),
    "musl_unwired": ("RR404", "MODULE.bazel", 16, "warning"),
    "dup_bazel_dep": ("RR501", "MODULE.bazel", 16, "error"),
    "rebinding": ("RR502", "MODULE.bazel", 16, "error"),
    "dup_hub": ("RR503", "MODULE.bazel", 15, "error"),
    "package_twice": ("RR504", "BUILD.bazel", 11, "error"),
    "load_after": ("RR505", "build/defs.bzl", 6, "error"),
    "ports": ("RR601", "BUILD.bazel", 20, "error"),
    "empty_glob": ("RR602", "BUILD.bazel", 6, "error"),
}


def test_every_case_directory_has_an_expectation() -> None:
    dirs = {p.name for p in CASES.iterdir() if p.is_dir()} - {"clean"}
    assert dirs == set(EXPECTED)


def test_clean_case_has_no_findings() -> None:
    assert preflight_workspace(CASES / "clean", use_buildifier=False).findings == ()


@pytest.mark.parametrize("case", sorted(EXPECTED))
def test_planted_defect_is_found_where_it_is(case: str) -> None:
    expected = EXPECTED[case]
    report = preflight_workspace(CASES / case, use_buildifier=False)
    found = [(f.code, f.file, f.line, f.severity) for f in report.findings]
    assert found == (expected if isinstance(expected, list) else [expected]), report.format()
    assert all(f.message and f.hint for f in report.findings)
