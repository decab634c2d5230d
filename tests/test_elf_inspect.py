"""inspect_binary on real binaries built by gcc, musl-gcc, the aarch64 cross gcc, strip and rustc,
checked against how each was built and against file(1)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from elf_samples import SAMPLES, ElfSamples, shared_samples

from pytest_rules_rust.inspect.elf import JSON_KEYS, inspect_binary

X86_INTERP = "/lib64/ld-linux-x86-64.so.2"
A64_INTERP = "/lib/ld-linux-aarch64.so.1"
MUSL_INTERP = "/lib/ld-musl-x86_64.so.1"

# name: machine, elf_type, linkage, pie, libc, interpreter, stripped, allocators — from the build recipe.
TRUTH: dict[str, tuple[str, str, str | None, bool, str, str | None, bool, tuple[str, ...]]] = {
    "glibc-dynamic": ("x86_64", "DYN", "dynamic", True, "glibc", X86_INTERP, False, ()),
    "glibc-dynamic-stripped": ("x86_64", "DYN", "dynamic", True, "glibc", X86_INTERP, True, ()),
    "glibc-static": ("x86_64", "EXEC", "static", False, "glibc", None, False, ()),
    "glibc-static-stripped": ("x86_64", "EXEC", "static", False, "glibc", None, True, ()),
    "glibc-static-pie": ("x86_64", "DYN", "static-pie", True, "glibc", None, False, ()),
    "musl-static": ("x86_64", "EXEC", "static", False, "musl", None, False, ()),
    "musl-static-stripped": ("x86_64", "EXEC", "static", False, "musl", None, True, ()),
    "musl-dynamic": ("x86_64", "DYN", "dynamic", True, "musl", MUSL_INTERP, False, ()),
    "aarch64-glibc-dynamic": ("aarch64", "DYN", "dynamic", True, "glibc", A64_INTERP, False, ()),
    "aarch64-glibc-static": ("aarch64", "EXEC", "static", False, "glibc", None, False, ()),
    "aarch64-musl-static-stripped": ("aarch64", "EXEC", "static", False, "musl", None, True, ()),
    "jemalloc-dynamic": ("x86_64", "DYN", "dynamic", True, "glibc", X86_INTERP, False, ("jemalloc",)),
    "mimalloc-dynamic": ("x86_64", "DYN", "dynamic", True, "glibc", X86_INTERP, False, ("mimalloc",)),
    "jemalloc-static": ("x86_64", "EXEC", "static", False, "glibc", None, False, ("jemalloc",)),
    "jemalloc-static-stripped": ("x86_64", "EXEC", "static", False, "glibc", None, True, ("jemalloc",)),
    "musl-mimalloc-static": ("x86_64", "EXEC", "static", False, "musl", None, False, ("mimalloc",)),
    "musl-mimalloc-static-stripped": ("x86_64", "EXEC", "static", False, "musl", None, True, ("mimalloc",)),
    "rust-dynamic": ("x86_64", "DYN", "dynamic", True, "glibc", X86_INTERP, False, ()),
    "rust-static-pie": ("x86_64", "DYN", "static-pie", True, "glibc", None, False, ()),
    "nolibc-static": ("x86_64", "EXEC", "static", False, "none", None, False, ()),
    "hardened": ("x86_64", "DYN", "dynamic", True, "glibc", X86_INTERP, False, ()),
    "aarch64-hardened": ("aarch64", "DYN", "dynamic", True, "glibc", A64_INTERP, False, ()),
    "unhardened": ("x86_64", "EXEC", "dynamic", False, "glibc", X86_INTERP, False, ()),
    "object-file": ("x86_64", "REL", None, False, "unknown", None, False, ()),
}


@pytest.fixture(scope="session")
def samples() -> ElfSamples:
    """Real sample binaries built once per machine (see tests/elf_samples.py)."""
    return shared_samples()


def test_every_sample_has_a_truth_row() -> None:
    assert set(TRUTH) == set(SAMPLES)


@pytest.mark.parametrize("name", sorted(TRUTH))
def test_inspection_matches_how_the_sample_was_built(samples: ElfSamples, name: str) -> None:
    machine, elf_type, linkage, pie, libc, interp, stripped, allocators = TRUTH[name]
    info = inspect_binary(samples.get(name))
    actual = (info.machine, info.elf_type, info.linkage, info.pie, info.libc, info.interpreter, info.stripped)
    assert actual == (machine, elf_type, linkage, pie, libc, interp, stripped), info.evidence
    assert info.allocators == allocators, info.evidence
    assert (info.bits, info.endianness) == (64, "little")
    assert info.evidence_for("libc"), "every libc verdict names its evidence"
    assert sorted(info.to_json()) == sorted(JSON_KEYS)


@pytest.mark.skipif(shutil.which("file") is None, reason="needs file(1): apt-get install file")
@pytest.mark.parametrize("name", sorted(TRUTH))
def test_summary_agrees_with_file(samples: ElfSamples, name: str) -> None:
    path = samples.get(name)
    expected = subprocess.run(["file", "-L", "-b", str(path)], capture_output=True, text=True, check=True)
    info = inspect_binary(path)
    assert info.summary == expected.stdout.strip()


def test_linked_libraries_and_build_id(samples: ElfSamples) -> None:
    info = inspect_binary(samples.get("jemalloc-dynamic"))
    assert info.needed == ("libjemalloc.so.2", "libc.so.6")
    notes = subprocess.run(
        ["readelf", "-n", str(info.path)], capture_output=True, text=True, check=True
    ).stdout
    assert info.build_id is not None and f"Build ID: {info.build_id}" in notes
    assert inspect_binary(samples.get("musl-static")).build_id is None  # musl-gcc passes no --build-id


@pytest.mark.parametrize(
    ("name", "allocator", "kind"),
    [
        ("jemalloc-dynamic", "jemalloc", "NEEDED libjemalloc.so"),
        ("mimalloc-dynamic", "mimalloc", "NEEDED libmimalloc.so"),
        ("jemalloc-static", "jemalloc", "symbols "),
        ("jemalloc-static-stripped", "jemalloc", "string '<jemalloc>: '"),
        ("musl-mimalloc-static", "mimalloc", "symbols "),
        ("musl-mimalloc-static-stripped", "mimalloc", "string 'mimalloc"),
    ],
)
def test_allocator_evidence(samples: ElfSamples, name: str, allocator: str, kind: str) -> None:
    info = inspect_binary(samples.get(name))
    assert any(e.startswith(kind) for e in info.evidence_for(allocator)), info.evidence_for(allocator)


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("musl-static-stripped", "musl: string '-0X+0X 0X-0x+0x 0x'"),
        ("aarch64-musl-static-stripped", "musl: string 'No error information'"),
        ("glibc-static-stripped", "glibc: string 'GLIBC_TUNABLES'"),
        ("musl-static", "musl: symbols __init_libc"),
        ("glibc-dynamic", "glibc: symbol versions GLIBC_2."),
        ("musl-dynamic", "musl: interpreter /lib/ld-musl"),
    ],
)
def test_libc_evidence(samples: ElfSamples, name: str, kind: str) -> None:
    info = inspect_binary(samples.get(name))
    assert any(e.startswith(kind) for e in info.evidence_for("libc")), info.evidence_for("libc")


def test_a_debian_system_binary(tmp_path: Path) -> None:
    """A binary made entirely outside the project: /bin/true from coreutils."""
    info = inspect_binary("/bin/true")
    assert (info.linkage, info.libc, info.stripped) == ("dynamic", "glibc", True)
    assert "libc.so.6" in info.needed
