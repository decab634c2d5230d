"""Crates fetched once per ``Cargo.lock`` and used offline afterwards.

``vendor_crates()`` is the only step of the harness that reaches crates.io: it runs
``cargo vendor --locked --versioned-dirs`` into a cache entry keyed by the lockfile's sha256, under
the cache's file lock, so parallel workers vendor each lockfile once. ``cargo_offline_args()`` gives
the ``--config`` arguments that make any later cargo command use that directory and nothing else
(on the host, or inside a container where it is mounted read-only).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from pathlib import Path

from ..cache import Cache
from ..errors import BuildError, WorkspaceError
from ..workspace_params import toml_literal

VENDOR_SOURCE = "rr-vendored"
_TIMEOUT_S = 900.0


def lockfile_key(workspace_root: Path) -> str:
    """``crates/<sha256 of Cargo.lock>``: the cache entry name for a workspace's crates."""
    lock = workspace_root / "Cargo.lock"
    if not lock.is_file():
        raise WorkspaceError(
            f"{lock} does not exist",
            hint="commit a Cargo.lock next to Cargo.toml (cargo generate-lockfile) so builds are --locked",
        )
    return "crates/" + hashlib.sha256(lock.read_bytes()).hexdigest()


def _cargo() -> str:
    found = os.environ.get("CARGO") or shutil.which("cargo")
    if not found:
        raise BuildError("cargo is not on PATH", hint="install cargo (Debian: apt-get install cargo-web)")
    return found


def vendor_crates(workspace_root: Path, cache: Cache) -> Path:
    """The vendored crates of ``workspace_root``'s Cargo.lock, fetched on first use (network needed once)."""
    workspace_root = workspace_root.resolve()
    key = lockfile_key(workspace_root)

    def fill(staging: Path) -> None:
        log = staging / "vendor.log"
        command = [
            _cargo(),
            "vendor",
            "--locked",
            "--versioned-dirs",
            "--manifest-path",
            str(workspace_root / "Cargo.toml"),
            str(staging / "vendor"),
        ]
        with log.open("wb") as out:
            try:
                proc = subprocess.run(
                    command, cwd=workspace_root, stdout=out, stderr=subprocess.STDOUT, timeout=_TIMEOUT_S
                )
            except subprocess.TimeoutExpired as exc:
                raise BuildError(
                    f"cargo vendor timed out after {_TIMEOUT_S:.0f} s for {workspace_root}"
                ) from exc
        if proc.returncode != 0:
            kept = cache.path("logs", f"vendor-{key.split('/')[-1][:16]}.log")
            kept.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(log, kept)
            tail = "\n".join(log.read_text(errors="replace").splitlines()[-15:])
            raise BuildError(
                f"cargo vendor failed for {workspace_root / 'Cargo.lock'} (exit {proc.returncode}):\n{tail}",
                hint="crates.io must be reachable once per Cargo.lock; with --locked the lockfile must match "
                "Cargo.toml (run cargo generate-lockfile)",
                paths={"log": kept},
            )
        (staging / "vendor").mkdir(exist_ok=True)  # a workspace without dependencies vendors nothing

    return cache.ensure(key, fill) / "vendor"


def cargo_offline_args(vendor_dir: Path, mount_point: str | None = None) -> list[str]:
    """``--config`` arguments replacing crates-io with ``vendor_dir`` (as seen at ``mount_point`` inside
    a container, when given) and forcing offline mode.

    >>> cargo_offline_args(Path("/c/vendor"))[:2]
    ['--config', 'source.crates-io.replace-with="rr-vendored"']
    """
    directory = mount_point if mount_point is not None else str(vendor_dir.resolve())
    return [
        "--config",
        f"source.crates-io.replace-with={toml_literal(VENDOR_SOURCE)}",
        "--config",
        f"source.{VENDOR_SOURCE}.directory={toml_literal(directory)}",
        "--config",
        "net.offline=true",
    ]
