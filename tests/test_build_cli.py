"""`python -m pytest_rules_rust build`: the JSON contract, a real aarch64 build under qemu, bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from cargo_helpers import check_elf

from pytest_rules_rust.containers import Engine
from pytest_rules_rust.containers.emulation import emulation_status
from pytest_rules_rust.execution import run_binary
from pytest_rules_rust.platforms import ARM64

CLI = (sys.executable, "-m", "pytest_rules_rust", "build")


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=1800)


@pytest.mark.container
@pytest.mark.cargo
@pytest.mark.cross
def test_build_cross_for_arm64_json_runs_under_qemu(docker_engine: Engine, tmp_path: Path) -> None:
    out = tmp_path / "out"
    proc = _run("cross", "--platform", "linux/arm64", "--builder", "cargo", "--json", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert set(doc) == {"artifacts", "log", "duration_s"}
    assert isinstance(doc["duration_s"], float) and doc["duration_s"] > 0
    (artifact,) = doc["artifacts"]
    assert set(artifact) == {"path", "kind", "target"}
    assert artifact["kind"] == "binary" and artifact["target"] == "hello_cross"
    binary, log = Path(artifact["path"]), Path(doc["log"])
    for path in (binary, log):
        assert path.is_absolute() and path.is_relative_to(out.resolve()) and path.is_file()
    check_elf(binary, ARM64, "gnu")
    if not emulation_status("aarch64").works:
        pytest.skip(
            f"running the aarch64 binary needs qemu in binfmt_misc: {emulation_status('aarch64').fix}"
        )
    result = run_binary(binary, timeout_s=120)
    assert result.rc == 0 and result.stdout.splitlines()[0] == "hello from aarch64", result


def test_unknown_platform_is_a_usage_error_without_traceback(tmp_path: Path) -> None:
    proc = _run("cross", "--platform", "linux/riscv64", "--out", str(tmp_path))
    assert proc.returncode == 2
    assert "unknown platform 'linux/riscv64'" in proc.stderr and "Traceback" not in proc.stderr


def test_unknown_workspace_is_a_usage_error(tmp_path: Path) -> None:
    proc = _run("no_such_workspace", "--platform", "linux/amd64", "--out", str(tmp_path))
    assert proc.returncode == 2, proc.stderr
    assert "no_such_workspace" in proc.stderr and "Traceback" not in proc.stderr


def test_bad_set_value_is_a_usage_error(tmp_path: Path) -> None:
    proc = _run("cross", "--platform", "linux/amd64", "--set", "rust_edition", "--out", str(tmp_path))
    assert proc.returncode == 2
    assert "'rust_edition' is not KEY=VALUE" in proc.stderr


def test_unknown_builder_is_refused_by_the_parser() -> None:
    proc = _run("cross", "--platform", "linux/amd64", "--builder", "make")
    assert proc.returncode == 2 and "invalid choice: 'make'" in proc.stderr
