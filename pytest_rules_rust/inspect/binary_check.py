"""``binaryTests``: facts every ELF file in an image must have, checked on each platform's layout.

A structure spec extension (container-structure-test has no such kind)::

    binaryTests:
      - name: release binaries are hardened and static
        paths: ["/service"]       # optional: without it, every ELF file in the image
        static: true
        interpreter: null         # (omit a key to leave it unchecked)
        stripped: true
        relro: partial
        nx: true
        glibcMax: "2.28"

Keys are ``assert_binary``'s keywords in camelCase (``bindNow``, ``stackProtector``,
``glibcMax``, ``debugInfo``, ``buildId``, ``elfType``). Each file is read from the layout (no
Docker) and every mismatch is reported as ``<path>: <fact>: Expected: X, Actual: Y`` with its
evidence. A spec without ``paths`` fails on an image that holds no ELF file at all, so it
cannot pass by finding nothing.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from ..errors import InspectError, UsageError
from .assertions import Expectation, binary_checks, interpreter_evidence
from .elf import ALLOCATORS, LINKAGES, inspect_binary
from .hardening import RELRO_LEVELS

if TYPE_CHECKING:
    from .structure import Source

_BOOLS = {
    "static": "static",
    "pie": "pie",
    "stripped": "stripped",
    "debugInfo": "debug_info",
    "buildId": "build_id",
    "nx": "nx",
    "bindNow": "bind_now",
    "stackProtector": "stack_protector",
    "fortify": "fortify",
}
_CHOICES: dict[str, tuple[str, tuple[str, ...]]] = {
    "linkage": ("linkage", LINKAGES),
    "relro": ("relro", RELRO_LEVELS),
    "libc": ("libc", ("glibc", "gnu", "musl", "none")),
    "allocator": ("allocator", (*ALLOCATORS, "system")),
    "elfType": ("elf_type", ("EXEC", "DYN", "REL")),
}
_STRINGS = {"arch": "arch", "glibcMax": "glibc_max"}
_ELF_MAGIC = b"\x7fELF"


@dataclass(frozen=True)
class BinaryCheck:
    kind: ClassVar[str] = "binaryTests"
    required: ClassVar[tuple[str, ...]] = ("name",)
    keys: ClassVar[frozenset[str]] = frozenset(
        {"name", "paths", "interpreter", *_BOOLS, *_CHOICES, *_STRINGS}
    )
    needs_commands: ClassVar[bool] = False
    name: str
    paths: tuple[str, ...] = ()
    expected: tuple[tuple[str, Any], ...] = ()  # assert_binary keyword, value

    @classmethod
    def parse(cls, raw: Mapping[str, Any], where: str) -> BinaryCheck:
        expected: list[tuple[str, Any]] = []
        for key, value in raw.items():
            if key in _BOOLS:
                if not isinstance(value, bool):
                    raise UsageError(f"{where}.{key} must be true or false (got {value!r})")
                expected.append((_BOOLS[key], value))
            elif key in _CHOICES:
                keyword, valid = _CHOICES[key]
                if value not in valid:
                    raise UsageError(f"{where}.{key} must be one of {', '.join(valid)} (got {value!r})")
                expected.append((keyword, value))
            elif key in _STRINGS:
                if key == "glibcMax" and not re.fullmatch(r"(GLIBC_)?\d+(\.\d+)*", str(value)):
                    raise UsageError(f'{where}.glibcMax must be a glibc version like "2.28" (got {value!r})')
                expected.append((_STRINGS[key], str(value)))
            elif key == "interpreter":  # null: no PT_INTERP
                expected.append(("interpreter", value if value is None else str(value)))
        paths = raw.get("paths", [])
        if not isinstance(paths, list) or not all(isinstance(p, str) for p in paths):
            raise UsageError(f"{where}.paths must be a list of paths")
        if not expected:
            raise UsageError(f"{where} expects nothing", hint=f"add one of {', '.join(sorted(cls.keys))}")
        return cls(str(raw["name"]), tuple(paths), tuple(expected))

    def check(self, source: Source) -> list[str]:
        paths = list(self.paths) or _elf_files(source)
        if not paths:
            return ["No ELF file in the image. Expected: at least one binary, Actual: none"]
        errors: list[str] = []
        for path in paths:
            errors += self._check_file(source, path)
        return errors

    def _check_file(self, source: Source, path: str) -> list[str]:
        if source.stat(path) is None:
            return [f"File {path} should exist but does not"]
        with tempfile.TemporaryDirectory(prefix="rr-binary-") as tmp:
            copy = Path(tmp, Path(path).name or "binary")
            copy.write_bytes(source.read(path))
            try:
                info = inspect_binary(copy)
            except InspectError as exc:
                return [f"{path}: {exc.message.removeprefix(f'{copy}: ')}"]
            expected = dict(self.expected)
            checks = binary_checks(info, expected)
            if "interpreter" in expected and expected["interpreter"] is None:  # None: unchecked there
                checks.append(Expectation("interpreter", None, info.interpreter, interpreter_evidence(info)))
        errors = []
        for c in checks:
            if c.passed:
                continue
            text = f"{path}: {c.name}: Expected: {_show(c.expected)}, Actual: {_show(c.actual)}"
            errors.append(text + (f" (evidence: {c.evidence})" if c.evidence else ""))
        return errors


def _elf_files(source: Source) -> list[str]:
    found = []
    for path, entry in sorted(source.entries().items()):
        if entry.kind == "file" and entry.size >= 64 and source.read(path)[:4] == _ELF_MAGIC:
            found.append(path)
    return found


def _show(value: object) -> str:
    return "None" if value is None else str(value)
