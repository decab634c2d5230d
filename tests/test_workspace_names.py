"""What a workspace NAME names, the same for ``materialise``, ``build``, ``matrix --workspace`` and
the plugin's factory: a template's name, or a workspace directory (``./ws``, or a bare ``ws`` when
no template has that name). Real files and real processes; no build starts (preflight stops it)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from reliability_helpers import REPO, assert_clear_error, run_cli

TEMPLATES = REPO / "fixture_workspaces"


def _plain_workspace(where: Path, *, broken: bool = False) -> Path:
    """A copy of the ``cross`` template without its manifest: a user's own workspace. ``broken``
    plants a duplicate ``bazel_dep`` that preflight reports as an error."""
    shutil.copytree(TEMPLATES / "cross", where, ignore=shutil.ignore_patterns("target", "bazel-*"))
    (where / "rules_rust_template.toml").unlink()
    if broken:
        module = where / "MODULE.bazel"
        module.write_text(module.read_text() + '\nbazel_dep(name = "rules_rust", version = "0.46.0")\n')
    return where


def test_a_bare_name_that_is_only_a_directory_is_that_directory(tmp_path: Path) -> None:
    _plain_workspace(tmp_path / "ws")
    proc = run_cli("materialise", "ws", tmp_path / "copy", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "copy" / "MODULE.bazel").is_file() and proc.stderr == ""


def test_a_name_of_a_template_and_a_directory_takes_the_template_and_says_so(tmp_path: Path) -> None:
    _plain_workspace(tmp_path / "cross")
    (tmp_path / "cross" / "mine.txt").write_text("the directory's")
    proc = run_cli("materialise", "cross", tmp_path / "t", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "t" / "rules_rust_template.toml").is_file(), "the template was used"
    assert "using the template (pass ./cross to use the directory)" in proc.stderr
    proc = run_cli("materialise", "./cross", tmp_path / "d", cwd=tmp_path)
    assert proc.returncode == 0 and (tmp_path / "d" / "mine.txt").is_file(), proc.stderr


def test_the_plugin_factory_resolves_names_as_the_command_line_does(pytester: pytest.Pytester) -> None:
    _plain_workspace(pytester.path / "ws")
    _plain_workspace(pytester.path / "cross")
    pytester.makepyfile(
        """
        import pytest

        def test_names(rules_rust_workspace):
            assert not (rules_rust_workspace("ws").root / "rules_rust_template.toml").exists()
            with pytest.warns(UserWarning, match="pass ./cross to use the directory"):
                template = rules_rust_workspace("cross")
            assert (template.root / "rules_rust_template.toml").is_file()
        """
    )
    pytester.runpytest_subprocess("-p", "no:cacheprovider").assert_outcomes(passed=1)


def test_build_with_a_bare_directory_name_names_the_source_to_edit(tmp_path: Path) -> None:
    mine = _plain_workspace(tmp_path / "ws", broken=True)
    out = tmp_path / "out"
    proc = run_cli("build", "ws", "--platform", "linux/amd64", "--out", out, cwd=tmp_path)
    err = assert_clear_error(proc, code=1, names=["preflight found 1 error(s)", "MODULE.bazel:"])
    assert f"a copy of {mine}: edit the files there" in err and f"source: {mine}" in err


def test_matrix_takes_a_workspace_directory(tmp_path: Path) -> None:
    _plain_workspace(tmp_path / "mine", broken=True)
    proc = run_cli(
        "matrix", "--workspace", "./mine", "--platform", "linux/amd64", "--out", "out", cwd=tmp_path
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    (entry,) = json.loads((tmp_path / "out" / "report" / "matrix.json").read_text())["matrix"]
    assert (entry["workspace"], entry["status"]) == ("mine", "failed")
    assert entry["reason"].startswith("preflight found 1 error(s): MODULE.bazel:")
    assert str(tmp_path) not in entry["reason"]
