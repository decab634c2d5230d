"""``python -m pytest_rules_rust preflight PATH [--json]``: exit codes and JSON shape."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pytest_rules_rust.cli import main
from pytest_rules_rust.preflight import buildifier, preflight_workspace

CASES = Path(__file__).parent / "data" / "preflight" / "cases"


def test_clean_workspace_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["preflight", str(CASES / "clean"), "--no-buildifier"]) == 0
    assert "no findings" in capsys.readouterr().out


def test_errors_exit_1_with_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["preflight", str(CASES / "crate_missing"), "--json", "--no-buildifier"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data == {
        "findings": [
            {
                "file": "BUILD.bazel",
                "line": 8,
                "code": "RR301",
                "severity": "error",
                "message": data["findings"][0]["message"],
                "hint": data["findings"][0]["hint"],
            }
        ]
    }
    assert "tokio" in data["findings"][0]["message"]


def test_markdown_file_names_itself(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    doc = tmp_path / "guide.md"
    doc.write_text('text\n```starlark\nx = "1.0\n```\n')
    assert main(["preflight", str(doc), "--json", "--no-buildifier"]) == 1
    (finding,) = json.loads(capsys.readouterr().out)["findings"]
    assert (finding["file"], finding["line"], finding["code"]) == ("guide.md", 3, "RR001")


def test_missing_path_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["preflight", str(tmp_path / "nope")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_buildifier_second_opinion_or_one_info(monkeypatch: pytest.MonkeyPatch) -> None:
    if buildifier.find_buildifier() is not None:
        report = preflight_workspace(CASES / "package_twice")
        assert any(f.code.startswith("BF:") for f in report.findings), report.format()
    buildifier.find_buildifier.cache_clear()
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.delenv("BUILDIFIER", raising=False)
    try:
        report = preflight_workspace(CASES / "clean")
    finally:
        buildifier.find_buildifier.cache_clear()
    assert [(f.code, f.severity) for f in report.findings] == [("RR700", "info")]
    assert report.ok
