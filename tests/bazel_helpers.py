"""The stand-in Bazel as a self-contained ELF executable, built with a real C compiler."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"
RECORDING = DATA / "bep" / "bazel-7.1.2-test-go.excerpt.jsonl"
PACKAGES = {"gcc": "gcc libc6-dev", "aarch64-linux-gnu-gcc": "gcc-aarch64-linux-gnu"}


def _c_bytes(name: str, data: bytes) -> str:
    body = ",".join(str(b) for b in data + b"\0")
    return f"static const char {name}[] = {{{body}}};\n"


def stand_in_bazel_elf(cc: str, out: Path) -> Path:
    """Compile tests/data/fake_bazel/launcher.c with ``cc -static`` into ``out``, the stand-in
    script and the recorded stream embedded; skips naming the Debian package when ``cc`` is missing."""
    if shutil.which(cc) is None:
        pytest.skip(f"the stand-in Bazel ELF needs {cc}: apt-get install {PACKAGES.get(cc, cc)}")
    work = out.parent / f"{out.name}.src"
    work.mkdir(parents=True, exist_ok=True)
    (work / "payload.h").write_text(
        _c_bytes("SCRIPT", (DATA / "fake_bazel" / "bazel").read_bytes())
        + _c_bytes("RECORDING", RECORDING.read_bytes())
    )
    source = DATA / "fake_bazel" / "launcher.c"
    subprocess.run(
        [cc, "-static", "-O1", "-I", str(work), "-o", str(out), str(source)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    return out
