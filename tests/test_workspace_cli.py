"""``python -m pytest_rules_rust list`` and ``materialise``: output, exit codes, one-paragraph errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from workspace_helpers import REPO, SIX

from pytest_rules_rust.cli import main
from pytest_rules_rust.workspace_params import CATALOGUE


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest_rules_rust", *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
    )


def test_list_json_names_all_six_workspaces_with_their_defaults() -> None:
    result = run_cli("list", "--json")
    assert result.returncode == 0, result.stderr
    listing = json.loads(result.stdout)
    by_name = {entry["name"]: entry for entry in listing}
    assert set(by_name) == set(SIX)
    for entry in listing:
        assert set(entry) == {"name", "parameters"}
        assert entry["parameters"], entry["name"]
        assert set(entry["parameters"]) <= set(CATALOGUE)
    assert by_name["from_cargo"]["parameters"] == {
        "bazel_version": "7.4.1",
        "rules_rust_version": "0.46.0",
        "rust_versions": ["1.79.0"],
        "rust_edition": "2021",
    }
    # on by default: toolchains_llvm 1.0.0 makes no C toolchain for a cross target without a sysroot
    assert by_name["cross"]["parameters"]["sysroot"] is True
    assert by_name["cross"]["parameters"]["target_triples"] == [
        "aarch64-unknown-linux-gnu",
        "x86_64-unknown-linux-gnu",
    ]


def test_list_text(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert "cross: toolchains_llvm" in out and "    sysroot = true" in out


def test_materialise_applies_set_values(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    dest = tmp_path / "ws"
    code = main([
        "materialise", "cross", str(dest),
        "--set", "sysroot=true",
        "--set", "target_triples=x86_64-unknown-linux-musl,aarch64-unknown-linux-musl",
        "--set", "bazel_version=8.0.1",
    ])  # fmt: skip
    assert code == 0
    assert capsys.readouterr().out.strip() == str(dest.resolve())
    module = (dest / "MODULE.bazel").read_text()
    assert '    "aarch64-unknown-linux-musl",\n]  # rr:param target_triples' in module
    assert "\nhttp_archive = use_repo_rule(" in module
    assert (dest / ".bazelversion").read_text() == "8.0.1\n"


def test_materialise_with_template_dir(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    first = tmp_path / "first"
    assert main(["materialise", "from_cargo", str(first)]) == 0
    extra = tmp_path / "extra"
    extra.mkdir()
    first.rename(extra / "downstream")
    capsys.readouterr()
    assert main(["list", "--json", "--template-dir", str(extra)]) == 0
    assert "downstream" in {e["name"] for e in json.loads(capsys.readouterr().out)}
    dest = tmp_path / "ws"
    assert (
        main(
            [
                "materialise",
                "downstream",
                str(dest),
                "--template-dir",
                str(extra),
                "--set",
                "rust_edition=2018",
            ]
        )
        == 0
    )
    assert 'edition = "2018"' in (dest / "Cargo.toml").read_text()


CROSS = ["materialise", "cross", "DEST", "--set"]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["materialise", "crosss", "DEST"], "unknown workspace 'crosss' (did you mean 'cross'?)"),
        ([*CROSS, "sysroot"], "--set 'sysroot' is not KEY=VALUE"),
        ([*CROSS, "sysrot=true"], "unknown parameter 'sysrot' (did you mean 'sysroot'?)"),
        ([*CROSS, "sysroot=perhaps"], "invalid value 'perhaps' for parameter 'sysroot'"),
        ([*CROSS, "rust_edition=2019"], "parameter 'rust_edition'"),
        ([*CROSS, "target_triples=x86_64-pc-windows-msvc"], "parameter 'target_triples'"),
        ([*CROSS, "llvm_version=17.0.6", "--set", "llvm_version=18.1.8"], "given twice"),
        ([*CROSS, 'bazel_version=7.4.1")\nload("x"'], "parameter 'bazel_version'"),
        (["materialise", "from_cargo", "DEST", "--set", "llvm_version=1.0.0"], "'llvm_version' is not taken"),
        (["list", "--template-dir", "/nonexistent/t"], "template directory /nonexistent/t does not exist"),
    ],
)  # fmt: skip
def test_invalid_input_exits_2_with_one_paragraph(
    args: list[str], expected: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = [str(tmp_path / "ws") if a == "DEST" else a for a in args]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert expected in err
    assert err.startswith("error: ") and "\nhint: " in err
    assert not (tmp_path / "ws").exists()


def test_invalid_input_from_the_real_entry_point(tmp_path: Path) -> None:
    result = run_cli("materialise", "from_cargo", str(tmp_path / "ws"), "--set", "rust_versions=1.79")
    assert result.returncode == 2
    assert "invalid value '1.79' for parameter 'rust_versions'" in result.stderr
    assert "Traceback" not in result.stderr


def test_non_empty_destination_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "ws").mkdir()
    (tmp_path / "ws" / "x").write_text("")
    assert main(["materialise", "cross", str(tmp_path / "ws")]) == 2
    assert "is not empty" in capsys.readouterr().err


def test_version_names_the_installed_package(capsys: pytest.CaptureFixture[str]) -> None:
    from importlib.metadata import version

    from pytest_rules_rust.cli import main

    with pytest.raises(SystemExit) as exited:
        main(["--version"], prog="pytest-rules-rust")
    assert exited.value.code == 0
    assert capsys.readouterr().out.strip() == f"pytest-rules-rust {version('pytest-rules-rust')}"
