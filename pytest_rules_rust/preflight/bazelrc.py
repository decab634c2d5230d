"""What .bazelrc (and the workspace files it imports) and .bazelversion say about the builds."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from .model import Loc, RcPlatform


@dataclass(frozen=True)
class BazelSettings:
    """What .bazelrc and .bazelversion say about every build of the workspace."""

    platforms: tuple[RcPlatform, ...] = ()
    enable_workspace: bool | None = None
    version: str = ""


NO_SETTINGS = BazelSettings()
_RC_LINE = re.compile(r"^(build|common|test|run|cquery|query|startup)(?::(\S+))?\s+(.*)$")
_IMPORT = re.compile(r"^(?:try-)?import\s+%workspace%/(\S+)$")
# Commands whose --platforms is the target platform of a build (query takes none, cquery is not a build).
_BUILDING = frozenset({"build", "common", "test", "run"})
_MAX_IMPORTS = 20
# Flags whose value is a list of platform labels (Bazel fails on one that does not exist).
_PLATFORM_FLAG = re.compile(r"--(platforms|host_platform|extra_execution_platforms)[= ](\S+)")


def bazel_settings(root: Path) -> BazelSettings:
    """Platform flags (for every build / for named configs, with their lines) and
    ``--enable_workspace`` from .bazelrc and the ``%workspace%`` files it imports, and the
    version in .bazelversion."""
    platforms: list[RcPlatform] = []
    enable_workspace: bool | None = None
    for rel, number, line in _rc_lines(root, ".bazelrc", set()):
        mt = _RC_LINE.match(line)
        if not mt:
            continue
        command, config, flags = mt.groups()
        if command in _BUILDING:
            for name, value in _PLATFORM_FLAG.findall(flags):
                platforms += [
                    RcPlatform(Loc(rel, number), p, config or "", name)
                    for p in value.strip("'\"").split(",")
                    if p
                ]
        if not config:
            for neg, val in re.findall(r"--(no)?enable_workspace(?:=(\w+))?", flags):
                enable_workspace = not neg and val.lower() not in ("false", "0", "no")
    return BazelSettings(tuple(platforms), enable_workspace, _read_small(root / ".bazelversion").strip())


def rc_files(root: Path) -> list[str]:
    """The rc files preflight reads: .bazelrc and the ``%workspace%`` files it imports (also those
    in hidden directories, which the workspace listing skips)."""
    seen: set[str] = set()
    _rc_lines(root, ".bazelrc", seen)
    return sorted(seen)


def _rc_lines(root: Path, rel: str, seen: set[str]) -> list[tuple[str, int, str]]:
    """(file, line number, stripped line) of an rc file, with its ``%workspace%`` imports in place."""
    if rel in seen or len(seen) >= _MAX_IMPORTS:
        return []
    seen.add(rel)
    out: list[tuple[str, int, str]] = []
    for number, line in enumerate(_read_small(root / rel).splitlines(), start=1):
        line = line.strip()
        imported = _IMPORT.match(line)
        if imported:
            target = imported.group(1).strip("'\"")
            if ".." not in Path(target).parts and not target.startswith("/"):
                out += _rc_lines(root, target, seen)
        else:
            out.append((rel, number, line))
    return out


def _read_small(path: Path) -> str:
    try:
        with path.open("rb") as fh:
            return fh.read(1 << 20).decode("utf-8", errors="replace")
    except OSError:
        return ""
