"""``doctor`` reports what is there and the exact fix for what is not."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

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


def test_bazel_is_optional_unless_asked_for(tmp_path: Path) -> None:
    absent = check_bazel(required=False, cache=Cache(tmp_path))
    assert not absent.ok and not absent.required
    assert "--rr-bazel-binary PATH" in absent.fix and "BAZELISK_BASE_URL" in absent.fix
    assert check_bazel(required=True, cache=Cache(tmp_path)).required


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


def test_bazel_check_says_which_bazel_and_why(tmp_path: Path) -> None:
    from pytest_rules_rust.builders.bazel_download import download_marker, failed_marker
    from pytest_rules_rust.platforms import AMD64

    cache = Cache(tmp_path / "cache")
    fresh = check_bazel(required=True, cache=cache, version="7.6.0")
    assert not fresh.ok
    assert (
        "Bazelisk 1.28.1 (npm @bazel/bazelisk@1.28.1, integrity checked) in pytest-rules-rust/builder-bazel:"
        in (fresh.detail)
    )
    assert "Bazel 7.6.0 (--rr-bazel-version) unless a workspace's .bazelversion" in fresh.detail
    assert "not downloaded yet" in fresh.detail
    marker = download_marker(cache.path("bazel", "bazelisk"), "7.6.0", AMD64)
    failed_marker(marker).write_text("Bazelisk could not download Bazel 7.6.0: no such host\n")
    failed = check_bazel(required=True, cache=cache, version="7.6.0")
    assert "last download attempt: Bazelisk could not download Bazel 7.6.0: no such host" in failed.detail
    marker.write_text("7.6.0\n")
    held = check_bazel(required=True, cache=cache, version="7.6.0")
    assert held.ok and "Bazel 7.6.0 is in the download cache" in held.detail


def test_bazel_check_of_an_own_binary(tmp_path: Path) -> None:
    script = ROOT / "tests" / "data" / "fake_bazel" / "bazel"
    bad = check_bazel(required=True, cache=Cache(tmp_path), binary=script)
    assert not bad.ok and "is not an ELF executable" in bad.detail and "Bazel release binary" in bad.fix
    from pytest_rules_rust.builders.bazel_tool import elf_platform
    from pytest_rules_rust.platforms import AMD64

    if elf_platform(Path(sys.executable).resolve()) != AMD64:
        pytest.skip("needs an x86-64 host: this Python stands in for an x86-64 Bazel binary")
    proc = _doctor("--json", "--bazel", "--bazel-binary", sys.executable, "--cache-dir", str(tmp_path))
    bazel = next(c for c in json.loads(proc.stdout)["checks"] if c["name"] == "Bazel")
    real = Path(sys.executable).resolve()  # an x86-64 ELF executable: accepted as "your own Bazel"
    assert bazel["ok"] and f"your own Bazel {real} (x86_64 ELF), mounted read-only" in bazel["detail"]
