"""Peak memory of ``inspect-image`` on large and hostile layouts (target: < 100 MB whatever the input).

Builds, in a temporary directory, a layout with a 1 GiB uncompressed layer, a gzip bomb (about
1 MiB that unpacks to 1 GiB), and a deeply nested index.json; runs the real CLI on each in a
subprocess and prints its exit code, wall time and peak resident memory (``wait4``'s ru_maxrss).

    .venv/bin/python benchmarks/inspect_memory.py [--size-mib 1024]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from oci_hostile_helpers import GZIP_LAYER, MiB, one_file_tar, write_layout, zero_bomb


def measure(argv: list[str]) -> tuple[int, float, float, str]:
    """Exit code, seconds, peak RSS in MB and the last stderr line of one CLI run."""
    start = time.monotonic()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    assert proc.stderr is not None
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    last = (err.strip().splitlines() or [""])[-1]
    return proc.returncode, time.monotonic() - start, usage.ru_maxrss / 1024, last


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mib", type=int, default=1024, help="unpacked size of the big layers")
    size = parser.parse_args().size_mib * MiB
    cli = [sys.executable, "-m", "pytest_rules_rust", "inspect-image"]
    with tempfile.TemporaryDirectory(prefix="rr-inspect-mem-") as tmp:
        root = Path(tmp)

        def big_layer(path: Path) -> None:
            write_layout(path, one_file_tar("big", size, b"x"))

        def bomb(path: Path) -> None:
            data, diff_id = zero_bomb(size)
            write_layout(path, data, media_type=GZIP_LAYER, diff_id=diff_id)

        def deep_index(path: Path) -> None:
            write_layout(path, b"\0" * 1024)
            depth = 1_000_000
            (path / "index.json").write_text('{"manifests": ' + "[" * depth + "]" * depth + "}")

        cases: list[tuple[str, Callable[[Path], None], list[str]]] = [
            (f"{size // MiB} MiB uncompressed layer", big_layer, []),
            (f"gzip bomb ({size // MiB} MiB unpacked), default limits", bomb, []),
            (f"gzip bomb ({size // MiB} MiB unpacked), --max-ratio 5000", bomb, ["--max-ratio", "5000"]),
            ("index.json nested 1,000,000 deep", deep_index, []),
        ]
        print(f"{'input':52} {'exit':>4} {'seconds':>8} {'peak MB':>8}  last stderr line")
        worst = 0.0
        for name, make, extra in cases:
            layout = root / name.split()[0].replace(",", "")
            if not layout.exists():
                make(layout)
            blob_bytes = sum(f.stat().st_size for f in (layout / "blobs" / "sha256").iterdir())
            rc, seconds, peak, last = measure([*cli, str(layout), *extra])
            worst = max(worst, peak)
            print(
                f"{name:52} {rc:>4} {seconds:8.1f} {peak:8.1f}  "
                f"(blobs {blob_bytes / MiB:.1f} MiB) {last[-100:]}"
            )
        print(f"worst peak: {worst:.1f} MB (target < 100 MB)")
    return 0 if worst < 100 else 1


if __name__ == "__main__":
    raise SystemExit(main())
