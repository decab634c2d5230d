"""Our workspace template, materialised with parameters and checked statically."""

from __future__ import annotations

from pathlib import Path

from pytest_rules_rust import Cache, PreflightRunner, Settings, Workspace, WorkspaceFactory


def test_template_takes_our_parameters(rules_rust_workspace: WorkspaceFactory) -> None:
    ws: Workspace = rules_rust_workspace("greeter", rust_edition="2018")
    assert ws.name == "greeter" and ws.params["rust_edition"] == "2018"
    assert 'edition = "2018"' in (ws.root / "Cargo.toml").read_text()
    assert 'edition = "2018"' in (ws.root / "MODULE.bazel").read_text()


def test_builtin_templates_ship_with_the_plugin(rules_rust_workspace: WorkspaceFactory) -> None:
    ws = rules_rust_workspace("cross")
    assert (ws.root / "MODULE.bazel").is_file() and (ws.root / ".bazelrc").is_file()


def test_preflight_takes_the_workspace(
    rules_rust_workspace: WorkspaceFactory, preflight: PreflightRunner, rr_versions: dict[str, object]
) -> None:
    ws = rules_rust_workspace("greeter", **rr_versions)
    report = preflight(ws, strict=True)
    assert report.ok, report.format()


def test_preflight_finds_a_broken_label(
    rules_rust_workspace: WorkspaceFactory, preflight: PreflightRunner
) -> None:
    ws = rules_rust_workspace("greeter")
    build = ws.root / "BUILD.bazel"
    build.write_text(build.read_text() + '\nalias(name = "broken", actual = ":no_such_target")\n')
    report = preflight(ws.root)
    assert [f.line for f in report.errors if f.file.endswith("BUILD.bazel")], report.format()


def test_settings_and_cache_come_from_the_session(
    rules_rust_settings: Settings, rules_rust_cache: Cache, pytestconfig: object
) -> None:
    assert rules_rust_settings.platforms == ("linux/amd64",)  # our conftest's override
    assert rules_rust_settings.bench_quick  # from pyproject.toml's rr_bench_quick
    assert any(Path(d).name == "workspaces" for d in rules_rust_settings.template_dirs)
    assert rules_rust_cache.root.is_dir()
