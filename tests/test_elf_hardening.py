"""Hardening facts and the glibc floor of real binaries, checked against how each was built.

``hardened`` is compiled with the flags hardening guides ask for (``-D_FORTIFY_SOURCE=2
-fstack-protector-all -pie -z relro -z now``), ``unhardened`` with every protection off and an
executable stack; the rest use the toolchains' defaults (Debian's gcc: PIE and partial RELRO, no
stack protector, no FORTIFY; rustc: full RELRO). tests/test_hardening_oracle.py checks the same
facts against readelf on a thousand files made elsewhere.
"""

from __future__ import annotations

import pytest
from elf_samples import ElfSamples, shared_samples

from pytest_rules_rust.inspect.elf import inspect_binary

# name: relro, nx, bind_now, stack_protector, fortify, glibc_floor
TRUTH: dict[str, tuple[str | None, bool | None, bool | None, bool | None, bool | None, str | None]] = {
    "hardened": ("full", True, True, True, True, "2.34"),
    "aarch64-hardened": ("full", True, True, True, True, "2.34"),
    "unhardened": ("none", False, False, False, False, "2.34"),
    "glibc-dynamic": ("partial", True, False, False, False, "2.34"),
    "glibc-dynamic-stripped": ("partial", True, False, False, False, "2.34"),
    "rust-dynamic": ("full", True, True, False, False, "2.34"),
    "musl-dynamic": ("partial", True, False, False, False, None),
    "glibc-static": ("partial", True, False, True, False, None),  # libc.a has the protector
    "musl-static-stripped": ("partial", True, False, None, None, None),  # no table can tell
    "nolibc-static": ("none", True, False, False, False, None),
    "object-file": (None, None, None, False, False, None),  # not loaded as it is
}


@pytest.fixture(scope="session")
def samples() -> ElfSamples:
    """Real sample binaries built once per machine (see tests/elf_samples.py)."""
    return shared_samples()


@pytest.mark.parametrize("name", sorted(TRUTH))
def test_hardening_matches_how_the_sample_was_built(samples: ElfSamples, name: str) -> None:
    info = inspect_binary(samples.get(name))
    actual = (info.relro, info.nx, info.bind_now, info.stack_protector, info.fortify, info.glibc_floor)
    assert actual == TRUTH[name], info.evidence
    if info.relro is not None:
        for topic in ("relro", "nx", "bind_now", "stack_protector", "fortify", "glibc_floor"):
            assert info.evidence_for(topic), f"no evidence for {topic}"


@pytest.mark.parametrize(
    ("name", "topic", "text"),
    [
        ("hardened", "relro", "PT_GNU_RELRO at 0x"),
        ("hardened", "bind_now", "DT_FLAGS has DF_BIND_NOW"),
        ("hardened", "nx", "PT_GNU_STACK flags RW-"),
        ("hardened", "stack_protector", ".dynsym: __stack_chk_fail"),
        ("hardened", "fortify", ".dynsym: __fprintf_chk, __printf_chk"),
        ("hardened", "glibc_floor", "GLIBC_2.34 from libc.so.6: __libc_start_main"),
        ("aarch64-hardened", "stack_protector", ".dynsym: __stack_chk_fail, __stack_chk_guard"),
        ("unhardened", "nx", "PT_GNU_STACK flags RWX"),
        ("unhardened", "relro", "no PT_GNU_RELRO segment"),
        ("glibc-dynamic", "bind_now", "no DT_BIND_NOW, DF_BIND_NOW or DF_1_NOW"),
        ("glibc-static", "relro", "no dynamic section, so no BIND_NOW flag"),
        ("musl-static-stripped", "stack_protector", "unknown: no .symtab and nothing imported"),
        ("musl-dynamic", "glibc_floor", "no .gnu.version_r"),
    ],
)
def test_each_fact_names_its_evidence(samples: ElfSamples, name: str, topic: str, text: str) -> None:
    evidence = inspect_binary(samples.get(name)).evidence_for(topic)
    assert any(text in e for e in evidence), evidence


def test_hardening_summary_line(samples: ElfSamples) -> None:
    assert inspect_binary(samples.get("hardened")).hardening == "PIE, full RELRO, NX, SSP, FORTIFY"
    assert (
        inspect_binary(samples.get("unhardened")).hardening == "no PIE, no RELRO, no NX, no SSP, no FORTIFY"
    )
    assert inspect_binary(samples.get("object-file")).hardening == "-"


def test_a_debian_system_binary() -> None:
    """/bin/true from coreutils: Debian builds it with FORTIFY and the stack protector."""
    info = inspect_binary("/bin/true")
    assert (info.nx, info.stack_protector, info.fortify) == (True, True, True)
    assert info.glibc_floor is not None and info.glibc_floor.startswith("2.")
