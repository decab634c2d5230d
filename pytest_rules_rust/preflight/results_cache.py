"""Preflight results kept across runs, keyed by the content hashes of what they depend on.

Entries live under the project's shared cache directory (``<cache>/preflight/``), one JSON
file per key, written atomically (a reader never sees half an entry; concurrent writers of one
key write the same bytes). A missing, unreadable or corrupt entry is a miss, never an error.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any

VERSION = "1"


@cache
def code_version() -> str:
    """A hash of preflight's own sources and shipped API models: results of other code or data
    are never reused."""
    h = hashlib.sha256(VERSION.encode())
    here = Path(__file__).parent
    package = here.parent
    files = [*here.rglob("*.py"), *(package / "data" / "api_models").rglob("*")]
    for path in sorted(files):
        try:
            st = path.stat()
        except OSError:
            continue
        h.update(f"{path.relative_to(package)}:{st.st_size}:{st.st_mtime_ns}\n".encode())
    return h.hexdigest()[:16]


def key(*parts: str | bytes | Iterable[str]) -> str:
    """A hex key over strings, bytes and sequences of strings (order matters)."""
    h = hashlib.sha256(code_version().encode())
    for part in parts:
        if isinstance(part, bytes):
            h.update(part)
        elif isinstance(part, str):
            h.update(part.encode("utf-8", "surrogatepass"))
        else:
            for item in part:
                h.update(item.encode("utf-8", "surrogatepass") + b"\0")
        h.update(b"\1")
    return h.hexdigest()


class ResultsCache:
    """JSON values by key under ``root`` (``None`` root: a cache that keeps nothing)."""

    def __init__(self, root: Path | None) -> None:
        self.root = root

    @classmethod
    def default(cls) -> ResultsCache:
        """The cache under the shared cache directory (``$PYTEST_RULES_RUST_CACHE`` or ~/.cache)."""
        from ..cache import default_cache_dir  # lazy: its file lock loads with the first cached run

        return cls(default_cache_dir() / "preflight")

    def _path(self, k: str) -> Path | None:
        return None if self.root is None else self.root / k[:2] / f"{k}.json"

    def get(self, k: str) -> Any:
        """The value stored under ``k``, or None."""
        path = self._path(k)
        if path is None:
            return None
        try:
            return json.loads(path.read_bytes())
        except (OSError, ValueError):
            return None

    def put(self, k: str, value: Any) -> None:
        """Store ``value`` under ``k``; a cache that cannot be written is silently skipped."""
        path = self._path(k)
        if path is None:
            return
        tmp = ""
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
            with os.fdopen(fd, "w") as fh:
                json.dump(value, fh)
            os.replace(tmp, path)
        except OSError:
            if tmp:
                Path(tmp).unlink(missing_ok=True)
