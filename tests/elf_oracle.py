"""An outside oracle for the hardening facts: GNU readelf's output, parsed for the same facts.

readelf (binutils) is a separate ELF reader written in C; only the rule that turns what it prints
into a verdict is shared with ``pytest_rules_rust.inspect.hardening`` (the rule checksec uses):

* relro: ``GNU_RELRO`` in the program headers, and ``full`` with BIND_NOW (``-d``: a ``(BIND_NOW)``
  tag, ``BIND_NOW`` in ``(FLAGS)``, ``NOW`` in ``(FLAGS_1)``); only for ``EXEC``/``DYN`` files;
* nx: a ``GNU_STACK`` header whose flags lack ``E``;
* stack_protector / fortify: ``__stack_chk_fail``/``__stack_chk_guard``/``__intel_security_cookie``
  and ``__*_chk`` among the names in ``--syms``; unknown (None) when there is no named ``.symtab``
  entry and no ``(NEEDED)`` library;
* glibc_floor: the highest ``GLIBC_x.y`` ``Name:`` in the "Version needs section" of ``-V``.

The sample of files is deterministic: every candidate's path is hashed and the lowest hashes win,
so the same machine always checks the same files and another machine checks a fair spread of its own.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

FACTS = ("relro", "nx", "bind_now", "stack_protector", "fortify", "glibc_floor")
EM_AARCH64 = 183
SYSTEM_DIRS = (
    "/usr/bin",
    "/usr/sbin",
    "/usr/libexec",
    "/usr/lib",
    "/usr/lib/aarch64-linux-gnu",
    "/usr/aarch64-linux-gnu",
)
# readelf dumps every symbol as text; the few files above this size (libLLVM, Go and node
# binaries) would take most of the test's time budget between the two readers.
MAX_SIZE = 32 << 20

_SSP = {"__stack_chk_fail", "__stack_chk_guard", "__intel_security_cookie"}
_FORTIFIED = re.compile(r"__\w+_chk")
_SYMBOL = re.compile(r"^\s*\d+:\s+[0-9a-f]+\s+\S+\s+\S+\s+\S+\s+\S+(?:\s+\[[^\]]*\])?\s+\S+\s+(.+)$")
_STACK = re.compile(r"^\s*GNU_STACK\s+(?:0x[0-9a-f]+\s+){5}(.{3})\s+(?:0x)?[0-9a-f]+$", re.MULTILINE)
_NEED_NAME = re.compile(r"^\s*0x[0-9a-f]+:\s+Name: (\S+)", re.MULTILINE)


@dataclass(frozen=True)
class Candidate:
    path: Path
    aarch64: bool


def elf_machine(path: Path) -> int | None:
    """e_machine of an ELF file (read from the header bytes), None for anything else."""
    try:
        with path.open("rb") as fh:
            head = fh.read(20)
    except OSError:
        return None
    if len(head) < 20 or head[:4] != b"\x7fELF":
        return None
    return int.from_bytes(head[18:20], "little" if head[5] == 1 else "big")


def candidates(dirs: Iterable[str] = SYSTEM_DIRS) -> Iterator[Candidate]:
    """Regular ELF files (not symlinks) under ``dirs``, each once."""
    seen: set[tuple[int, int]] = set()
    for top in dirs:
        for root, subdirs, files in os.walk(top):
            subdirs.sort()
            for name in sorted(files):
                path = Path(root, name)
                try:
                    st = path.lstat()
                except OSError:
                    continue
                if not path.is_file() or path.is_symlink() or st.st_size > MAX_SIZE:
                    continue
                if (st.st_dev, st.st_ino) in seen:
                    continue
                machine = elf_machine(path)
                if machine is None:
                    continue
                seen.add((st.st_dev, st.st_ino))
                yield Candidate(path, machine == EM_AARCH64)


def sample(items: Iterable[Candidate], count: int) -> list[Candidate]:
    """The ``count`` candidates whose path hashes lowest: deterministic, and spread over every directory."""
    return sorted(items, key=lambda c: hashlib.sha1(str(c.path).encode()).digest())[:count]


def readelf_for(aarch64: bool) -> str:
    """aarch64-linux-gnu-readelf for arm64 files when installed, else the host's readelf."""
    if aarch64 and shutil.which("aarch64-linux-gnu-readelf"):
        return "aarch64-linux-gnu-readelf"
    return "readelf"


def readelf_facts(path: Path, readelf: str = "readelf") -> dict[str, object] | str:
    """The facts as readelf shows them, or readelf's error text when it cannot read the file."""
    proc = subprocess.run(
        [readelf, "-W", "-h", "-l", "-d", "-V", "--syms", str(path)],
        capture_output=True,
        text=True,
        errors="replace",
        timeout=120,
    )
    if proc.returncode != 0 or "Type:" not in proc.stdout:
        return (proc.stderr.strip() or proc.stdout.strip()).splitlines()[0][:200] or "readelf failed"
    return parse(proc.stdout)


def parse(text: str) -> dict[str, object]:
    """Turn ``readelf -W -h -l -d -V --syms`` output into the six facts."""
    elf_type = re.search(r"^\s*Type:\s+(\w+)", text, re.MULTILINE)
    loadable = elf_type is not None and elf_type.group(1) in ("EXEC", "DYN")
    dynamic = [line for line in text.splitlines() if re.match(r"^\s*0x[0-9a-f]+ \(\w+\)", line)]
    bind_now = any(
        "(BIND_NOW)" in line
        or ("(FLAGS)" in line and "BIND_NOW" in line.split())
        or ("(FLAGS_1)" in line and "NOW" in line.split())
        for line in dynamic
    )
    needed = any("(NEEDED)" in line for line in dynamic)
    has_relro = re.search(r"^\s*GNU_RELRO\s", text, re.MULTILINE) is not None
    stack = _STACK.search(text)
    tables = _symbol_tables(text)
    tells = bool(tables.get(".symtab")) or needed
    names = {n for table in tables.values() for n in table}
    return {
        "relro": ("full" if bind_now else "partial") if has_relro else "none" if loadable else None,
        "nx": (stack is not None and "E" not in stack.group(1)) if loadable else None,
        "bind_now": bind_now if loadable else None,
        "stack_protector": True if names & _SSP else (False if tells else None),
        "fortify": True if any(_FORTIFIED.fullmatch(n) for n in names) else (False if tells else None),
        "glibc_floor": _glibc_floor(text),
    }


def _symbol_tables(text: str) -> dict[str, set[str]]:
    tables: dict[str, set[str]] = {}
    current: set[str] | None = None
    for line in text.splitlines():
        header = re.match(r"^Symbol table '([^']+)' contains", line)
        if header:
            current = tables.setdefault(header.group(1), set())
            continue
        if current is None:
            continue
        if not line.strip():
            current = None
            continue
        m = _SYMBOL.match(line)
        if m:
            name = re.sub(r" \(\d+\)$", "", m.group(1).strip()).partition("@")[0]
            if name:
                current.add(name)
    return tables


def _glibc_floor(text: str) -> str | None:
    block = re.search(r"^Version needs section.*?(?=^\S|\Z)", text, re.MULTILINE | re.DOTALL)
    if block is None:
        return None
    versions = [
        n.removeprefix("GLIBC_")
        for n in _NEED_NAME.findall(block.group(0))
        if re.fullmatch(r"GLIBC_\d+(\.\d+)*", n)
    ]
    if not versions:
        return None
    return max(versions, key=lambda v: tuple(int(x) for x in v.split(".")))
