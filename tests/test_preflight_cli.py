"""``python -m pytest_rules_rust preflight PATH [--json]``: exit codes and JSON shape."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from pytest_rules_rust.cli import main
from pytest_rules_rust.preflight import buildifier, preflight_workspace

CASES = Path(__file__).parent / "data" / "preflight" / "cases"


@pytest.fixture(autouse=True)
def own_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The command line caches results: give each test its own cache directory."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("PYTEST_RULES_RUST_CACHE", str(cache))
    return cache


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
    assert (finding["file"], finding["line"], finding["code"]) == (str(doc), 3, "RR001")


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


def test_unchanged_workspace_is_answered_from_the_cache(
    tmp_path: Path, own_cache: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    ws = tmp_path / "ws"
    shutil.copytree(CASES / "crate_missing", ws)
    assert main(["preflight", str(ws), "--json", "--no-buildifier"]) == 1
    first = capsys.readouterr().out
    assert any(own_cache.rglob("*.json")), "the run stored its result"

    from pytest_rules_rust.preflight import evaluate

    def not_again(*args: object, **kwargs: object) -> None:
        raise AssertionError("an unchanged workspace must not be evaluated again")

    monkeypatch.setattr(evaluate, "evaluate_workspace", not_again)
    assert main(["preflight", str(ws), "--json", "--no-buildifier"]) == 1
    assert capsys.readouterr().out == first
    monkeypatch.undo()
    monkeypatch.setenv("PYTEST_RULES_RUST_CACHE", str(own_cache))
    build = ws / "BUILD.bazel"
    build.write_text(build.read_text().replace("@crates//:tokio", "@crates//:serde"))
    assert main(["preflight", str(ws), "--json", "--no-buildifier"]) == 0, "a changed file is evaluated again"
    assert json.loads(capsys.readouterr().out) == {"findings": []}


def test_buildifier_results_are_cached_per_file(tmp_path: Path) -> None:
    if buildifier.find_buildifier() is None:
        pytest.skip("buildifier is not on PATH (npm install -g @bazel/buildifier)")
    from pytest_rules_rust.preflight.results_cache import ResultsCache

    store = ResultsCache(tmp_path / "cache")
    root = CASES / "package_twice"
    files = ["BUILD.bazel", "MODULE.bazel"]
    first = buildifier.start(root, files, store)
    assert first.procs, "nothing cached yet: buildifier runs"
    found = first.finish(files)
    again = buildifier.start(root, files, store)
    assert again.procs == [] and again.finish(files) == found
    assert any(f.code.startswith("BF:") for f in found)


def test_generated_files_are_not_linted(tmp_path: Path) -> None:
    if buildifier.find_buildifier() is None:
        pytest.skip("buildifier is not on PATH (npm install -g @bazel/buildifier)")
    flagged = (CASES / "package_twice" / "BUILD.bazel").read_text()
    (tmp_path / "own").mkdir()
    (tmp_path / "own" / "BUILD.bazel").write_text(flagged)
    (tmp_path / "vendored").mkdir()
    (tmp_path / "vendored" / "BUILD.bazel").write_text(
        "# @generated\n# DO NOT MODIFY: This file is auto-generated by a crate_universe tool.\n" + flagged
    )
    files = ["own/BUILD.bazel", "vendored/BUILD.bazel"]
    found = buildifier.lint_files(tmp_path, files)
    assert {(f.file, f.code) for f in found} == {("own/BUILD.bazel", "BF:package-on-top")}


def test_print_in_evaluated_files_does_not_reach_the_output(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    ws = tmp_path / "ws"
    shutil.copytree(CASES / "clean", ws)
    (ws / "BUILD.bazel").write_text('print("hello from BUILD")\n' + (ws / "BUILD.bazel").read_text())
    assert main(["preflight", str(ws), "--json", "--no-buildifier"]) == 0
    out, err = capfd.readouterr()
    assert json.loads(out) == {"findings": []}
    assert "hello from BUILD" not in out + err


def test_a_newly_kept_api_model_invalidates_the_cached_run(
    tmp_path: Path, own_cache: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    ws = tmp_path / "ws"
    shutil.copytree(CASES / "clean", ws)
    assert main(["preflight", str(ws), "--no-buildifier"]) == 0
    capsys.readouterr()
    from pytest_rules_rust.preflight import evaluate

    calls: list[object] = []
    real = evaluate.evaluate_workspace

    def counted(*args: object, **kwargs: object) -> object:
        calls.append(args)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(evaluate, "evaluate_workspace", counted)
    assert main(["preflight", str(ws), "--no-buildifier"]) == 0
    assert calls == [], "unchanged: answered from the cache"
    (own_cache / "api_models" / "rules_rust").mkdir(parents=True)  # as a model kept after a bazel fetch
    assert main(["preflight", str(ws), "--no-buildifier"]) == 0
    assert len(calls) == 1, "where API models come from changed: evaluated again"
