"""ELF inspection: what a built binary is, read with pyelftools, with the evidence for each verdict.

>>> info = inspect_binary("/bin/true")                      # doctest: +SKIP
>>> info.machine, info.linkage, info.libc
('x86_64', 'dynamic', 'glibc')

Verdicts that cannot be read from a header (libc, allocators) come with ``evidence``: pairs of
``(topic, text)`` saying which interpreter path, NEEDED entry, symbol version, symbol or string
decided them. Strings are searched with ``mmap.find`` over the read-only data sections only, so a
stripped 50 MB binary costs a few milliseconds, not a Python loop over its bytes.
"""

from __future__ import annotations

import json
import mmap
import os
import struct
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from elftools.common.exceptions import ELFError
from elftools.elf.dynamic import DynamicSegment
from elftools.elf.elffile import ELFFile
from elftools.elf.gnuversions import GNUVerNeedSection
from elftools.elf.sections import NoteSection
from elftools.elf.segments import InterpSegment, NoteSegment

from ..errors import InspectError
from .hardening import DynamicTags, Hardening, read_hardening
from .hardening import summary as hardening_summary

JSON_KEYS = (
    "machine",
    "bits",
    "endianness",
    "elf_type",
    "pie",
    "linkage",
    "interpreter",
    "libc",
    "needed",
    "stripped",
    "debug_info",
    "allocators",
    "build_id",
    "relro",
    "nx",
    "bind_now",
    "stack_protector",
    "fortify",
    "glibc_floor",
    "summary",
)
ALLOCATORS = ("jemalloc", "mimalloc")
LIBCS = ("glibc", "musl", "none", "unknown")
LINKAGES = ("static", "static-pie", "dynamic")

_MACHINES = {"EM_X86_64": "x86_64", "EM_AARCH64": "aarch64", "EM_386": "i386", "EM_ARM": "arm"}
_FILE_MACHINES = {"x86_64": "x86-64", "aarch64": "ARM aarch64", "i386": "Intel 80386", "arm": "ARM"}
_FILE_TYPES = {"EXEC": "executable", "REL": "relocatable", "CORE": "core file"}
_DF_1_PIE = 0x08000000

# Symbols that only the named libc defines (static binaries that kept .symtab).
_GLIBC_SYMBOLS = ("__libc_setup_tls", "_dl_relocate_static_pie", "__libc_start_call_main", "_IO_stdin_used")
_MUSL_SYMBOLS = ("__init_libc", "__libc_start_init", "__init_tls", "__stdio_write")
# Strings the libc's own code carries in .rodata (static binaries, stripped or not).
_GLIBC_STRINGS = (b"GLIBC_TUNABLES", b"GNU C Library")
_MUSL_STRINGS = (b"-0X+0X 0X-0x+0x 0x", b"No error information")  # vfprintf's prefixes, strerror(0)
# Any libc defines at least one of these; a static binary with a symbol table but none of them has none.
_ANY_LIBC_SYMBOLS = ("__libc_start_main", "malloc", "printf", "puts", "write", "__errno_location", "environ")

_JEMALLOC_API = ("mallocx", "sdallocx", "rallocx", "xallocx", "nallocx", "mallctl", "malloc_stats_print")
_JEMALLOC_PREFIXES = ("", "je_", "_rjem_")  # unprefixed (Debian), je_ (--with-jemalloc-prefix), tikv
_MIMALLOC_API = ("mi_malloc", "mi_free", "mi_version", "mi_option_get", "mi_heap_new")
_ALLOCATOR_STRINGS = {
    "jemalloc": (b"<jemalloc>: ",),  # prefix of every jemalloc diagnostic (malloc_conf parsing)
    "mimalloc": (b"mimalloc: ", b"mimalloc_"),  # message prefix, environment option prefix
}


@dataclass(frozen=True)
class BinaryInfo:
    """What one ELF file is. ``evidence`` holds ``(topic, text)`` pairs behind the verdicts (libc,
    allocators, pie, relro, nx, bind_now, stack_protector, fortify, glibc_floor); see ``hardening.py``
    for how the hardening facts and the glibc floor are read."""

    path: Path
    machine: str
    bits: int
    endianness: str
    elf_type: str
    pie: bool
    linkage: str | None
    interpreter: str | None
    libc: str
    needed: tuple[str, ...]
    stripped: bool
    debug_info: bool
    allocators: tuple[str, ...]
    build_id: str | None
    summary: str
    evidence: tuple[tuple[str, str], ...] = ()
    relro: str | None = None
    nx: bool | None = None
    bind_now: bool | None = None
    stack_protector: bool | None = None
    fortify: bool | None = None
    glibc_floor: str | None = None

    @property
    def static(self) -> bool:
        """True for ``static`` and ``static-pie`` linkage."""
        return self.linkage in ("static", "static-pie")

    @property
    def hardening(self) -> str:
        """The hardening facts in one line, e.g. ``PIE, full RELRO, NX, SSP, no FORTIFY`` (``-``
        for files that are not loaded as they are: objects, core files)."""
        return hardening_summary(
            self.relro, self.nx, self.pie, self.bind_now, self.stack_protector, self.fortify
        )

    def evidence_for(self, topic: str) -> list[str]:
        """The evidence texts recorded for ``topic`` (``libc``, ``jemalloc``, ``relro``, ``nx``, …)."""
        return [text for t, text in self.evidence if t == topic]

    def to_json(self) -> dict[str, Any]:
        """The documented JSON object: exactly ``JSON_KEYS``, in that order (tuples as lists)."""
        return {key: _json_value(getattr(self, key)) for key in JSON_KEYS}

    def to_json_text(self) -> str:
        return json.dumps(self.to_json(), indent=2)


def _json_value(value: object) -> object:
    return list(value) if isinstance(value, tuple) else value


def inspect_binary(path: str | os.PathLike[str]) -> BinaryInfo:
    """Read ``path`` and report what it is; ``InspectError`` (one line) when it is not a sound ELF file."""
    p = Path(path)
    _check_file(p)
    try:
        fh = p.open("rb")
    except OSError as exc:
        raise InspectError(f"{p}: cannot open: {exc.strerror or exc}") from exc
    with fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as data:
        if data[:4] != b"\x7fELF":
            raise InspectError(f"{p}: not an ELF file (starts with {bytes(data[:4])!r})")
        try:
            elf = ELFFile(fh)
            # pyelftools builds each segment and section anew per iteration (a dynamic segment
            # parses every section, hash tables included): read them once.
            _check_tables(p, elf, len(data))
            segments, sections = list(elf.iter_segments()), list(elf.iter_sections())
            _check_extents(p, len(data), segments, sections)
            return _Reader(p, elf, data, segments, sections).info()
        except InspectError:
            raise
        except (ELFError, struct.error, EOFError) as exc:
            raise InspectError(f"{p}: corrupt or truncated ELF file ({_first_line(exc)})") from exc
        except Exception as exc:
            if _raised_in_elftools(exc):  # pyelftools tripping over bad offsets/sizes: a broken file
                raise InspectError(
                    f"{p}: corrupt ELF file ({type(exc).__name__}: {_first_line(exc)})"
                ) from exc
            raise


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _raised_in_elftools(exc: BaseException) -> bool:
    tb = exc.__traceback__
    last = None
    while tb is not None:
        last, tb = tb, tb.tb_next
    return last is not None and f"{os.sep}elftools{os.sep}" in last.tb_frame.f_code.co_filename


def _check_file(p: Path) -> None:
    if not p.exists():
        raise InspectError(f"{p}: no such file")
    if p.is_dir():
        raise InspectError(f"{p}: is a directory, not an ELF file")
    size = p.stat().st_size
    if size == 0:
        raise InspectError(f"{p}: empty file (0 bytes), not an ELF file")
    if size < 64:
        with p.open("rb") as fh:
            head = fh.read(4)
        problem = "truncated ELF file" if head == b"\x7fELF" else "not an ELF file"
        raise InspectError(f"{p}: {problem} ({size} bytes, shorter than an ELF header)")


def _check_tables(p: Path, elf: ELFFile, size: int) -> None:
    h = elf.header
    tables = (
        ("program header table", h["e_phoff"], h["e_phnum"] * h["e_phentsize"]),
        ("section header table", h["e_shoff"], h["e_shnum"] * h["e_shentsize"]),
    )
    for what, off, length in tables:
        if length and off + length > size:
            raise InspectError(
                f"{p}: truncated ELF file ({what} ends at byte {off + length}, file has {size})"
            )


def _check_extents(p: Path, size: int, segments: list[Any], sections: list[Any]) -> None:
    for seg in segments:
        if seg["p_filesz"] and seg["p_offset"] + seg["p_filesz"] > size:
            end = seg["p_offset"] + seg["p_filesz"]
            raise InspectError(
                f"{p}: truncated ELF file (segment {seg['p_type']} ends at byte {end}, file has {size})"
            )
    for sec in sections:
        if sec["sh_type"] != "SHT_NOBITS" and sec["sh_size"] and sec["sh_offset"] + sec["sh_size"] > size:
            end = sec["sh_offset"] + sec["sh_size"]
            raise InspectError(
                f"{p}: truncated ELF file (section {sec.name} ends at byte {end}, file has {size})"
            )


class _Reader:
    def __init__(
        self, path: Path, elf: ELFFile, data: mmap.mmap, segments: list[Any], sections: list[Any]
    ) -> None:
        self.path, self.elf, self.data = path, elf, data
        self.evidence: list[tuple[str, str]] = []
        self.segments, self.section_list = segments, sections
        self.sections = {s.name: s for s in sections}
        self._tables: dict[str, frozenset[str]] | None = None
        self._symbols: frozenset[str] | None = None

    # --- basic facts -------------------------------------------------------------------------
    def info(self) -> BinaryInfo:
        h = self.elf.header
        machine = _MACHINES.get(h["e_machine"], str(h["e_machine"]).removeprefix("EM_").lower())
        elf_type = str(h["e_type"]).removeprefix("ET_")
        interp_header = self._interpreter()
        interpreter = interp_header or None
        dynamic = self._dynamic()
        needed, dt_flags_1 = dynamic.needed, dynamic.flags_1
        flags_1 = dt_flags_1 or 0
        # As file(1) decides: DT_FLAGS_1 has DF_1_PIE (set by ld.bfd >= 2.35 and lld for -pie).
        # An ET_DYN with an interpreter but no DF_1_PIE (libc.so.6, pam modules) is a shared object.
        pie = elf_type == "DYN" and bool(flags_1 & _DF_1_PIE)
        if pie:
            self.evidence.append(("pie", "DT_FLAGS_1 has DF_1_PIE"))
        linkage = self._linkage(elf_type, pie, interpreter, needed)
        stripped = ".symtab" not in self.sections
        debug_info = ".debug_info" in self.sections
        build_id, abi_tag, note_words = self._notes()
        libc = self._libc(linkage, interpreter, needed, stripped, abi_tag)
        allocators = tuple(a for a in ALLOCATORS if self._allocator(a, needed))
        summary = _summary(
            bits=self.elf.elfclass,
            little=self.elf.little_endian,
            elf_type=elf_type,
            pie=pie,
            machine=machine,
            osabi=str(h["e_ident"]["EI_OSABI"]),
            version=h["e_version"],
            linking=self._file_linking(elf_type, interpreter, needed, dt_flags_1 is not None),
            interpreter="*empty*" if interp_header == "" else interpreter,
            note_words=note_words,
            mode=self.path.stat().st_mode,
            debug_info=debug_info,
            stripped=stripped,
        )
        hardening: Hardening = read_hardening(
            self.elf, self.data, self.segments, self.section_list, dynamic, self.symbol_tables()
        )
        return BinaryInfo(
            path=self.path,
            machine=machine,
            bits=self.elf.elfclass,
            endianness="little" if self.elf.little_endian else "big",
            elf_type=elf_type,
            pie=pie,
            linkage=linkage,
            interpreter=interpreter,
            libc=libc,
            needed=needed,
            stripped=stripped,
            debug_info=debug_info,
            allocators=allocators,
            build_id=build_id,
            summary=summary,
            evidence=(*self.evidence, *hardening.evidence),
            relro=hardening.relro,
            nx=hardening.nx,
            bind_now=hardening.bind_now,
            stack_protector=hardening.stack_protector,
            fortify=hardening.fortify,
            glibc_floor=hardening.glibc_floor,
        )

    def _interpreter(self) -> str | None:
        """PT_INTERP's path; "" when the header is there but its bytes are not (a separate
        debug file keeps the program headers, with .interp as NOBITS)."""
        for seg in self.segments:
            if isinstance(seg, InterpSegment):
                raw = self.data[seg["p_offset"] : seg["p_offset"] + seg["p_filesz"]]
                return bytes(raw).split(b"\0", 1)[0].decode("utf-8", "replace")
        return None

    def _dynamic(self) -> DynamicTags:
        needed: list[str] = []
        values: dict[str, int] = {}
        for seg in self.segments:
            if not isinstance(seg, DynamicSegment):
                continue
            for tag in seg.iter_tags():
                name = tag.entry.d_tag
                if name == "DT_NEEDED":
                    needed.append(str(getattr(tag, "needed", "")))
                elif name in ("DT_FLAGS", "DT_FLAGS_1", "DT_BIND_NOW") and name not in values:
                    values[name] = int(tag.entry.d_val)
            return DynamicTags(
                present=True,
                needed=tuple(needed),
                flags=values.get("DT_FLAGS"),
                flags_1=values.get("DT_FLAGS_1"),
                bind_now_tag="DT_BIND_NOW" in values,
            )
        return DynamicTags()

    @staticmethod
    def _linkage(elf_type: str, pie: bool, interpreter: str | None, needed: tuple[str, ...]) -> str | None:
        if elf_type not in ("EXEC", "DYN"):
            return None
        if interpreter is not None or needed or (elf_type == "DYN" and not pie):
            return "dynamic"
        return "static-pie" if pie else "static"

    def _file_linking(
        self, elf_type: str, interpreter: str | None, needed: tuple[str, ...], has_flags_1: bool
    ) -> str | None:
        """file(1)'s word. It says static-pie for any PT_DYNAMIC object with a DT_FLAGS_1 tag
        (whatever its bits) and no interpreter or NEEDED, so a dependency-free .so can be "static-pie"."""
        if elf_type not in ("EXEC", "DYN"):
            return None
        if not any(isinstance(seg, DynamicSegment) for seg in self.segments):
            return "statically"
        if has_flags_1 and not interpreter and not needed:
            return "static-pie"
        return "dynamically"

    def _notes(self) -> tuple[str | None, str | None, tuple[str, ...]]:
        """Build-id, ABI tag, and the notes as file(1) words, in file order (file(1) keeps it)."""
        build_id: str | None = None
        abi_tag: str | None = None
        words: list[str] = []
        for note in self._iter_notes():
            desc = note["n_desc"]
            is_go = note["n_name"] == "Go" and note["n_type"] in (4, "NT_GNU_GOLD_VERSION")
            if is_go and isinstance(desc, bytes):
                if build_id is None:  # file(1) skips a Go build-id that follows the GNU one
                    words.append(f"Go BuildID={desc.decode('ascii', 'replace')}")
            elif note["n_type"] == "NT_GNU_BUILD_ID" and build_id is None and isinstance(desc, str):
                build_id = desc
                kind = {40: "sha1", 32: "md5/uuid", 16: "xxHash"}.get(len(desc), "unknown")
                words.append(f"BuildID[{kind}]={desc}")
            elif note["n_type"] == "NT_GNU_ABI_TAG" and abi_tag is None and not isinstance(desc, bytes | str):
                os_name = "GNU/Linux" if desc["abi_os"] == "ELF_NOTE_OS_LINUX" else str(desc["abi_os"])
                abi_tag = f"{os_name} {desc['abi_major']}.{desc['abi_minor']}.{desc['abi_tiny']}"
                words.append(f"for {abi_tag}")
        return build_id, abi_tag, tuple(words)

    def _iter_notes(self) -> Iterator[Any]:
        note_sections = [s for s in self.sections.values() if isinstance(s, NoteSection)]
        if note_sections:
            for sec in note_sections:
                yield from sec.iter_notes()
            return
        for seg in self.segments:
            if isinstance(seg, NoteSegment):
                yield from seg.iter_notes()

    # --- symbols and strings -----------------------------------------------------------------
    def section(self, index: int) -> Any:
        """Section number ``index``, or None when there is no such section."""
        return self.section_list[index] if 0 <= index < len(self.section_list) else None

    def symbol_tables(self) -> dict[str, frozenset[str]]:
        """Names in .symtab and in .dynsym, read straight from the tables (st_name is the first word)."""
        if self._tables is None:
            self._tables = {}
            for name in (".symtab", ".dynsym"):
                sec = self.sections.get(name)
                if sec is not None:
                    self._tables[name] = frozenset(self._symbol_names(sec)) - {""}
        return self._tables

    def symbols(self) -> frozenset[str]:
        """Names in .symtab and .dynsym together."""
        if self._symbols is None:
            self._symbols = frozenset().union(*self.symbol_tables().values())
        return self._symbols

    def _symbol_names(self, sec: Any) -> Iterable[str]:
        entsize = sec["sh_entsize"] or (24 if self.elf.elfclass == 64 else 16)
        strtab = self.section(sec["sh_link"])
        if entsize < 4 or strtab is None or strtab["sh_type"] == "SHT_NOBITS":
            return ()
        table = self.data[sec["sh_offset"] : sec["sh_offset"] + sec["sh_size"]]
        strings = self.data[strtab["sh_offset"] : strtab["sh_offset"] + strtab["sh_size"]]
        fmt = ("<" if self.elf.little_endian else ">") + f"I{entsize - 4}x"
        usable = len(table) - len(table) % entsize
        offsets = {off for (off,) in struct.iter_unpack(fmt, table[:usable])}
        out = []
        for off in offsets:
            end = strings.find(b"\0", off)
            if end > off:
                out.append(strings[off:end].decode("utf-8", "replace"))
        return out

    def _rodata_ranges(self) -> list[tuple[int, int]]:
        ranges = []
        for sec in self.sections.values():
            flags = sec["sh_flags"]
            alloc, write, execute = flags & 0x2, flags & 0x1, flags & 0x4
            if sec["sh_type"] == "SHT_PROGBITS" and alloc and not write and not execute and sec["sh_size"]:
                ranges.append((sec["sh_offset"], sec["sh_offset"] + sec["sh_size"]))
        if not ranges:  # no section headers (sstrip): search the read-only loadable segments
            for seg in self.segments:
                if seg["p_type"] == "PT_LOAD" and not seg["p_flags"] & 0x1:
                    ranges.append((seg["p_offset"], seg["p_offset"] + seg["p_filesz"]))
        return ranges

    def find_string(self, needle: bytes) -> str | None:
        """Name of the read-only section holding ``needle``, or None."""
        for start, end in self._rodata_ranges():
            if self.data.find(needle, start, end) >= 0:
                for sec in self.sections.values():
                    if sec["sh_offset"] == start:
                        return str(sec.name)
                return "read-only segment"
        return None

    # --- libc --------------------------------------------------------------------------------
    def _libc(
        self,
        linkage: str | None,
        interp: str | None,
        needed: tuple[str, ...],
        stripped: bool,
        abi_tag: str | None,
    ) -> str:
        votes: list[str] = []

        def vote(libc: str, text: str) -> None:
            votes.append(libc)
            self.evidence.append(("libc", f"{libc}: {text}"))

        if interp:
            if "ld-musl" in interp:
                vote("musl", f"interpreter {interp}")
            elif "ld-linux" in interp or "ld64.so" in interp:
                vote("glibc", f"interpreter {interp}")
        for lib in needed:
            if lib == "libc.so.6":
                vote("glibc", f"NEEDED {lib}")
            elif lib.startswith("libc.musl-") or lib == "libc.so":
                vote("musl", f"NEEDED {lib}")
        glibc_versions = self._glibc_versions()
        if glibc_versions:
            vote("glibc", f"symbol versions {', '.join(glibc_versions[:3])}")
        symbols = self.symbols() if not stripped or ".dynsym" in self.sections else frozenset()
        for libc, markers in (("glibc", _GLIBC_SYMBOLS), ("musl", _MUSL_SYMBOLS)):
            hits = [m for m in markers if m in symbols]
            if hits and not needed:  # in a dynamic binary these would be imports, judged above
                vote(libc, f"symbols {', '.join(hits)}")
        if abi_tag:
            vote("glibc", f"NT_GNU_ABI_TAG note ({abi_tag}; glibc's start files add it, musl's do not)")
        if linkage in ("static", "static-pie"):
            for libc, needles in (("glibc", _GLIBC_STRINGS), ("musl", _MUSL_STRINGS)):
                for needle in needles:
                    where = self.find_string(needle)
                    if where:
                        vote(libc, f"string {needle.decode()!r} in {where}")
        if votes:
            return votes[0]
        if (
            linkage in ("static", "static-pie")
            and not stripped
            and not any(s in symbols for s in _ANY_LIBC_SYMBOLS)
        ):
            self.evidence.append(
                ("libc", "none: static, and .symtab has no libc entry points (malloc, write, …)")
            )
            return "none"
        self.evidence.append(
            ("libc", "unknown: no interpreter, NEEDED libc, symbol versions, symbols or strings")
        )
        return "unknown"

    def _glibc_versions(self) -> list[str]:
        sec = self.sections.get(".gnu.version_r")
        if not isinstance(sec, GNUVerNeedSection):
            return []
        found: list[str] = []
        for _verneed, aux_iter in sec.iter_versions():
            for aux in aux_iter:
                name = str(aux.name)
                if name.startswith("GLIBC_") and name not in found:
                    found.append(name)
        return sorted(found, key=_version_key, reverse=True)

    # --- allocators --------------------------------------------------------------------------
    def _allocator(self, name: str, needed: tuple[str, ...]) -> bool:
        hits: list[str] = [f"NEEDED {lib}" for lib in needed if lib.startswith(f"lib{name}.so")]
        symbols = self.symbols()
        if name == "jemalloc":
            wanted = {p + api for p in _JEMALLOC_PREFIXES for api in _JEMALLOC_API}
            syms = sorted(s for s in symbols if s in wanted or s.startswith(("je_arena_", "_rjem_je_")))
        else:
            syms = sorted(s for s in symbols if s in _MIMALLOC_API or s.startswith("_mi_"))
        if syms:
            more = f" (+{len(syms) - 3} more)" if len(syms) > 3 else ""
            hits.append(f"symbols {', '.join(syms[:3])}{more}")
        if not hits:  # stripped static binaries: the allocator's own message strings
            for needle in _ALLOCATOR_STRINGS[name]:
                where = self.find_string(needle)
                if where:
                    hits.append(f"string {needle.decode()!r} in {where}")
        self.evidence.extend((name, h) for h in hits)
        return bool(hits)


def _version_key(name: str) -> tuple[int, ...]:
    parts = name.removeprefix("GLIBC_").split(".")
    return tuple(int(x) if x.isdigit() else 0 for x in parts)


def _summary(
    *,
    bits: int,
    little: bool,
    elf_type: str,
    pie: bool,
    machine: str,
    osabi: str,
    version: Any,
    linking: str | None,
    interpreter: str | None,
    note_words: tuple[str, ...],
    mode: int,
    debug_info: bool,
    stripped: bool,
) -> str:
    """One line in the words of ``file -L`` (file 5.44)."""
    if elf_type == "DYN":
        kind = "pie executable" if pie else "shared object"
    else:
        kind = _FILE_TYPES.get(elf_type, elf_type.lower())
    ver = 1 if version in ("EV_CURRENT", 1) else version
    abi = {"ELFOSABI_SYSV": "SYSV", "ELFOSABI_LINUX": "GNU/Linux"}.get(osabi, osabi.removeprefix("ELFOSABI_"))
    special = "".join(
        w for bit, w in ((0o4000, "setuid "), (0o2000, "setgid "), (0o1000, "sticky ")) if mode & bit
    )
    parts = [
        f"{special}ELF {bits}-bit {'LSB' if little else 'MSB'} {kind}",
        _FILE_MACHINES.get(machine, machine),
        f"version {ver} ({abi})",
    ]
    if linking is not None:
        parts.append(f"{linking} linked")
    if interpreter:
        parts.append(f"interpreter {interpreter}")
    parts.extend(note_words)
    if debug_info:
        parts.append("with debug_info")
    parts.append("stripped" if stripped else "not stripped")
    return ", ".join(parts)
