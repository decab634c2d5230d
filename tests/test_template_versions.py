"""Every template at every rules_rust version with a shipped model: rendered and preflighted clean
against that version's API, or refused with the supported range named."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_rules_rust.cli import main
from pytest_rules_rust.errors import WorkspaceError
from pytest_rules_rust.preflight import preflight_workspace
from pytest_rules_rust.preflight.api import shipped_versions
from pytest_rules_rust.workspaces import Template, list_templates, materialise

CASES = [
    pytest.param(t, v, id=f"{t.name}-{v}") for t in list_templates() for v in shipped_versions("rules_rust")
]


@pytest.mark.parametrize("template,version", CASES)
def test_template_preflights_clean_at_every_version_it_accepts(
    template: Template, version: str, tmp_path: Path
) -> None:
    name = template.name
    supported = template.supports["rules_rust_version"]
    if not supported.contains(version):
        with pytest.raises(WorkspaceError, match=rf"supports rules_rust_version {supported}, not {version}"):
            materialise(name, tmp_path / "ws", {"rules_rust_version": version})
        return
    ws = materialise(name, tmp_path / "ws", {"rules_rust_version": version})
    report = preflight_workspace(ws.root, use_buildifier=False)
    loud = [f for f in report.findings if f.severity != "info"]
    assert loud == [], report.format()
    assert not [f for f in report.findings if f.code == "RR800" and "rules_rust" in f.message], (
        report.format()
    )


def test_every_template_declares_its_rules_rust_range() -> None:
    for template in list_templates():
        assert "rules_rust_version" in template.supports, template.name


def test_proto_at_0_73_0_from_the_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    dest = tmp_path / "proto"
    assert main(["materialise", "proto", str(dest), "--set", "rules_rust_version=0.73.0"]) == 0
    text = (dest / "MODULE.bazel").read_text()
    assert 'bazel_dep(name = "rules_rust_prost", version = "0.73.0")' in text
    assert '\nregister_toolchains("@rules_rust//proto/protobuf' not in text
    assert main(["preflight", str(dest), "--no-buildifier"]) == 0, capsys.readouterr().out


def test_out_of_range_version_is_refused_naming_the_range(tmp_path: Path) -> None:
    with pytest.raises(WorkspaceError) as err:
        materialise("musl_jemalloc_oci", tmp_path / "ws", {"rules_rust_version": "0.46.0"})
    assert "supports rules_rust_version >=0.63.0, <0.74.0, not 0.46.0" in str(err.value)
    assert "README.md" in err.value.hint
