"""``doctor`` reports what is there and the exact fix for what is not."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from pytest_rules_rust.cache import Cache
from pytest_rules_rust.doctor import check_bazel, check_cache, check_tools, render

ROOT = Path(__file__).resolve().parents[1]


def _doctor(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest_rules_rust", "doctor", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
    )


def test_exit_code_agrees_with_the_required_checks(tmp_path: Path) -> None:
    proc = _doctor("--json", "--cache-dir", str(tmp_path))
    checks = json.loads(proc.stdout)["checks"]
    names = {c["name"] for c in checks}
    assert {"Docker engine", "binfmt qemu-aarch64", "Bazel", "buildifier", "cache directory"} <= names
    missing = [c for c in checks if c["required"] and not c["ok"]]
    assert proc.returncode == (1 if missing else 0)
    assert all(c["fix"] for c in missing), "every missing required part names its fix"


def test_unreachable_engine_is_reported_with_the_fix(tmp_path: Path) -> None:
    proc = _doctor(
        "--json", "--cache-dir", str(tmp_path), env={"DOCKER_HOST": f"unix://{tmp_path}/no-such-docker.sock"}
    )
    engine = next(c for c in json.loads(proc.stdout)["checks"] if c["name"] == "Docker engine")
    assert not engine["ok"]
    assert "dockerd" in engine["fix"] and "DOCKER_HOST" in engine["fix"]
    assert proc.returncode == 1


def test_missing_tools_name_their_debian_package() -> None:
    checks = {c.name: c for c in check_tools(which=lambda _name: None)}
    assert checks["musl-gcc"].fix == "apt-get install -y --no-install-recommends musl-tools"
    assert checks["aarch64 cross gcc"].fix.endswith("gcc-aarch64-linux-gnu")
    assert checks["buildifier"].fix == "npm install -g @bazel/buildifier"
    assert not checks["buildifier"].required


def test_bazel_is_optional_unless_asked_for() -> None:
    absent = check_bazel(required=False, which=lambda _name: None)
    assert not absent.ok and not absent.required
    assert "Bazel 7.4+ is not installable here" in absent.fix
    assert check_bazel(required=True, which=lambda _name: None).required


def test_unwritable_cache_is_a_clear_failure(tmp_path: Path) -> None:
    if os.geteuid() == 0:
        blocker = tmp_path / "file-not-dir"
        blocker.write_text("x")
        cache = Cache(blocker / "cache")  # a path below a regular file can never be created
    else:
        locked = tmp_path / "ro"
        locked.mkdir(mode=0o500)
        cache = Cache(locked / "cache")
    check = check_cache(cache)
    assert not check.ok
    assert "is not usable" in check.detail and "--rr-cache-dir" in check.fix
    assert "MISS cache directory" in render([check])


def test_bazel_flag_makes_bazel_required(tmp_path: Path) -> None:
    proc = _doctor("--json", "--bazel", "--cache-dir", str(tmp_path))
    bazel = next(c for c in json.loads(proc.stdout)["checks"] if c["name"] == "Bazel")
    assert bazel["required"]
    if not bazel["ok"]:
        assert proc.returncode == 1
