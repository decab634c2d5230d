"""What .bazelrc and .bazelversion say about every build of a workspace."""

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
# Commands whose --platforms is the target platform of a build (query takes none, cquery is not a build).
_BUILDING = frozenset({"build", "common", "test", "run"})


def bazel_settings(root: Path) -> BazelSettings:
    """``--platforms`` (for every build / for named configs, with their lines) and
    ``--enable_workspace`` from .bazelrc, and the version in .bazelversion."""
    platforms: list[RcPlatform] = []
    enable_workspace: bool | None = None
    for number, line in enumerate(_read_small(root / ".bazelrc").splitlines(), start=1):
        mt = _RC_LINE.match(line.strip())
        if not mt:
            continue
        command, config, flags = mt.groups()
        if command in _BUILDING:
            for flag in re.findall(r"--platforms[= ](\S+)", flags):
                platforms += [
                    RcPlatform(Loc(".bazelrc", number), p, config or "")
                    for p in flag.strip("'\"").split(",")
                    if p
                ]
        if not config:
            for neg, val in re.findall(r"--(no)?enable_workspace(?:=(\w+))?", flags):
                enable_workspace = not neg and val.lower() not in ("false", "0", "no")
    return BazelSettings(tuple(platforms), enable_workspace, _read_small(root / ".bazelversion").strip())


def _read_small(path: Path) -> str:
    try:
        with path.open("rb") as fh:
            return fh.read(1 << 20).decode("utf-8", errors="replace")
    except OSError:
        return ""
