"""No false alarms: real published workspaces and the fixture workspaces have zero error findings."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_rules_rust import workspaces
from pytest_rules_rust.preflight import preflight_workspace

REAL = Path(__file__).parent / "data" / "preflight" / "real"
FIXTURES = Path(__file__).parent.parent / "fixture_workspaces"


@pytest.mark.parametrize("name", sorted(p.name for p in REAL.iterdir() if p.is_dir()))
def test_real_workspace_has_no_errors(name: str) -> None:
    report = preflight_workspace(REAL / name)
    assert report.errors == (), report.format()


def _templates() -> list[str]:
    found = sorted(p.name for p in FIXTURES.iterdir() if (p / "MODULE.bazel").is_file())
    assert found, f"no fixture workspaces under {FIXTURES}"
    return found


@pytest.mark.parametrize("name", _templates())
def test_fixture_workspace_as_committed_has_no_errors(name: str) -> None:
    report = preflight_workspace(FIXTURES / name)
    assert report.errors == (), report.format()


NON_DEFAULT = {
    "rust_edition": "2018",
    "rust_versions": ["1.79.0", "1.80.0"],
    "rules_rust_version": "0.49.0",
    "sysroot": True,
    "target_triples": ["x86_64-unknown-linux-musl", "aarch64-unknown-linux-musl"],
}


def _non_default(template: object, accepted: set[str]) -> dict[str, object]:
    """NON_DEFAULT's values for the parameters the template takes, versions within its range."""
    params = {k: v for k, v in NON_DEFAULT.items() if k in accepted}
    supported = getattr(template, "supports", {}).get("rules_rust_version")
    version = str(params.get("rules_rust_version", ""))
    if supported and version and not supported.contains(version):
        params["rules_rust_version"] = "0.73.0"
    return params


@pytest.mark.parametrize("name", _templates())
def test_fixture_workspace_materialised_has_no_errors(name: str, tmp_path: Path) -> None:
    template = workspaces.load_template(FIXTURES / name)
    accepted = set(template.parameters)
    for label, params in (
        ("default", {}),
        ("non-default", _non_default(template, accepted)),
    ):
        ws = workspaces.materialise(FIXTURES / name, tmp_path / label, params)
        report = preflight_workspace(ws.root)
        assert report.errors == (), f"{label} parameters {params}:\n{report.format()}"
