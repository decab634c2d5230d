"""A user template's marked values: what its files say is its default where its manifest says
nothing, files that disagree, and a declared parameter that nothing uses. Real template copies,
read by the command line (a real process) and by ``load_template``, which the plugin's factory uses."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from reliability_helpers import REPO, assert_clear_error, run_cli

from pytest_rules_rust.errors import WorkspaceError
from pytest_rules_rust.workspaces import load_template, materialise

RULES_RUST_LINE = 'bazel_dep(name = "rules_rust", version = "0.46.0")  # rr:param rules_rust_version'


def _template(tmp_path: Path) -> tuple[Path, Path]:
    """A copy of ``from_cargo`` (no [defaults] table) as the user template ``mine``; returns it and
    its manifest."""
    root = tmp_path / "templates" / "mine"
    shutil.copytree(REPO / "fixture_workspaces" / "from_cargo", root, ignore=shutil.ignore_patterns("target"))
    manifest = root / "rules_rust_template.toml"
    assert "[defaults]" not in manifest.read_text()
    return root, manifest


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{path} no longer holds {old!r}"
    path.write_text(text.replace(old, new))


def test_the_marked_value_is_the_default_when_the_manifest_sets_none(tmp_path: Path) -> None:
    root, _manifest = _template(tmp_path)
    _edit(root / "MODULE.bazel", RULES_RUST_LINE, RULES_RUST_LINE.replace("0.46.0", "0.63.0"))
    assert load_template(root).defaults["rules_rust_version"] == "0.63.0"
    proc = run_cli("materialise", "mine", tmp_path / "ws", "--template-dir", root.parent)
    assert proc.returncode == 0, proc.stderr
    assert 'version = "0.63.0")  # rr:param' in (tmp_path / "ws" / "MODULE.bazel").read_text()
    ws = materialise("mine", tmp_path / "ws2", {"rules_rust_version": "0.55.0"}, [root.parent])
    assert 'version = "0.55.0")  # rr:param' in (ws.root / "MODULE.bazel").read_text(), "--set still wins"
    assert ws.changed_params == {"rules_rust_version": "0.55.0"}


def test_marked_values_that_disagree_name_both_places(tmp_path: Path) -> None:
    root, manifest = _template(tmp_path)
    _edit(root / "Cargo.toml", 'edition = "2021"', 'edition = "2018"')
    proc = run_cli("list", "--template-dir", root.parent)
    err = assert_clear_error(proc, code=2, names=[manifest, "rust_edition", "'2018' at Cargo.toml:4"])
    assert "'2021' at MODULE.bazel:" in err and "[defaults] rust_edition" in err
    _edit(manifest, "[supports]", '[defaults]\nrust_edition = "2021"\n\n[supports]')
    assert load_template(root).defaults["rust_edition"] == "2021", "a [defaults] entry settles it"


def test_a_default_outside_supports_says_to_add_a_defaults_entry(tmp_path: Path) -> None:
    root, manifest = _template(tmp_path)
    _edit(root / "MODULE.bazel", RULES_RUST_LINE, 'bazel_dep(name = "rules_rust", version = "0.46.0")')
    _edit(manifest, 'rules_rust_version = ">=0.46.0, <0.74.0"', 'rules_rust_version = ">=0.55.0"')
    with pytest.raises(WorkspaceError, match=r"default rules_rust_version 0\.46\.0 .* outside") as caught:
        load_template(root)
    assert caught.value.hint.startswith(
        'add [defaults] rules_rust_version = "..." with a version in >=0.55.0'
    )


def test_a_declared_parameter_nothing_marks_is_an_error(tmp_path: Path) -> None:
    root, manifest = _template(tmp_path)
    for name in ("Cargo.toml", "MODULE.bazel"):
        text = (root / name).read_text()
        (root / name).write_text(text.replace("  # rr:param rust_edition", ""))
    proc = run_cli("materialise", "mine", tmp_path / "ws", "--template-dir", root.parent)
    assert_clear_error(
        proc, code=2, names=[manifest, "rust_edition is declared but no file marks it with `# rr:param"]
    )


def test_bazel_version_needs_no_marker_the_harness_reads_it(tmp_path: Path) -> None:
    root, manifest = _template(tmp_path)
    _edit(manifest, '".bazelversion" = "bazel_version"', "")
    (root / ".bazelversion").unlink()
    ws = materialise(root, tmp_path / "ws", {"bazel_version": "7.3.1"})
    assert ws.params["bazel_version"] == "7.3.1"
