"""In which of the shipped versions something existed, for messages like "removed by 0.55.0"."""

from __future__ import annotations

import re
from collections.abc import Callable

from .schema import ApiModel
from .store import shipped, shipped_versions


def version_key(version: str) -> tuple[int, ...]:
    """Numeric sort key of a version string (``0.46.0`` → ``(0, 46, 0)``)."""
    return tuple(int(p) if p.isdigit() else 0 for p in re.split(r"[.\-+]", version))


def present_in(module: str, test: Callable[[ApiModel], bool]) -> list[str]:
    """Shipped versions of ``module`` whose model satisfies ``test``, oldest first."""
    out = []
    for version in shipped_versions(module):
        model = shipped(module, version)
        if model is not None and test(model):
            out.append(version)
    return out


def describe(module: str, pinned: str, present: list[str]) -> str:
    """A clause saying where it existed relative to ``pinned`` ('' when in no shipped version)."""
    if not present:
        return ""
    versions = shipped_versions(module)
    pk = version_key(pinned)
    if all(version_key(v) < pk for v in present):
        later = [v for v in versions if version_key(v) > version_key(present[-1])]
        gone = f", gone by {later[0]}" if later else ""
        return f"it exists up to {module} {present[-1]}{gone}"
    if all(version_key(v) > pk for v in present):
        return f"it was added by {module} {present[0]}"
    return f"it exists in {module} {', '.join(present)}"
