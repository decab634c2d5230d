"""The values every builder takes and returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

from ..errors import BuildError
from ..platforms import AMD64, Libc, Platform
from ..workspaces import Workspace

Profile = Literal["debug", "release"]
ArtifactKind = Literal["binary", "test-binary", "library", "oci-layout", "file"]


@dataclass(frozen=True)
class BuildRequest:
    """What to build: a workspace for a target platform and libc, on a (possibly emulated) host."""

    workspace: Workspace
    target: Platform
    libc: Libc = "gnu"
    host: Platform = AMD64
    profile: Profile = "debug"
    targets: tuple[str, ...] = ()  # Bazel labels or Cargo binary names; empty = the workspace's defaults
    timeout_s: float = 1800.0
    extra_args: tuple[str, ...] = ()  # passed through to the tool (e.g. Bazel remote cache flags)

    @property
    def triple(self) -> str:
        return self.target.triple(self.libc)

    @property
    def emulated_host(self) -> bool:
        return self.host.arch != AMD64.arch


@dataclass(frozen=True)
class Artifact:
    """One output, described so callers never glob output directories."""

    path: Path  # absolute
    kind: ArtifactKind
    target: str  # Bazel label or Cargo target name
    platform: Platform | None = None

    def to_json(self) -> dict[str, Any]:
        return {"path": str(self.path), "kind": self.kind, "target": self.target}


@dataclass(frozen=True)
class BuildResult:
    request: BuildRequest
    builder: str
    artifacts: tuple[Artifact, ...]
    log: Path
    duration_s: float
    cached: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    def artifact(self, target: str | None = None, kind: ArtifactKind | None = None) -> Artifact:
        """The single artifact matching ``target`` and/or ``kind`` (an error lists what exists)."""
        found = [
            a
            for a in self.artifacts
            if (target is None or a.target == target) and (kind is None or a.kind == kind)
        ]
        if len(found) != 1:
            have = ", ".join(f"{a.kind}:{a.target}" for a in self.artifacts) or "none"
            raise BuildError(
                f"expected one artifact with target={target!r} kind={kind!r}, "
                f"found {len(found)} (have: {have})",
                paths={"log": self.log},
            )
        return found[0]

    def to_json(self) -> dict[str, Any]:
        return {
            "artifacts": [a.to_json() for a in self.artifacts],
            "log": str(self.log),
            "duration_s": round(self.duration_s, 3),
        }


class Builder(Protocol):
    name: str

    def build(self, request: BuildRequest, out_dir: Path) -> BuildResult: ...
