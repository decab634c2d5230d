"""One-line assertions on binaries: every mismatch at once, worded Expected/Actual, with the evidence.

>>> assert_binary("out/svc", arch="arm64", linkage="static", libc="musl")  # doctest: +SKIP

Only the expectations passed are checked. A failure raises one ``AssertionError`` whose message
is complete on its own, so it reads the same with or without pytest's assertion rewriting
(the plugin registers this module for rewriting; the helpers hide their own frames).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypedDict, Unpack

from ..errors import UsageError
from ..platforms import Platform
from .elf import ALLOCATORS, LINKAGES, BinaryInfo, inspect_binary
from .hardening import RELRO_LEVELS, version_key

_ARCH_WORDS = {"amd64": "x86_64", "arm64": "aarch64"}
_LIBC_ALIASES = {"glibc": "glibc", "gnu": "glibc", "musl": "musl", "none": "none", "unknown": "unknown"}
_NO_ALLOCATOR = ("system", "none", "libc")


class BinaryExpectations(TypedDict, total=False):
    """What :func:`assert_binary` can be asked; each is checked only when given (and not None)."""

    arch: str | None
    bits: int | None
    elf_type: str | None
    linkage: str | None
    static: bool | None
    pie: bool | None
    libc: str | None
    interpreter: str | None
    stripped: bool | None
    debug_info: bool | None
    allocator: str | None
    needed_includes: Iterable[str]
    needed_excludes: Iterable[str]
    build_id: bool | None
    relro: str | None
    nx: bool | None
    bind_now: bool | None
    stack_protector: bool | None
    fortify: bool | None
    glibc_max: str | None


BINARY_EXPECTATIONS = tuple(BinaryExpectations.__annotations__)


def assert_binary(
    path_or_info: str | os.PathLike[str] | BinaryInfo, **expected: Unpack[BinaryExpectations]
) -> BinaryInfo:
    """Assert what a binary is; returns its ``BinaryInfo`` when everything matches.

    ``arch`` takes ``x86_64``/``amd64``/``aarch64``/``arm64``/``linux/arm64`` or a Rust triple;
    ``libc`` takes ``glibc`` (alias ``gnu``), ``musl`` or ``none``; ``allocator`` takes
    ``jemalloc``, ``mimalloc``, or ``system`` (no other allocator linked); ``static=True`` accepts
    ``static`` and ``static-pie`` linkage; ``build_id=True`` asks for a GNU build-id note.

    Hardening, as checksec reports it: ``relro`` takes ``none``, ``partial`` or ``full``;
    ``nx``, ``bind_now``, ``stack_protector`` and ``fortify`` take booleans (the last two fail
    as "unknown" on a stripped static binary, where no symbol table can show them);
    ``glibc_max="2.28"`` passes when the binary needs no ``GLIBC_`` symbol version above 2.28
    (static and musl binaries need none), i.e. it runs on glibc 2.28 and newer::

        assert_binary(path, relro="full", nx=True, stack_protector=True, glibc_max="2.31")
    """
    __tracebackhide__ = True
    info = path_or_info if isinstance(path_or_info, BinaryInfo) else inspect_binary(path_or_info)
    checks = binary_checks(info, expected)
    failed = [c for c in checks if not c.passed]
    if failed:
        lines = [f"binary {info.path}: {len(failed)} of {len(checks)} expectations failed"]
        lines += [line for c in failed for line in c.lines()]
        lines.append(f"  file: {info.summary}")
        raise AssertionError("\n".join(lines))
    return info


@dataclass(frozen=True)
class Expectation:
    """One expectation checked against a binary, with the evidence behind the actual value (always
    given: a failure must say where its actual value was read)."""

    name: str
    expected: object
    actual: object
    evidence: str

    @property
    def passed(self) -> bool:
        return self.expected == self.actual

    def lines(self, indent: str = "  ") -> list[str]:
        """``name: Expected: X, Actual: Y`` and, below it, the evidence."""
        out = [f"{indent}{self.name}: Expected: {_show(self.expected)}, Actual: {_show(self.actual)}"]
        if self.evidence:
            out.append(f"{indent}  evidence: {self.evidence}")
        return out


def binary_checks(info: BinaryInfo, expected: Mapping[str, Any]) -> list[Expectation]:
    """Every expectation in ``expected`` (``assert_binary``'s keywords; None and empty values are
    not checked) against ``info``; ``UsageError`` for an unknown name or value."""
    unknown = sorted(set(expected) - set(BINARY_EXPECTATIONS))
    if unknown:
        raise UsageError(
            f"unknown binary expectation {unknown[0]!r}", hint=f"use one of {', '.join(BINARY_EXPECTATIONS)}"
        )
    checks: list[Expectation] = []

    def check(name: str, want: object, actual: object, evidence: str) -> None:
        checks.append(Expectation(name, want, actual, evidence))

    e = {k: v for k, v in expected.items() if v is not None}
    if "arch" in e:
        check("arch", _arch_word(e["arch"]), info.machine, f"ELF header e_machine: {info.machine}")
    if "bits" in e:
        check("bits", e["bits"], info.bits, f"ELF header class: ELFCLASS{info.bits}")
    if "elf_type" in e:
        check(
            "elf_type",
            str(e["elf_type"]).upper().removeprefix("ET_"),
            info.elf_type,
            f"ELF header e_type: ET_{info.elf_type}",
        )
    if "linkage" in e:
        _choice("linkage", e["linkage"], LINKAGES)
        check("linkage", e["linkage"], info.linkage, _interp_evidence(info))
    if "static" in e:
        check("static", e["static"], info.static, f"linkage {info.linkage}; {_interp_evidence(info)}")
    if "pie" in e:
        check("pie", e["pie"], info.pie, "; ".join(info.evidence_for("pie")) or f"ELF type {info.elf_type}")
    if "libc" in e:
        wanted = _LIBC_ALIASES.get(str(e["libc"]).lower())
        if wanted is None:
            _choice("libc", e["libc"], tuple(_LIBC_ALIASES))
        check("libc", wanted, info.libc, "; ".join(info.evidence_for("libc")))
    if "interpreter" in e:
        check("interpreter", e["interpreter"], info.interpreter, interpreter_evidence(info))
    if "stripped" in e:
        check(
            "stripped", e["stripped"], info.stripped, ".symtab absent" if info.stripped else ".symtab present"
        )
    if "debug_info" in e:
        check(
            "debug_info",
            e["debug_info"],
            info.debug_info,
            ".debug_info present" if info.debug_info else ".debug_info absent",
        )
    if "allocator" in e:
        _allocator_check(e["allocator"], info, check)
    if "build_id" in e:
        note = f".note.gnu.build-id {info.build_id}" if info.build_id else "no .note.gnu.build-id"
        check(
            "build_id",
            "present" if e["build_id"] else "absent",
            "present" if info.build_id else "absent",
            note,
        )
    if "relro" in e:
        _choice("relro", e["relro"], RELRO_LEVELS)
        check("relro", e["relro"], info.relro, "; ".join(info.evidence_for("relro")))
    for fact in ("nx", "bind_now", "stack_protector", "fortify"):
        if fact in e:
            have = getattr(info, fact)
            check(fact, e[fact], "unknown" if have is None else have, "; ".join(info.evidence_for(fact)))
    if "glibc_max" in e:
        _glibc_max_check(str(e["glibc_max"]), info, check)
    actual_needed = ", ".join(info.needed) or "(none)"
    needed = f"DT_NEEDED: {actual_needed}"
    for lib in e.get("needed_includes", ()):
        check("needed", f"includes {lib}", f"includes {lib}" if lib in info.needed else actual_needed, needed)
    for lib in e.get("needed_excludes", ()):
        check(
            "needed",
            f"excludes {lib}",
            f"excludes {lib}" if lib not in info.needed else actual_needed,
            needed,
        )
    return checks


def _allocator_check(allocator: str, info: BinaryInfo, check: Any) -> None:
    name = allocator.lower()
    evidence = "; ".join(f"{a}: {e}" for a in info.allocators for e in info.evidence_for(a)) or (
        "stripped (no .symtab): only NEEDED entries or the allocator's strings can show it"
        if info.stripped
        else "searched .symtab, NEEDED entries and strings: no jemalloc or mimalloc"
    )
    if name in _NO_ALLOCATOR:
        check("allocator", "system", ", ".join(info.allocators) or "system", evidence)
        return
    _choice("allocator", name, (*ALLOCATORS, *_NO_ALLOCATOR))
    if name in info.allocators:
        check("allocator", name, name, "; ".join(info.evidence_for(name)))
        return
    actual = ", ".join(info.allocators) or "system (no jemalloc/mimalloc symbols, NEEDED entries or strings)"
    check("allocator", name, actual, evidence)


def _glibc_max_check(glibc_max: str, info: BinaryInfo, check: Any) -> None:
    wanted = glibc_max.removeprefix("GLIBC_")
    if not re.fullmatch(r"\d+(\.\d+)*", wanted):
        raise UsageError(
            f"assert_binary(glibc_max={glibc_max!r}): not a glibc version", hint='write it like "2.28"'
        )
    floor = info.glibc_floor
    ok = floor is None or version_key(floor) <= version_key(wanted)
    actual = f"at most GLIBC_{wanted}" if ok else f"GLIBC_{floor}"
    check("glibc_max", f"at most GLIBC_{wanted}", actual, "; ".join(info.evidence_for("glibc_floor")))


def _arch_word(arch: str) -> str:
    try:
        return _ARCH_WORDS[Platform.parse(arch).arch]
    except UsageError:
        return arch


def _choice(param: str, value: str, valid: Sequence[str]) -> None:
    if value not in valid:
        raise UsageError(
            f"assert_binary({param}={value!r}): unknown value", hint=f"use one of {', '.join(valid)}"
        )


def interpreter_evidence(info: BinaryInfo) -> str:
    """Where the interpreter was read: ``PT_INTERP /lib/ld-musl-x86_64.so.1`` or ``no PT_INTERP``."""
    return f"PT_INTERP {info.interpreter}" if info.interpreter else "no PT_INTERP"


def _interp_evidence(info: BinaryInfo) -> str:
    parts = [interpreter_evidence(info)]
    parts.append(f"NEEDED {', '.join(info.needed)}" if info.needed else "no NEEDED")
    parts.extend(info.evidence_for("pie"))
    return "; ".join(parts)


def _show(value: object) -> str:
    return "None" if value is None else str(value)
