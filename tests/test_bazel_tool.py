"""Which Bazel the Bazel builder runs: the version order, and ``--rr-bazel-binary`` checked at start-up."""

from __future__ import annotations

from pathlib import Path

import pytest
from bazel_helpers import DATA, stand_in_bazel_elf

from pytest_rules_rust.builders.bazel_tool import (
    DEFAULT_BAZEL_VERSION,
    BazelVersion,
    check_binary,
    elf_platform,
    resolve_version,
)
from pytest_rules_rust.errors import UsageError
from pytest_rules_rust.platforms import AMD64, ARM64

SCRIPT = DATA / "fake_bazel" / "bazel"


@pytest.fixture(scope="module")
def elves(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Real static ELF executables for x86-64 and aarch64 (the stand-in Bazel's launcher)."""
    d = tmp_path_factory.mktemp("elves")
    return {
        "x86_64": stand_in_bazel_elf("gcc", d / "bazel-x86_64"),
        "aarch64": stand_in_bazel_elf("aarch64-linux-gnu-gcc", d / "bazel-aarch64"),
    }


def test_version_order(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    ws.mkdir()
    params = {"bazel_version": "7.3.0"}
    assert resolve_version(ws, {}, None) == BazelVersion(DEFAULT_BAZEL_VERSION, "the harness's default")
    assert resolve_version(ws, {}, "8.0.0") == BazelVersion("8.0.0", "--rr-bazel-version")
    assert resolve_version(ws, params, "8.0.0").version == "7.3.0"
    (ws / ".bazelversion").write_text("# comment\n\n  7.6.1  \n")
    assert resolve_version(ws, params, "8.0.0") == BazelVersion("7.6.1", ".bazelversion of the workspace")
    (ws / ".bazelversion").write_text("\n")  # empty: as if absent
    assert resolve_version(ws, params, "8.0.0").version == "7.3.0"


def test_elf_platform_of_real_executables(elves: dict[str, Path], tmp_path: Path) -> None:
    assert elf_platform(elves["x86_64"]) == AMD64
    assert elf_platform(elves["aarch64"]) == ARM64
    assert elf_platform(Path(__file__)) is None
    (tmp_path / "short").write_bytes(b"\x7fELF")
    assert elf_platform(tmp_path / "short") is None


def test_check_binary_says_what_is_wrong(elves: dict[str, Path], tmp_path: Path) -> None:
    assert check_binary(elves["x86_64"], AMD64).platform == AMD64
    assert check_binary(elves["aarch64"], ARM64).path == elves["aarch64"].resolve()
    cases = {
        tmp_path / "nope": "does not exist",
        tmp_path: "is not a file",
        Path(__file__): "is not executable",
        SCRIPT: "is not an ELF executable",  # the stand-in script
    }
    for path, expected in cases.items():
        with pytest.raises(UsageError, match=expected) as info:
            check_binary(path, AMD64)
        assert str(path) in info.value.message and "Bazel release binary for linux/amd64" in info.value.hint
    with pytest.raises(
        UsageError, match="is an aarch64 ELF, but the Bazel builder's container is linux/amd64"
    ):
        check_binary(elves["aarch64"], AMD64)


def test_start_up_refuses_a_bad_binary_with_a_usage_error(
    pytester: pytest.Pytester, elves: dict[str, Path], tmp_path: Path
) -> None:
    pytester.makepyfile(
        "def test_x(rules_rust_settings):\n    print('BINARY', rules_rust_settings.bazel_binary)\n"
    )
    result = pytester.runpytest("-s", "--rr-bazel-binary", str(elves["x86_64"]))
    assert result.ret == 0
    assert f"BINARY {elves['x86_64'].resolve()}\n" in result.stdout.str()
    for value, expected in (
        (str(tmp_path / "missing"), "does not exist"),
        (str(elves["aarch64"]), "is an aarch64 ELF, but the Bazel builder's container is linux/amd64"),
    ):
        result = pytester.runpytest("--rr-bazel-binary", value)
        text = result.stdout.str() + result.stderr.str()
        assert result.ret == pytest.ExitCode.USAGE_ERROR, text
        assert f"ERROR: --rr-bazel-binary (ini rr_bazel_binary): {value} {expected}" in text
        assert "Traceback" not in text
    pytester.makeini(f"[pytest]\nrr_bazel_binary = {SCRIPT}\n")  # the ini twin
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "is not an ELF executable" in result.stdout.str() + result.stderr.str()
