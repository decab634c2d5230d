"""What a Cargo profile and a libc promise about the binaries they produce, as ``assert_binary``
expectations, so the main job can check a build against its own recipe.

* ``strip = "symbols"`` (or ``true``): no symbol table and no debug info;
  ``strip = "debuginfo"``: no debug info.
* a musl build (this project links musl statically): static linkage and no interpreter.

Only what the profile says explicitly is promised; Cargo's defaults change between releases.

>>> promises(Path("fixture_workspaces/musl_jemalloc_oci"), "release", "musl")  # doctest: +SKIP
Promises(expected={'stripped': True, 'debug_info': False, 'static': True}, no_interpreter=True, ...)
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .inspect.assertions import Expectation, binary_checks, interpreter_evidence
from .inspect.elf import BinaryInfo


@dataclass(frozen=True)
class Promises:
    """``assert_binary`` expectations, whether there may be no PT_INTERP, and where each came from."""

    expected: dict[str, Any] = field(default_factory=dict)
    no_interpreter: bool = False
    sources: dict[str, str] = field(default_factory=dict)  # expectation -> the setting behind it

    def problems(self, info: BinaryInfo) -> list[str]:
        """One line per broken promise: ``stripped: Expected: True, Actual: False ([profile.release] …)``."""
        checks = binary_checks(info, self.expected)
        if self.no_interpreter:
            checks.append(Expectation("interpreter", None, info.interpreter, interpreter_evidence(info)))
        return [
            f"{c.name}: Expected: {c.expected}, Actual: {c.actual} ({self.sources.get(c.name, '')})"
            for c in checks
            if not c.passed
        ]


def promises(workspace_root: Path, profile: str, libc: str) -> Promises:
    """The promises of ``[profile.<profile>]`` in ``workspace_root/Cargo.toml`` and of ``libc``."""
    expected: dict[str, Any] = {}
    sources: dict[str, str] = {}
    profile = "dev" if profile == "debug" else profile  # Cargo's name for the debug profile
    settings = _profile(workspace_root / "Cargo.toml", profile)
    strip = settings.get("strip")
    where = f"[profile.{profile}] strip = {strip!r}".replace("'", '"')
    if strip in ("symbols", True):
        expected.update(stripped=True, debug_info=False)
        sources.update(stripped=where, debug_info=where)
    elif strip == "debuginfo":
        expected["debug_info"] = False
        sources["debug_info"] = where
    if libc == "musl":
        expected["static"] = True
        sources.update(static="a musl build links statically", interpreter="a static binary has none")
    return Promises(expected, libc == "musl", sources)


def _profile(cargo_toml: Path, profile: str) -> dict[str, Any]:
    try:
        data = tomllib.loads(cargo_toml.read_text())
    except (OSError, tomllib.TOMLDecodeError):
        return {}  # the build itself reports an unreadable manifest
    table = data.get("profile", {}).get(profile, {})
    return table if isinstance(table, dict) else {}
