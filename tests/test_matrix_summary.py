"""The end-of-run matrix from real builds, and the main job (``matrix``) on one workspace."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pytest_rules_rust.errors import RulesRustError

pytestmark = [pytest.mark.container, pytest.mark.cargo]


@pytest.fixture(scope="module")
def engine_or_skip() -> None:
    from pytest_rules_rust.containers import detect_engine

    try:
        detect_engine()
    except RulesRustError as exc:
        pytest.skip(f"needs a Docker engine: {exc.message}; run scripts/provision.sh")


INNER = """
import pytest
from pytest_rules_rust.execution import run_binary

def test_built_and_ran(rules_rust_build):
    result = rules_rust_build("cross", platform="linux/amd64")
    assert "x86_64" in run_binary(result.artifact(kind="binary").path).stdout

def test_built_only(rules_rust_build):
    rules_rust_build("from_cargo", platform="linux/amd64")

def test_bazel_skips_with_the_reason(rules_rust_build):
    rules_rust_build("cross", platform="linux/arm64", builder="bazel")
"""


def test_summary_shows_built_ran_and_skipped(
    engine_or_skip: None, rustup_outside_pytester: None, pytester: pytest.Pytester, tmp_path: Path
) -> None:
    pytester.makepyfile(INNER)
    out = tmp_path / "report"
    result = pytester.runpytest("-p", "no:cacheprovider", "--rr-report", str(out), "-rs")
    result.assert_outcomes(passed=2, skipped=1)
    text = result.stdout.str()
    assert "rules_rust build matrix" in text
    assert "Bazelisk could not download Bazel 7.4.1: " in text  # what the real Bazelisk said
    cells = {
        (e["workspace"], e["platform"], e["builder"]): e
        for e in json.loads((out / "matrix.json").read_text())["matrix"]
    }
    assert cells[("cross", "linux/amd64", "cargo")]["status"] == "ran"
    assert cells[("cross", "linux/amd64", "cargo")]["binary_size"] > 0
    assert cells[("from_cargo", "linux/amd64", "cargo")]["status"] == "built"
    skipped = cells[("cross", "linux/arm64", "bazel")]
    assert skipped["status"] == "skipped" and "could not download Bazel" in skipped["reason"]


def test_main_job_on_one_workspace(engine_or_skip: None, tmp_path: Path) -> None:
    from pytest_rules_rust.main_job import MainJob, run_main_job
    from pytest_rules_rust.platforms import ALL_PLATFORMS

    lines: list[str] = []
    report = run_main_job(
        MainJob(out_dir=tmp_path, templates=("cross",), platforms=ALL_PLATFORMS), lines.append
    )
    assert [(e.platform, e.status) for e in report.sorted()] == [
        ("linux/amd64", "ran"),
        ("linux/arm64", "ran"),
    ]
    assert any("building for linux/arm64" in line for line in lines)
    data = json.loads((tmp_path / "report" / "matrix.json").read_text())
    assert data["counts"] == {"ran": 2}
    assert (tmp_path / "workspaces" / "cross" / "MODULE.bazel").is_file()
    assert all(e.glibc_floor and "RELRO" in e.hardening for e in report.sorted()), report.sorted()
    again = run_main_job(MainJob(out_dir=tmp_path, templates=("cross",), platforms=ALL_PLATFORMS), print)
    assert [e.status for e in again.sorted()] == ["ran", "ran"], "a second run into the same --out works"


def test_main_job_leaves_a_foreign_directory_alone(tmp_path: Path) -> None:
    from pytest_rules_rust.errors import WorkspaceError
    from pytest_rules_rust.main_job import MainJob, run_main_job

    mine = tmp_path / "workspaces" / "cross" / "notes.txt"
    mine.parent.mkdir(parents=True)
    mine.write_text("not a materialised workspace")
    with pytest.raises(WorkspaceError, match="not empty"):
        run_main_job(MainJob(out_dir=tmp_path, templates=("cross",)), print)
    assert mine.read_text() == "not a materialised workspace"


def test_main_job_reports_a_failed_build(engine_or_skip: None, tmp_path: Path) -> None:
    """A workspace that does not compile is a ``failed`` cell with its log, not an exception."""
    from pytest_rules_rust.main_job import MainJob, run_main_job
    from pytest_rules_rust.platforms import AMD64
    from pytest_rules_rust.settings import Settings
    from pytest_rules_rust.workspaces import materialise

    broken = materialise("cross", tmp_path / "templates" / "broken")
    manifest = broken.root / "rules_rust_template.toml"
    manifest.write_text(manifest.read_text().replace("[cargo.smoke]", "[cargo.unused]"))
    main_rs = next(broken.root.rglob("main.rs"))
    main_rs.write_text(main_rs.read_text() + '\nfn broken() -> u32 { "not a number" }\n')
    job = MainJob(
        out_dir=tmp_path / "out",
        templates=("broken",),
        platforms=(AMD64,),
        settings=Settings(template_dirs=(tmp_path / "templates",)),
    )
    report = run_main_job(job, lambda _line: None)
    (entry,) = report.sorted()
    assert entry.status == "failed" and entry.log and Path(entry.log).is_file()
    assert "mismatched types" in Path(entry.log).read_text()


def test_main_job_names_an_unknown_workspace(tmp_path: Path) -> None:
    from pytest_rules_rust.errors import WorkspaceError
    from pytest_rules_rust.main_job import MainJob, run_main_job

    with pytest.raises(WorkspaceError, match="unknown workspace 'nosuch'") as caught:
        run_main_job(MainJob(out_dir=tmp_path, templates=("cross", "nosuch")), print)
    assert "cross" in caught.value.hint and not (tmp_path / "report").exists()
