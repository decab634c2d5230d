"""The shared cache directory, guarded by file locks so parallel workers fill each entry once.

Layout (each entry a directory named by what it depends on)::

    <cache>/images/<recipe-hash>/     rootfs tarballs and image build logs
    <cache>/cargo-home/               crates fetched once, then mounted read-only
    <cache>/bazel/{repository,disk}/  Bazel's repository and disk caches
    <cache>/builds/<key>/             build outputs, reused within and across sessions
    <cache>/locks/<name>.lock         one lock file per entry

``ensure(name, fill)`` is the one pattern: take the entry's lock, and fill it only when its
``.complete`` marker is missing, so a killed fill is redone rather than trusted.
"""

from __future__ import annotations

import errno
import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock

from .errors import CacheError

ENV_VAR = "PYTEST_RULES_RUST_CACHE"
COMPLETE = ".complete"


def default_cache_dir() -> Path:
    if ENV_VAR in os.environ:
        return Path(os.environ[ENV_VAR]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "pytest-rules-rust"


class Cache:
    """A cache root with locked, fill-once entries."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = (root or default_cache_dir()).resolve()

    def check_writable(self) -> None:
        try:
            (self.root / "locks").mkdir(parents=True, exist_ok=True)
            probe = self.root / "locks" / f".probe-{os.getpid()}"
            probe.write_text("ok")
            probe.unlink()
        except OSError as exc:
            reason = "the disk is full" if exc.errno == errno.ENOSPC else exc.strerror or str(exc)
            raise CacheError(
                f"cache directory {self.root} is not usable: {reason}",
                hint=f"point --rr-cache-dir (or ${ENV_VAR}) at a writable directory with free space",
            ) from exc

    def path(self, *parts: str) -> Path:
        return self.root.joinpath(*parts)

    @contextmanager
    def lock(self, name: str, timeout: float = -1) -> Iterator[None]:
        """Hold the named lock (blocking by default) across processes and xdist workers."""
        self.check_writable()
        safe = name.replace("/", "_")
        with FileLock(str(self.root / "locks" / f"{safe}.lock"), timeout=timeout):
            yield

    def ensure(self, name: str, fill: Callable[[Path], None]) -> Path:
        """Return the entry directory ``name``, calling ``fill(tmpdir)`` once if it is not complete.

        The fill writes into a fresh temporary directory that is renamed into place, so a
        reader never sees half an entry and an interrupted fill leaves no trusted leftovers.
        """
        entry = self.path(*name.split("/"))
        if (entry / COMPLETE).exists():
            return entry
        with self.lock(name):
            if (entry / COMPLETE).exists():
                return entry
            staging = entry.with_name(f".{entry.name}.partial-{os.getpid()}")
            shutil.rmtree(staging, ignore_errors=True)
            staging.mkdir(parents=True)
            try:
                fill(staging)
                (staging / COMPLETE).write_text("")
                shutil.rmtree(entry, ignore_errors=True)
                staging.rename(entry)
            except OSError as exc:
                shutil.rmtree(staging, ignore_errors=True)
                if exc.errno in (errno.ENOSPC, errno.EDQUOT):
                    raise CacheError(
                        f"filling cache entry {name} in {self.root} failed: the disk is full",
                        hint=f"free space there, or point --rr-cache-dir (or ${ENV_VAR}) at a disk with room",
                    ) from exc
                raise
            except BaseException:
                shutil.rmtree(staging, ignore_errors=True)
                raise
        return entry

    def is_complete(self, name: str) -> bool:
        return (self.path(*name.split("/")) / COMPLETE).exists()
