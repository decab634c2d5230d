"""Helpers for tests/test_workspace_programs.py: run a workspace's cargo side on the host, offline.

Crates come from ``pytest_rules_rust.builders.crates.vendor_crates`` (fetched once per Cargo.lock into the
cache). Builds go to cargo target directories under the cache, one per workspace and feature set
(``group``), so a warm run rebuilds only the workspace's own crates.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from pytest_rules_rust.builders.crates import cargo_offline_args, vendor_crates
from pytest_rules_rust.cache import Cache

CARGO_SKIP = "cargo is not on PATH: run scripts/provision.sh (installs rustc-web/cargo-web)"
PROTOC_SKIP = "protoc is not on PATH: run scripts/provision.sh (apt-get install protobuf-compiler)"
MAKE_SKIP = "make is not on PATH (jemalloc's build runs configure/make): apt-get install make"
CARGO_TIMEOUT_S = 1800.0


@dataclass(frozen=True)
class CargoRun:
    """One finished cargo command: its exit code and the log holding its output."""

    command: tuple[str, ...]
    rc: int
    log: Path

    def tail(self, lines: int = 60) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


def require_tools(*tools: str) -> None:
    """Skip the calling test, saying what to install, when a tool is missing."""
    reasons = {"cargo": CARGO_SKIP, "protoc": PROTOC_SKIP, "make": MAKE_SKIP}
    for tool in tools:
        if shutil.which(tool) is None:
            pytest.skip(reasons.get(tool, f"{tool} is not on PATH"))


def shared_target_dir(cache: Cache, group: str) -> Path:
    """The cargo target directory of ``group`` (cargo's own lock guards concurrent builds)."""
    path = cache.path("cargo-target", "workspace-programs", group)
    path.mkdir(parents=True, exist_ok=True)
    return path


def cargo(
    workspace: Path,
    args: list[str],
    cache: Cache,
    log: Path,
    *,
    group: str = "default",
    timeout_s: float = CARGO_TIMEOUT_S,
) -> CargoRun:
    """Run ``cargo ARGS`` for ``workspace`` offline against its vendored crates, output to ``log``."""
    vendor = vendor_crates(workspace, cache)
    nice = ["nice", "-n", "10"] if shutil.which("nice") else []
    command = [
        *nice,
        os.environ.get("CARGO") or "cargo",
        *args,
        "--locked",
        "--offline",
        *cargo_offline_args(vendor),
        "--manifest-path",
        str(workspace / "Cargo.toml"),
        "--target-dir",
        str(shared_target_dir(cache, group)),
    ]
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as out:
        proc = subprocess.run(command, cwd=workspace, stdout=out, stderr=subprocess.STDOUT, timeout=timeout_s)
    return CargoRun(tuple(command), proc.returncode, log)


def built_binary(cache: Cache, name: str, group: str = "default") -> Path:
    """Path of a debug binary that ``cargo build`` put into the group's target directory."""
    return shared_target_dir(cache, group) / "debug" / name
