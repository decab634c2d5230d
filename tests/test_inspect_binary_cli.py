"""``python -m pytest_rules_rust inspect-binary FILE [--json]`` as a user runs it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from elf_samples import ElfSamples, shared_samples

from pytest_rules_rust.cli import main
from pytest_rules_rust.inspect.elf import JSON_KEYS


@pytest.fixture(scope="session")
def samples() -> ElfSamples:
    """Real sample binaries built once per machine (see tests/elf_samples.py)."""
    return shared_samples()


def _cli(*args: str | Path) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "pytest_rules_rust", "inspect-binary", *map(str, args)]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


def test_json_output(samples: ElfSamples) -> None:
    path = samples.get("aarch64-musl-static-stripped")
    proc = _cli(path, "--json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert list(data) == list(JSON_KEYS)
    assert data["machine"] == "aarch64" and data["linkage"] == "static" and data["libc"] == "musl"
    assert data["needed"] == [] and data["allocators"] == [] and data["stripped"] is True
    assert data["summary"].startswith("ELF 64-bit LSB executable, ARM aarch64")


def test_text_output_shows_evidence(samples: ElfSamples, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["inspect-binary", str(samples.get("jemalloc-static-stripped"))]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "  allocators: jemalloc" in lines
    assert "  evidence[jemalloc]: string '<jemalloc>: ' in .rodata" in lines


def _bad_inputs(samples: ElfSamples, d: Path) -> dict[str, tuple[Path, str]]:
    data = samples.get("glibc-dynamic").read_bytes()
    (d / "text").write_text("just some text, certainly not an executable file of any kind at all\n")
    (d / "trunc").write_bytes(data[: len(data) // 2])
    (d / "header-only").write_bytes(data[:40])
    (d / "empty").write_bytes(b"")
    (d / "dir").mkdir()
    return {
        "not ELF": (d / "text", "not an ELF file"),
        "truncated": (d / "trunc", "truncated ELF file"),
        "short header": (d / "header-only", "truncated ELF file"),
        "zero-length": (d / "empty", "empty file"),
        "directory": (d / "dir", "is a directory"),
        "missing": (d / "missing", "no such file"),
    }


def test_bad_input_in_a_real_process_is_one_line_without_traceback(
    samples: ElfSamples, tmp_path: Path
) -> None:
    path, problem = _bad_inputs(samples, tmp_path)["truncated"]
    proc = _cli(path, "--json")
    assert (proc.returncode, proc.stdout) == (1, "")
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
    assert proc.stderr.startswith(f"error: {path}: {problem}")


CASES = ["not ELF", "truncated", "short header", "zero-length", "directory", "missing"]


@pytest.mark.parametrize("case", CASES)
def test_bad_input_is_one_line(
    samples: ElfSamples, tmp_path: Path, case: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path, problem = _bad_inputs(samples, tmp_path)[case]
    for extra in ((), ("--json",)):
        assert main(["inspect-binary", str(path), *extra]) == 1
        out, err = capsys.readouterr()
        assert out == "" and err.count("\n") == 1
        assert err.startswith(f"error: {path}: {problem}")
