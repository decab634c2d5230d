"""run_binary on real binaries: native, aarch64 through binfmt_misc and through an explicit qemu."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from elf_samples import ElfSamples, shared_samples

from pytest_rules_rust.errors import EmulationError, InspectError
from pytest_rules_rust.execution import binfmt_works, host_machine, run_binary

QEMU = shutil.which("qemu-aarch64-static")
needs_x86_host = pytest.mark.skipif(
    host_machine() != "x86_64", reason="the samples' 'native' binaries are x86_64"
)
needs_binfmt = pytest.mark.skipif(
    not binfmt_works("aarch64"),
    reason="binfmt_misc qemu-aarch64 is not working: run scripts/provision.sh (registers qemu-user-static)",
)
needs_qemu = pytest.mark.skipif(
    QEMU is None, reason="needs qemu-aarch64-static: apt-get install qemu-user-static"
)


@pytest.fixture(scope="session")
def samples() -> ElfSamples:
    """Real sample binaries built once per machine (see tests/elf_samples.py)."""
    return shared_samples()


@needs_x86_host
def test_native_run_captures_stdout_and_exit_code(samples: ElfSamples) -> None:
    r = run_binary(samples.get("glibc-dynamic"), ["rc", "7"])
    assert (r.rc, r.stdout, r.via, r.timed_out) == (7, "hello 3\n", "native", False)
    assert r.failed and not r.succeeded


@needs_x86_host
def test_stderr_and_stdin(samples: ElfSamples) -> None:
    r = run_binary(samples.get("musl-static"), ["stderr"])
    assert r.rc == 0 and r.stderr == "oops: No such file or directory\n"
    r = run_binary(samples.get("musl-static"), ["cat"], stdin="piped in\n")
    assert r.stdout == "hello 2\npiped in\n"


@needs_x86_host
def test_timeout_kills_the_program(samples: ElfSamples) -> None:
    r = run_binary(samples.get("glibc-static"), ["sleep"], timeout_s=1)
    assert r.timed_out and r.rc != 0
    assert r.stdout == "hello 2\n"  # output before the kill is kept
    assert r.duration_s < 60


@needs_binfmt
@pytest.mark.parametrize(
    "name", ["aarch64-glibc-dynamic", "aarch64-glibc-static", "aarch64-musl-static-stripped"]
)
def test_aarch64_through_binfmt(samples: ElfSamples, name: str) -> None:
    r = run_binary(samples.get(name), ["rc", "3"], qemu="binfmt")
    assert (r.rc, r.stdout, r.via) == (3, "hello 3\n", "binfmt")
    assert run_binary(samples.get(name), ["rc", "3"]).via == "binfmt"  # auto prefers a working binfmt


@needs_qemu
@pytest.mark.parametrize(
    "name", ["aarch64-glibc-dynamic", "aarch64-glibc-static", "aarch64-musl-static-stripped"]
)
def test_aarch64_through_explicit_qemu(samples: ElfSamples, name: str) -> None:
    assert QEMU is not None
    r = run_binary(samples.get(name), ["stderr"], qemu=QEMU)
    assert (r.rc, r.stdout, r.via) == (0, "hello 2\n", f"qemu:{QEMU}")
    assert r.stderr == "oops: No such file or directory\n"
    assert r.command[:2] == (QEMU, str(samples.get(name)))  # no -L: see run.py


@needs_qemu
def test_aarch64_timeout_under_qemu(samples: ElfSamples) -> None:
    r = run_binary(samples.get("aarch64-glibc-static"), ["sleep"], timeout_s=2, qemu="qemu-aarch64-static")
    assert r.timed_out and r.stdout == "hello 2\n"


def test_missing_qemu_program_is_an_emulation_error(samples: ElfSamples) -> None:
    with pytest.raises(EmulationError, match=r"no-such-qemu.*no such program"):
        run_binary(samples.get("aarch64-glibc-static"), qemu="no-such-qemu")


def test_unrunnable_files(samples: ElfSamples, tmp_path: Path) -> None:
    with pytest.raises(InspectError, match="REL file is not runnable"):
        run_binary(samples.get("object-file"))
    copy = tmp_path / "noexec"
    copy.write_bytes(samples.get("glibc-static").read_bytes())
    if host_machine() == "x86_64":
        with pytest.raises(InspectError, match="not executable"):
            run_binary(copy)
    (tmp_path / "text").write_text("#!/bin/sh\necho not an ELF file but long enough for the header check\n")
    with pytest.raises(InspectError, match="not an ELF file"):
        run_binary(tmp_path / "text")
