"""The ``rules_rust_workspace`` fixture driven through pytest: ini and command-line settings."""

from __future__ import annotations

import shutil

import pytest
from workspace_helpers import REPO

PLUGIN = ("-p", "pytest_rules_rust.plugin.workspaces")


def test_fixture_reads_ini_and_command_line(pytester: pytest.Pytester) -> None:
    shutil.copytree(REPO / "fixture_workspaces" / "cross", pytester.path / "templates" / "downstream")
    pytester.makeini(
        """
        [pytest]
        rr_template_dir = templates
        rr_set =
            llvm_version=18.1.8
            rust_edition=2018
        """
    )
    pytester.makepyfile(
        """
        def test_it(rules_rust_workspace):
            ws = rules_rust_workspace("downstream", sysroot=True)
            assert ws.params["llvm_version"] == "18.1.8"      # ini
            assert ws.params["rust_edition"] == "2015"        # command line beats ini
            assert ws.params["sysroot"] is True               # per call
            assert 'LLVM_VERSION = "18.1.8"' in (ws.root / "MODULE.bazel").read_text()
            plain = rules_rust_workspace("from_cargo")        # takes no llvm_version: not applied
            assert "llvm_version" not in plain.params and plain.root != ws.root
        """
    )
    result = pytester.runpytest(*PLUGIN, "--rr-set", "rust_edition=2015", "-q")
    result.assert_outcomes(passed=1)


def test_bad_session_parameter_is_an_error_naming_it(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        def test_it(rules_rust_workspace):
            rules_rust_workspace("cross")
        """
    )
    result = pytester.runpytest(*PLUGIN, "--rr-set", "rust_editon=2018", "-q")
    assert result.ret == pytest.ExitCode.USAGE_ERROR  # refused at start-up, before any test runs
    result.stderr.fnmatch_lines(["*unknown parameter 'rust_editon' (did you mean 'rust_edition'?)*"])


def test_fixture_is_documented(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest(*PLUGIN, "--fixtures", "-q")
    result.stdout.fnmatch_lines(
        ["rules_rust_workspace*", "*Materialise a workspace into a fresh temporary directory*"]
    )
