"""Cargo builder figures: cross vs native cost, emulated host vs cross, warm-run overhead vs raw docker+cargo.

Prints three figures (and writes them as JSON with ``--json FILE``):

1. ``cross_ratio``: (aarch64 cross build + one qemu run of the binary) / (amd64 build) for the same
   workspace, both cold in a fresh target cache. Goal <= 1.3.
2. ``emulated_ratio``: aarch64 built natively in the arm64 image under qemu / aarch64 cross-built in
   the amd64 image, both cold. Expect about 13x.
3. ``warm_overhead``: a warm ``builders.build()`` (preflight, hashing, locking, container, copying)
   against the raw tool: ``docker run`` of the same image, mounts and cargo command, which cargo
   finds up to date. Medians of ``--repeats`` runs. Goal <= 10 %.

Usage: ``.venv/bin/python benchmarks/build_overhead.py [--workspace cross] [--repeats 5] [--skip-emulated]``
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from pytest_rules_rust.builders import build, clear_session_cache
from pytest_rules_rust.builders.base import BuildRequest
from pytest_rules_rust.builders.cargo import (
    TARGET_MOUNT,
    VENDOR_MOUNT,
    CargoBuilder,
    CargoPlan,
    _binaries_for,
    plan_build,
    read_manifest,
)
from pytest_rules_rust.builders.cargo_script import SCRIPT
from pytest_rules_rust.builders.crates import vendor_crates
from pytest_rules_rust.cache import Cache
from pytest_rules_rust.execution import run_binary
from pytest_rules_rust.platforms import AMD64, ARM64, Platform
from pytest_rules_rust.workspaces import Workspace, materialise


def _cold(
    ws: Workspace, target: Platform, host: Platform, scratch: Path, images: Cache
) -> tuple[float, Path]:
    """Build in a fresh cache root (crates re-vendored outside the timing); return seconds and binary."""
    cache = Cache(scratch / f"cache-{target.arch}-{host.arch}")
    vendor_crates(ws.root, cache)
    builder = CargoBuilder(cache, image=CargoBuilder(images).image_for(host))
    start = time.monotonic()
    result = builder.build(
        BuildRequest(workspace=ws, target=target, host=host), scratch / f"out-{target.arch}"
    )
    elapsed = time.monotonic() - start
    return elapsed, result.artifacts[0].path


def _plan(ws: Workspace, target: Platform) -> CargoPlan:
    request = BuildRequest(workspace=ws, target=target)
    return plan_build(request, _binaries_for(request, read_manifest(ws.root)), ())


def _raw_docker(ws: Workspace, cache: Cache, image: str) -> float:
    """The raw tool: ``docker run`` with the same mounts, environment and cargo command."""
    request = BuildRequest(workspace=ws, target=AMD64)
    builder = CargoBuilder(cache)
    plan = _plan(ws, AMD64)
    paths = builder.paths(request, plan, Path(tempfile.mkdtemp()))
    (paths.target_dir / ".rr").mkdir(parents=True, exist_ok=True)
    (paths.target_dir / ".rr" / "rr-cargo.sh").write_text(SCRIPT)
    cmd = ["docker", "run", "--rm", "--network", "none", "--user", f"{os.getuid()}:{os.getgid()}"]
    cmd += ["-v", f"{paths.workspace}:{paths.workspace_mount}", "-v", f"{paths.vendor}:{VENDOR_MOUNT}:ro"]
    cmd += ["-v", f"{paths.target_dir}:{TARGET_MOUNT}", "-w", paths.workspace_mount]
    for key, value in plan.env.items():
        cmd += ["-e", f"{key}={value}"]
    start = time.monotonic()
    subprocess.run([*cmd, image, *plan.command], check=True, capture_output=True)
    return time.monotonic() - start


def _cold_figures(ws: Workspace, scratch: Path, images: Cache, *, skip_emulated: bool) -> dict[str, float]:
    """Figures 1 and 2: cold builds in fresh target caches."""
    amd64_s, _ = _cold(ws, AMD64, AMD64, scratch, images)
    arm64_s, binary = _cold(ws, ARM64, AMD64, scratch, images)
    run = run_binary(binary, timeout_s=120)
    figures = {"amd64_build_s": amd64_s, "arm64_cross_build_s": arm64_s, "arm64_qemu_run_s": run.duration_s}
    figures["cross_ratio"] = (arm64_s + run.duration_s) / amd64_s
    print(
        f"amd64 build {amd64_s:.1f} s; aarch64 cross build {arm64_s:.1f} s + qemu run {run.duration_s:.2f} s"
    )
    print(f"cross_ratio = {figures['cross_ratio']:.2f} (goal <= 1.3)")
    if not skip_emulated:
        emu_s, _ = _cold(ws, ARM64, ARM64, scratch, images)
        figures.update(arm64_emulated_build_s=emu_s, emulated_ratio=emu_s / arm64_s)
        print(f"emulated arm64 host {emu_s:.1f} s vs cross {arm64_s:.1f} s: {emu_s / arm64_s:.1f}x")
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workspace", default="cross")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--skip-emulated", action="store_true")
    parser.add_argument("--warm-only", action="store_true", help="only the warm-run overhead (figure 3)")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    images = Cache()
    scratch = Path(tempfile.mkdtemp(prefix="rr-bench-build-"))
    figures: dict[str, float] = {}
    try:
        ws = materialise(args.workspace, scratch / "ws")
        if args.warm_only:
            _cold(ws, AMD64, AMD64, scratch, images)  # fills the target cache; not a figure here
        else:
            figures.update(_cold_figures(ws, scratch, images, skip_emulated=args.skip_emulated))
        warm_cache = Cache(scratch / "cache-amd64-amd64")
        image = CargoBuilder(images).image_for(AMD64)
        ours, raw = [], []
        for i in range(args.repeats):
            clear_session_cache()
            start = time.monotonic()
            build(
                BuildRequest(workspace=ws, target=AMD64), scratch / f"warm{i}", cache=warm_cache, image=image
            )
            ours.append(time.monotonic() - start)
            raw.append(_raw_docker(ws, warm_cache, image))
        o, r = statistics.median(ours), statistics.median(raw)
        figures.update(warm_build_s=o, raw_noop_s=r, warm_overhead=o / r - 1)
        print(f"warm build() {o:.2f} s vs raw docker run + cargo no-op {r:.2f} s (medians of {args.repeats})")
        print(f"warm_overhead = {100 * (o / r - 1):+.1f} % (goal <= 10 %)")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    if args.json:
        args.json.write_text(json.dumps({"schema": 1, "workspace": args.workspace, **figures}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
