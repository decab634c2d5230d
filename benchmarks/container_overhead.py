"""Container start overhead per command: ``true`` on the host vs in a container, printed as figures.

    .venv/bin/python benchmarks/container_overhead.py [--repeats 10] [--json]

Rows: the host's ``true``; the harness runner (``containers.run``: create, start, stream logs,
wait, remove) in the busybox test image and in the builder images (arm64 through qemu) when
present; and the raw ``docker run --rm`` CLI for reference. Figures are wall seconds per command
(min / median / max); the machine is shared, so read medians.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pytest_rules_rust.cache import Cache
from pytest_rules_rust.containers import RunSpec, detect_engine, image_exists, run
from pytest_rules_rust.containers.images import builder_image_ref, busybox_recipe, ensure_image
from pytest_rules_rust.platforms import AMD64, ARM64, Platform


def timed(fn: Callable[[], object], repeats: int) -> list[float]:
    fn()  # warm-up (page cache, image layers)
    out = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    engine = detect_engine()
    bb = ensure_image(busybox_recipe("busybox-test"), Cache(), engine=engine, progress=lambda _m: None)
    logs = Path(tempfile.mkdtemp(prefix="rr-overhead-"))

    def harness(image: str, platform: Platform) -> Callable[[], object]:
        def go() -> None:
            result = run(RunSpec(image, ("true",), platform, workdir="/tmp"), logs / "run.log", engine=engine)
            assert result.succeeded, result.tail()

        return go

    rows: dict[str, list[float]] = {}
    rows["host: true"] = timed(lambda: subprocess.run(["true"], check=True), args.repeats)
    rows["harness run, busybox amd64"] = timed(harness(bb, AMD64), args.repeats)
    for platform in (AMD64, ARM64):
        tag = builder_image_ref(platform)
        if image_exists(engine, tag, platform):
            rows[f"harness run, builder {platform.arch}"] = timed(harness(tag, platform), args.repeats)
        else:
            print(
                f"(skipped builder {platform.arch}: {tag} not built; "
                "python -m pytest_rules_rust.containers.images)"
            )
    docker = shutil.which("docker")
    if docker:
        cmd = [docker, "run", "--rm", "--network", "none", bb, "true"]
        rows["docker CLI run --rm, busybox"] = timed(lambda: subprocess.run(cmd, check=True), args.repeats)
    shutil.rmtree(logs, ignore_errors=True)

    host_median = statistics.median(rows["host: true"])
    figures = {
        name: {
            "min_s": round(min(v), 4),
            "median_s": round(statistics.median(v), 4),
            "max_s": round(max(v), 4),
            "overhead_vs_host_s": round(statistics.median(v) - host_median, 4),
        }
        for name, v in rows.items()
    }
    if args.json:
        print(
            json.dumps(
                {"schema": 1, "repeats": args.repeats, "engine": engine.version, "rows": figures}, indent=2
            )
        )
        return 0
    print(f"container start overhead per command (docker {engine.version}, {args.repeats} runs each)")
    print(f"{'command':34} {'min s':>8} {'median s':>9} {'max s':>8} {'overhead s':>11}")
    for name, f in figures.items():
        cells = f"{f['min_s']:8.3f} {f['median_s']:9.3f} {f['max_s']:8.3f} {f['overhead_vs_host_s']:11.3f}"
        print(f"{name:34} {cells}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
