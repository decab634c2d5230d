"""The plugin's user surface: options with ini twins, markers, disabling, version matrix, summary."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pytest_rules_rust.settings import OPTIONS


def test_every_option_is_in_one_help_group_with_its_ini_twin(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--help")
    out = result.stdout.str()
    assert "rules_rust workspaces, container builds and assertions:" in out
    for opt in OPTIONS:
        assert opt.cli in out, opt.cli
        assert f"[default: {opt.shown_default}; ini: {opt.ini}]" in " ".join(out.split()), opt.ini
        assert opt.cli.startswith("--rr-")


def test_markers_are_registered_with_descriptions(pytester: pytest.Pytester) -> None:
    out = pytester.runpytest("--markers").stdout.str()
    for name in ("cross", "musl", "proto", "container", "bazel", "cargo", "bench"):
        line = next(line for line in out.splitlines() if line.startswith(f"@pytest.mark.{name}:"))
        assert len(line.split(":", 1)[1].strip()) > 10


def test_strict_markers_accept_plugin_markers(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest
        @pytest.mark.cross
        @pytest.mark.musl
        def test_x():
            pass
        """
    )
    pytester.runpytest("--strict-markers").assert_outcomes(passed=1)


def test_plugin_can_be_disabled(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("-p", "no:rules_rust", "--help")
    assert "--rr-platform" not in result.stdout.str()
    pytester.makepyfile("def test_x(rules_rust_settings): pass")
    result = pytester.runpytest("-p", "no:rules_rust")
    result.assert_outcomes(errors=1)
    assert "fixture 'rules_rust_settings' not found" in result.stdout.str()


def test_command_line_beats_ini_beats_default(pytester: pytest.Pytester) -> None:
    pytester.makeini(
        """
        [pytest]
        rr_platform = linux/arm64
        rr_image_source = public
        rr_set =
            rust_edition=2018
        """
    )
    pytester.makepyfile(
        """
        def test_settings(rules_rust_settings, request):
            s = rules_rust_settings
            print("RESULT", s.platforms, s.image_source, s.params, s.builders)
        """
    )
    out = pytester.runpytest("-s").stdout.str()
    assert "RESULT ('linux/arm64',) public {'rust_edition': '2018'} ('cargo',)" in out
    out = pytester.runpytest("-s", "--rr-platform", "linux/amd64", "--rr-image-source", "local").stdout.str()
    assert "RESULT ('linux/amd64',) local {'rust_edition': '2018'} ('cargo',)" in out


def test_bad_ini_value_is_a_clear_error(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nrr_image_source = sometimes\n")
    pytester.makepyfile("def test_x(): pass")
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert [line for line in result.stderr.lines if line] == [
        "ERROR: --rr-image-source (ini rr_image_source): 'sometimes' is not one of local, public"
    ]


def test_bad_set_assignment_names_the_item(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_x(): pass")
    result = pytester.runpytest("--rr-set", "rust_edition")
    assert result.ret != 0
    assert "'rust_edition' is not KEY=VALUE" in result.stderr.str() + result.stdout.str()


def test_version_options_parametrise_the_matrix(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        def test_cell(rr_versions, rr_platform):
            print("CELL", rr_platform, sorted(rr_versions.items()))
        """
    )
    result = pytester.runpytest(
        "-v",
        "--rr-bazel-version",
        "7.4.1",
        "--rr-bazel-version",
        "8.0.0",
        "--rr-rules-rust-version",
        "0.46.0",
        "--rr-platform",
        "linux/arm64",
    )
    result.assert_outcomes(passed=2)
    out = result.stdout.str()
    assert "test_cell[bazel7.4.1-rules_rust0.46.0-linux-arm64]" in out
    assert "test_cell[bazel8.0.0-rules_rust0.46.0-linux-arm64]" in out


def test_default_matrix_is_one_cell_per_platform(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_cell(rr_versions, rr_platform): assert rr_versions == {}")
    result = pytester.runpytest("-v")
    result.assert_outcomes(passed=2)
    assert "test_cell[defaults-linux-amd64]" in result.stdout.str()


MATRIX_TEST = """
import pytest
from pytest_rules_rust import report

@pytest.mark.parametrize("platform", ["linux/amd64", "linux/arm64"])
def test_build(request, platform):
    report.record(request.node.user_properties, report.MatrixEntry(
        workspace="cross", platform=platform, builder="cargo", status="built",
        duration_s=1.5, binary_size=4096))

def test_skip(request):
    report.record(request.node.user_properties, report.MatrixEntry(
        workspace="proto", platform="linux/arm64", builder="bazel", status="skipped",
        reason="no Bazel"))
    pytest.skip("no Bazel")
"""


def test_matrix_summary_and_report_files(pytester: pytest.Pytester, tmp_path: Path) -> None:
    pytester.makepyfile(MATRIX_TEST)
    out_dir = tmp_path / "report"
    result = pytester.runpytest("--rr-report", str(out_dir))
    result.assert_outcomes(passed=2, skipped=1)
    text = result.stdout.str()
    assert "rules_rust build matrix" in text
    assert "skipped (no Bazel)" in text
    data = json.loads((out_dir / "matrix.json").read_text())
    assert data["schema_version"] == 2
    assert data["counts"] == {"built": 2, "skipped": 1}
    cells = {(e["workspace"], e["platform"]): e for e in data["matrix"]}
    assert cells[("cross", "linux/arm64")]["binary_size"] == 4096
    assert (
        "| cross | linux/amd64 | cargo | gnu | debug | built | 1.5 s | 4.0 KiB |"
        in (out_dir / "matrix.md").read_text()
    )


def test_matrix_cells_follow_the_version_matrix(pytester: pytest.Pytester, tmp_path: Path) -> None:
    pytester.makepyfile(
        """
        from pytest_rules_rust import report
        from pytest_rules_rust.builders.base import BuildRequest
        from pytest_rules_rust.platforms import AMD64

        def test_cell(request, rules_rust_workspace, rr_versions):
            ws = rules_rust_workspace("cross", **rr_versions)
            entry = report.entry_for(BuildRequest(ws, AMD64), "cargo", status="built")
            report.record(request.node.user_properties, entry)
        """
    )
    out_dir = tmp_path / "report"
    versions = ["--rr-rules-rust-version", "0.46.0", "--rr-rules-rust-version", "0.63.0"]
    result = pytester.runpytest("-p", "no:cacheprovider", *versions, "--rr-report", str(out_dir))
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(
        ["cross *linux/amd64*built*", "cross [[]rules_rust_version=0.63.0[]] *linux/amd64*built*"]
    )
    data = json.loads((out_dir / "matrix.json").read_text())
    assert [cell["params"] for cell in data["matrix"]] == [{}, {"rules_rust_version": "0.63.0"}]
    markdown = (out_dir / "matrix.md").read_text()
    assert "| cross [rules_rust_version=0.63.0] | linux/amd64 | cargo |" in markdown


def test_matrix_entries_cross_xdist_workers(pytester: pytest.Pytester, tmp_path: Path) -> None:
    pytest.importorskip("xdist", reason="pytest-xdist is a test dependency: pip install -e '.[test]'")
    pytester.makepyfile(MATRIX_TEST)
    out_dir = tmp_path / "report"
    result = pytester.runpytest("-n", "2", "--rr-report", str(out_dir))
    result.assert_outcomes(passed=2, skipped=1)
    data = json.loads((out_dir / "matrix.json").read_text())
    assert data["counts"] == {"built": 2, "skipped": 1}
