"""``python -m pytest_rules_rust inspect-binary FILE [--json]`` as a user runs it."""

from __future__ import annotations

import json
import os
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
    assert list(data) == [*JSON_KEYS, "hardening", "evidence"]
    assert data["hardening"] and all(set(e) == {"fact", "detail"} for e in data["evidence"])
    assert data["machine"] == "aarch64" and data["linkage"] == "static" and data["libc"] == "musl"
    assert data["needed"] == [] and data["allocators"] == [] and data["stripped"] is True
    assert (data["relro"], data["glibc_floor"], data["stack_protector"]) == ("partial", None, None)
    assert data["summary"].startswith("ELF 64-bit LSB executable, ARM aarch64")


def test_text_output_shows_evidence(samples: ElfSamples, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["inspect-binary", str(samples.get("jemalloc-static-stripped"))]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "  allocators: jemalloc" in lines
    assert "  evidence[jemalloc]: string '<jemalloc>: ' in .rodata" in lines
    assert "  stack_protector: -" in lines  # stripped static: no table can tell
    assert (
        "  evidence[stack_protector]: unknown: no .symtab and nothing imported (a stripped static file)"
        in lines
    )


def test_hardening_in_text_and_json(samples: ElfSamples, capsys: pytest.CaptureFixture[str]) -> None:
    path = samples.get("hardened")
    assert main(["inspect-binary", str(path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "  hardening: PIE, full RELRO, NX, SSP, FORTIFY" in lines
    for line in ("  relro: full", "  nx: True", "  bind_now: True", "  glibc_floor: 2.34"):
        assert line in lines
    assert "  evidence[glibc_floor]: GLIBC_2.34 from libc.so.6: __libc_start_main" in lines
    assert main(["inspect-binary", str(path), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    hardening = {k: data[k] for k in ("relro", "nx", "stack_protector", "fortify", "bind_now", "glibc_floor")}
    assert hardening == {
        "relro": "full",
        "nx": True,
        "stack_protector": True,
        "fortify": True,
        "bind_now": True,
        "glibc_floor": "2.34",
    }


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
    proc = _cli(path)
    assert (proc.returncode, proc.stdout) == (1, "")
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
    assert proc.stderr.startswith(f"error: {path}: {problem}")


def test_bad_input_with_json_is_a_json_error_on_stdout(samples: ElfSamples, tmp_path: Path) -> None:
    path, problem = _bad_inputs(samples, tmp_path)["truncated"]
    proc = _cli(path, "--json")
    assert (proc.returncode, proc.stderr) == (1, "")
    error = json.loads(proc.stdout)["error"]
    assert error["type"] == "InspectError" and error["exit_code"] == 1
    assert error["message"].startswith(f"{path}: {problem}")
    assert "(hint:" not in error["message"] and error["hint"], "the hint has its own field"


def test_output_into_a_closed_pipe_ends_quietly(samples: ElfSamples) -> None:
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before the first write, as with `| head` on long output
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "pytest_rules_rust", "inspect-binary", str(samples.get("glibc-dynamic"))],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            timeout=120,
            check=False,
        )
    finally:
        os.close(write_end)
    assert (proc.returncode, proc.stderr) == (141, "")
