"""Where the Bazel builder's caches and outputs live, on the host and as its containers see them."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from ..cache import Cache
from .base import BuildRequest

CONTAINER_CACHE = "/rr-cache/bazel"
CONTAINER_OUT = "/rr-out"


@dataclass(frozen=True)
class BazelPaths:
    """Where things live, on the host and as the container sees them."""

    output_base: Path
    repository_cache: Path
    disk_cache: Path
    home: Path
    bazelisk_home: Path
    out_dir: Path

    @classmethod
    def for_request(cls, cache: Cache, request: BuildRequest, out_dir: Path) -> BazelPaths:
        root = cache.path("bazel")
        return cls(
            output_base=root / "output_bases" / workspace_key(request),
            repository_cache=root / "repository",
            disk_cache=root / "disk",
            home=root / "home",
            bazelisk_home=root / "bazelisk",
            out_dir=out_dir,
        )

    def container(self, host: Path) -> str:
        """The container path of a host path under the cache root or the out dir."""
        cache_root = self.repository_cache.parent
        if host.is_relative_to(cache_root):
            return f"{CONTAINER_CACHE}/{host.relative_to(cache_root)}"
        if host.is_relative_to(self.out_dir):
            return f"{CONTAINER_OUT}/{host.relative_to(self.out_dir)}"
        raise ValueError(f"{host} is not under the cache or the out dir")

    def path_map(self) -> dict[str, Path]:
        """Container prefixes → host paths, for the URIs in the BEP stream."""
        return {CONTAINER_CACHE: self.repository_cache.parent, CONTAINER_OUT: self.out_dir}


def workspace_key(request: BuildRequest) -> str:
    """Output bases are per workspace and parameters: a change of rules_rust version starts afresh."""
    ws = request.workspace
    blob = json.dumps({"name": ws.name, "params": dict(ws.params)}, sort_keys=True, default=str)
    return f"{ws.name}-{hashlib.sha256(blob.encode()).hexdigest()[:12]}"
