"""Hardening facts and the glibc floor of an ELF file, read as checksec and release gates read them.

* **RELRO** ``full``: a ``PT_GNU_RELRO`` segment and BIND_NOW; ``partial``: the segment alone;
  ``none``: no segment. A static binary without a dynamic section has no BIND_NOW to set, so it
  is ``partial`` at best (checksec, pwntools and LIEF's checksec say the same).
* **NX**: ``PT_GNU_STACK`` is present and lacks ``PF_X``. Without the header the kernel's default
  applies, which is an executable stack on x86_64, so that is not NX.
* **BIND_NOW**: ``DT_BIND_NOW``, ``DF_BIND_NOW`` in ``DT_FLAGS`` or ``DF_1_NOW`` in ``DT_FLAGS_1``.
* **Stack protector / FORTIFY**: evidence, not proof: a symbol the compiler's instrumentation
  calls (``__stack_chk_fail``, ``__stack_chk_guard``) or a fortified libc entry point
  (``__*_chk``: ``__printf_chk``, ``__memcpy_chk``, …) in ``.symtab`` or ``.dynsym``. ``None``
  when no table can tell: no ``.symtab`` and nothing imported (a stripped static binary). In a
  static binary the libc's own definitions count, as checksec counts them: musl always links
  ``__stack_chk_fail`` (its startup code sets the canary), and glibc's ``libc.a`` is built with
  the protector.
* **glibc floor**: the highest numeric ``GLIBC_x.y`` version in ``.gnu.version_r``, the oldest
  glibc the binary runs on; ``None`` when nothing needs a glibc version (static, musl, no libc).

RELRO, NX and BIND_NOW are ``None`` for files without program headers to load (``ET_REL``, core).
"""

from __future__ import annotations

import re
import struct
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from elftools.elf.elffile import ELFFile
from elftools.elf.gnuversions import GNUVerNeedSection

RELRO_LEVELS = ("none", "partial", "full")
STACK_PROTECTOR_SYMBOLS = ("__stack_chk_fail", "__stack_chk_guard", "__intel_security_cookie")
FORTIFIED = re.compile(r"__\w+_chk")  # fullmatch: __printf_chk, __memcpy_chk; not __stack_chk_fail

_DF_BIND_NOW = 0x8
_DF_1_NOW = 0x1
_PF_X = 0x1
_GLIBC_VERSION = re.compile(r"GLIBC_(\d+(?:\.\d+)*)")


@dataclass(frozen=True)
class DynamicTags:
    """The dynamic-section entries the inspector uses (``flags``/``flags_1`` are None when absent)."""

    present: bool = False
    needed: tuple[str, ...] = ()
    flags: int | None = None
    flags_1: int | None = None
    bind_now_tag: bool = False


@dataclass(frozen=True)
class Hardening:
    """The hardening verdicts of one file and the ``(topic, text)`` evidence behind each."""

    relro: str | None
    nx: bool | None
    bind_now: bool | None
    stack_protector: bool | None
    fortify: bool | None
    glibc_floor: str | None
    evidence: tuple[tuple[str, str], ...]


def read_hardening(
    elf: ELFFile,
    data: Any,
    segments: Sequence[Any],
    sections: Sequence[Any],
    dynamic: DynamicTags,
    symbol_tables: Mapping[str, frozenset[str]],
) -> Hardening:
    """Every hardening fact of ``elf``: ``data`` is the file's bytes (an mmap), ``segments`` and
    ``sections`` its parsed headers in file order, ``symbol_tables`` maps ``.symtab``/``.dynsym``
    to the names they hold."""
    evidence: list[tuple[str, str]] = []
    loadable = elf.header["e_type"] in ("ET_EXEC", "ET_DYN")
    relro = nx = bind_now = None
    if loadable:
        bind_now = _bind_now(dynamic, evidence)
        relro = _relro(segments, dynamic, bind_now, evidence)
        nx = _nx(segments, evidence)
    # ld writes imported names into .symtab with their version: __printf_chk@GLIBC_2.3.4
    plain = {
        table: frozenset(n.partition("@")[0] for n in names) - {""} for table, names in symbol_tables.items()
    }
    symbol_tables = {table: names for table, names in plain.items() if names}
    tells = ".symtab" in symbol_tables or bool(dynamic.needed)
    stack_protector = _symbol_fact(
        "stack_protector", symbol_tables, tells, lambda s: s in STACK_PROTECTOR_SYMBOLS, evidence
    )
    fortify = _symbol_fact("fortify", symbol_tables, tells, FORTIFIED.fullmatch, evidence)
    floor = _glibc_floor(elf, data, sections, evidence)
    return Hardening(relro, nx, bind_now, stack_protector, fortify, floor, tuple(evidence))


def summary(
    relro: str | None,
    nx: bool | None,
    pie: bool,
    bind_now: bool | None,
    stack_protector: bool | None,
    fortify: bool | None,
) -> str:
    """One line as a release checklist reads it, e.g. ``PIE, full RELRO, NX, SSP, no FORTIFY``."""
    if relro is None:
        return "-"
    words = ["PIE" if pie else "no PIE", "no RELRO" if relro == "none" else f"{relro} RELRO"]
    if bind_now and relro != "full":  # full RELRO is RELRO with BIND_NOW; partial is without
        words.append("BIND_NOW")
    words.append("NX" if nx else "no NX")
    for word, value in (("SSP", stack_protector), ("FORTIFY", fortify)):
        words.append(word if value else f"{word} unknown" if value is None else f"no {word}")
    return ", ".join(words)


def version_key(version: str) -> tuple[int, ...]:
    """``"2.34"`` → ``(2, 34)``, for comparing glibc versions."""
    return tuple(int(part) for part in version.split(".") if part.isdigit())


def _bind_now(dynamic: DynamicTags, evidence: list[tuple[str, str]]) -> bool:
    reasons = []
    if dynamic.bind_now_tag:
        reasons.append("DT_BIND_NOW")
    if dynamic.flags is not None and dynamic.flags & _DF_BIND_NOW:
        reasons.append("DT_FLAGS has DF_BIND_NOW")
    if dynamic.flags_1 is not None and dynamic.flags_1 & _DF_1_NOW:
        reasons.append("DT_FLAGS_1 has DF_1_NOW")
    if reasons:
        evidence.append(("bind_now", "; ".join(reasons)))
    elif dynamic.present:
        evidence.append(("bind_now", "no DT_BIND_NOW, DF_BIND_NOW or DF_1_NOW: symbols bind lazily"))
    else:
        evidence.append(("bind_now", "no dynamic section (static): nothing to bind"))
    return bool(reasons)


def _relro(
    segments: Sequence[Any], dynamic: DynamicTags, bind_now: bool, evidence: list[tuple[str, str]]
) -> str:
    segment = next((s for s in segments if s["p_type"] == "PT_GNU_RELRO"), None)
    if segment is None:
        evidence.append(("relro", "no PT_GNU_RELRO segment"))
        return "none"
    where = f"PT_GNU_RELRO at {segment['p_vaddr']:#x} ({segment['p_memsz']} bytes)"
    if bind_now:
        evidence.append(("relro", f"{where} and BIND_NOW"))
        return "full"
    why = "no BIND_NOW" if dynamic.present else "no dynamic section, so no BIND_NOW flag"
    evidence.append(("relro", f"{where}, {why}"))
    return "partial"


def _nx(segments: Sequence[Any], evidence: list[tuple[str, str]]) -> bool:
    segment = next((s for s in segments if s["p_type"] == "PT_GNU_STACK"), None)
    if segment is None:
        evidence.append(("nx", "no PT_GNU_STACK: the kernel's default (executable on x86_64) applies"))
        return False
    flags = segment["p_flags"]
    shown = "".join(c if flags & bit else "-" for c, bit in (("R", 4), ("W", 2), ("X", 1)))
    evidence.append(("nx", f"PT_GNU_STACK flags {shown}"))
    return not flags & _PF_X


def _symbol_fact(
    topic: str,
    tables: Mapping[str, frozenset[str]],
    tells: bool,
    match: Callable[[str], object],
    evidence: list[tuple[str, str]],
) -> bool | None:
    found = False
    for table, names in sorted(tables.items(), reverse=True):  # .symtab before .dynsym
        hits = sorted(n for n in names if match(n))
        if hits:
            more = f" (+{len(hits) - 3} more)" if len(hits) > 3 else ""
            evidence.append((topic, f"{table}: {', '.join(hits[:3])}{more}"))
            found = True
    if found:
        return True
    if not tells:
        evidence.append((topic, "unknown: no .symtab and nothing imported (a stripped static file)"))
        return None
    evidence.append((topic, f"none of its symbols ({', '.join(sorted(tables))}) show it"))
    return False


def _glibc_floor(
    elf: ELFFile, data: Any, sections: Sequence[Any], evidence: list[tuple[str, str]]
) -> str | None:
    verneed = next((s for s in sections if isinstance(s, GNUVerNeedSection)), None)
    if verneed is None:
        evidence.append(("glibc_floor", "no .gnu.version_r: needs no symbol versions"))
        return None
    best: tuple[tuple[int, ...], str, str, int] | None = None  # key, version, file, index
    for need, aux_iter in verneed.iter_versions():
        for aux in aux_iter:
            m = _GLIBC_VERSION.fullmatch(str(aux.name))
            if m and (best is None or version_key(m.group(1)) > best[0]):
                index = int(aux.entry["vna_other"])
                best = (version_key(m.group(1)), m.group(1), str(need.name), index)
    if best is None:
        evidence.append(("glibc_floor", "no GLIBC_ version in .gnu.version_r"))
        return None
    _, version, library, index = best
    users = _symbols_of_version(elf, data, sections, index)
    by = (
        f": {', '.join(users[:3])}" + (f" (+{len(users) - 3} more)" if len(users) > 3 else "")
        if users
        else ""
    )
    evidence.append(("glibc_floor", f"GLIBC_{version} from {library}{by}"))
    return version


def _symbols_of_version(elf: ELFFile, data: Any, sections: Sequence[Any], index: int) -> list[str]:
    """Names of the ``.dynsym`` entries whose ``.gnu.version`` entry is ``index``."""
    dynsym = next((s for s in sections if s["sh_type"] == "SHT_DYNSYM"), None)
    versym = next((s for s in sections if s["sh_type"] == "SHT_GNU_versym"), None)
    if dynsym is None or versym is None or not 0 <= dynsym["sh_link"] < len(sections):
        return []
    strtab = sections[dynsym["sh_link"]]
    entsize = dynsym["sh_entsize"] or (24 if elf.elfclass == 64 else 16)
    order = "<" if elf.little_endian else ">"
    count = min(dynsym["sh_size"] // entsize, versym["sh_size"] // 2)
    versions = struct.unpack_from(f"{order}{count}H", data, versym["sh_offset"])
    names: list[str] = []
    for i, version in enumerate(versions):
        if version & 0x7FFF == index:
            (name_off,) = struct.unpack_from(f"{order}I", data, dynsym["sh_offset"] + i * entsize)
            start = strtab["sh_offset"] + name_off
            end = data.find(b"\0", start, strtab["sh_offset"] + strtab["sh_size"])
            if end > start:
                names.append(bytes(data[start:end]).decode("utf-8", "replace"))
    return sorted(names)
