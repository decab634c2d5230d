"""inspect_binary on broken input: one-line InspectError naming the file and the problem."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest
from elf_samples import ElfSamples, shared_samples

from pytest_rules_rust.errors import InspectError
from pytest_rules_rust.inspect.elf import inspect_binary


@pytest.fixture(scope="session")
def samples() -> ElfSamples:
    """Real sample binaries built once per machine (see tests/elf_samples.py)."""
    return shared_samples()


def _error(path: Path) -> str:
    with pytest.raises(InspectError) as info:
        inspect_binary(path)
    text = str(info.value)
    assert "\n" not in text and str(path) in text
    return text


def test_not_elf(tmp_path: Path) -> None:
    f = tmp_path / "script.sh"
    f.write_text("#!/bin/sh\necho this is a shell script, long enough to pass the header size check\n")
    assert "not an ELF file" in _error(f)


def test_empty_and_directory_and_missing(tmp_path: Path) -> None:
    (tmp_path / "empty").write_bytes(b"")
    assert "empty file" in _error(tmp_path / "empty")
    assert "is a directory" in _error(tmp_path)
    assert "no such file" in _error(tmp_path / "missing")


@pytest.mark.parametrize("keep", [20, 1000, 0.5])
def test_truncated(samples: ElfSamples, tmp_path: Path, keep: float) -> None:
    data = samples.get("glibc-static").read_bytes()
    cut = tmp_path / "cut"
    cut.write_bytes(data[: int(len(data) * keep) if isinstance(keep, float) else keep])
    assert "truncated ELF file" in _error(cut)


def test_header_pointing_past_the_end(samples: ElfSamples, tmp_path: Path) -> None:
    data = bytearray(samples.get("glibc-dynamic").read_bytes())
    struct.pack_into("<Q", data, 0x20, len(data) + 4096)  # e_phoff of a 64-bit LSB file
    bad = tmp_path / "bad-phoff"
    bad.write_bytes(bytes(data))
    assert "program header table ends at byte" in _error(bad)
