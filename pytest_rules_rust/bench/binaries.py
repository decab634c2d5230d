"""Benchmark binaries for a target: the Rust program through the harness's builder, the C twin.

``binaries_for(target, impls, allocators, cache, work_dir)`` is the one entry point the CLI and the
fixture use. The Rust program is ``fixture_workspaces/alloc_bench`` built in release mode with the
allocator's cargo feature (none for ``system``).
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ..builders import build
from ..builders.base import BuildRequest
from ..cache import Cache
from ..errors import BenchError
from ..platforms import Platform, triple_libc
from ..progress import Progress
from ..workspaces import materialise
from .ctwin import TARGETS as C_TARGETS
from .ctwin import Where, build_c_twin
from .runner import ALLOCATORS, BenchBinary

IMPLS = ("rust", "c")
WORKSPACE = "alloc_bench"


def rust_binaries(
    target: str,
    allocators: Sequence[str],
    cache: Cache,
    work_dir: Path,
    *,
    progress: Progress = print,
    build_options: Mapping[str, Any] | None = None,
) -> tuple[BenchBinary, ...]:
    """Build the Rust benchmark once per allocator for ``target`` (release) and return the binaries.

    ``build_options`` go to the cargo builder (the plugin passes its engine and images).
    """

    platform = Platform.parse(target)
    libc = triple_libc(target)
    ws_dir = work_dir / "workspace" / WORKSPACE
    if ws_dir.exists():
        shutil.rmtree(ws_dir)
    workspace = materialise(WORKSPACE, ws_dir)
    out: list[BenchBinary] = []
    for allocator in allocators:
        features: tuple[str, ...] = () if allocator == "system" else ("--features", allocator)
        request = BuildRequest(
            workspace=workspace,
            target=platform,
            libc=libc,
            profile="release",
            targets=(WORKSPACE,),
            extra_args=features,
        )
        progress(f"building the Rust benchmark for {target} with allocator {allocator} (release)")
        build_dir = work_dir / "build" / f"{target}-{allocator}"
        result = build(request, build_dir, cache=cache, **dict(build_options or {}))
        artifact = result.artifact(WORKSPACE, kind="binary")
        dest = work_dir / "bin" / f"alloc_bench-rust-{target}-{allocator}"
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(artifact.path, dest)
        out.append(BenchBinary("rust", target, allocator, dest))
    return tuple(out)


def binaries_for(
    target: str,
    impls: Sequence[str],
    allocators: Sequence[str],
    cache: Cache,
    work_dir: Path,
    *,
    where: Where = "auto",
    progress: Progress = print,
    build_options: Mapping[str, Any] | None = None,
) -> tuple[BenchBinary, ...]:
    """All binaries to measure for ``target``: Rust and/or the C twin, one per allocator."""
    bad = [a for a in allocators if a not in ALLOCATORS]
    if bad:
        raise BenchError(f"unknown allocator {bad[0]!r}", hint=f"choose from {', '.join(ALLOCATORS)}")
    bad = [i for i in impls if i not in IMPLS]
    if bad:
        raise BenchError(f"unknown implementation {bad[0]!r}", hint="choose from rust, c")
    binaries: list[BenchBinary] = []
    if "rust" in impls:
        binaries += rust_binaries(
            target, allocators, cache, work_dir, progress=progress, build_options=build_options
        )
    if "c" in impls:
        if target not in C_TARGETS:
            raise BenchError(
                f"the C twin is built for musl targets only, not {target}",
                hint=f"use --impl rust for {target}, or a target among {', '.join(C_TARGETS)}",
            )
        binaries += build_c_twin(target, cache, where=where, allocators=tuple(allocators), progress=progress)
    return tuple(binaries)
