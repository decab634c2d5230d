"""What .bazelrc and .bazelversion say about every build of a workspace."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class BazelSettings:
    """What .bazelrc and .bazelversion say about every build of the workspace."""

    platforms: tuple[str, ...] = ()
    config_platforms: tuple[str, ...] = ()
    enable_workspace: bool | None = None
    version: str = ""


NO_SETTINGS = BazelSettings()
_RC_LINE = re.compile(r"^(build|common|test|run|cquery|query|startup)(:\S+)?\s+(.*)$")


def bazel_settings(root: Path) -> BazelSettings:
    """``--platforms`` (for every build / for named configs) and ``--enable_workspace`` from
    .bazelrc, and the version in .bazelversion."""
    platforms: list[str] = []
    config_platforms: list[str] = []
    enable_workspace: bool | None = None
    for line in _read_small(root / ".bazelrc").splitlines():
        mt = _RC_LINE.match(line.strip())
        if not mt:
            continue
        target = config_platforms if mt.group(2) else platforms
        for flag in re.findall(r"--platforms[= ](\S+)", mt.group(3)):
            target.extend(p for p in flag.strip("'\"").split(",") if p)
        if not mt.group(2):
            for neg, val in re.findall(r"--(no)?enable_workspace(?:=(\w+))?", mt.group(3)):
                enable_workspace = not neg and val.lower() not in ("false", "0", "no")
    return BazelSettings(
        tuple(platforms),
        tuple(config_platforms),
        enable_workspace,
        _read_small(root / ".bazelversion").strip(),
    )


def _read_small(path: Path) -> str:
    try:
        with path.open("rb") as fh:
            return fh.read(1 << 20).decode("utf-8", errors="replace")
    except OSError:
        return ""
