"""Futex calls per allocation, counted by ``strace -f -c -e trace=futex`` on one extra run per cell.

Threads that wait for a lock held by another end up in ``futex(FUTEX_WAIT)``; musl's allocator,
which serialises on one lock, makes thousands of such calls where a thread-caching allocator makes
a handful (the leptosfmt report: 7.0 million against 221). The kernel keeps no per-process futex
count; the ways to get one are a syscall tracepoint (``perf trace``/``perf stat -e
syscalls:sys_enter_futex``, which needs root or ``kernel.perf_event_paranoid`` ≤ -1) or ptrace.
``strace`` uses ptrace, which any user may use on their own children, so that is what is used.

ptrace stops the program at every syscall, which changes its timing, so the traced run is an
extra one, never a timed round, with fewer allocations (``futex_ops_divisor``). Its count is the
order of magnitude of the contention, not a figure to compare to the last digit. Under qemu-user
the count is the emulator's host calls (guest futexes plus qemu's own locking).

>>> parse_summary('''% time     seconds  usecs/call     calls    errors syscall
... ------ ----------- ----------- --------- --------- ----------------
... 100.00    0.041738          12      3355       448 futex
... ------ ----------- ----------- --------- --------- ----------------
... 100.00    0.041738          12      3355       448 total''')
(3355, 448)
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ..errors import BenchError
from .accounting import run_accounted

TOOL = "strace -f -c -e trace=futex"


@dataclass(frozen=True)
class FutexCount:
    """futex system calls (and how many returned an error, e.g. EAGAIN) in a traced run of ``ops``."""

    calls: int
    errors: int
    ops: int

    @property
    def per_op(self) -> float:
        return self.calls / self.ops if self.ops else 0.0

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "per_op": self.per_op}

    @classmethod
    def from_json(cls, data: object) -> FutexCount | None:
        if not isinstance(data, dict):
            return None
        return cls(int(data["calls"]), int(data["errors"]), int(data["ops"]))


def unavailable() -> str:
    """Why futex calls cannot be counted here ("" when they can)."""
    if shutil.which("strace") is None:
        return "strace is not installed (`apt-get install strace`); the kernel keeps no futex count"
    return ""


def parse_summary(text: str) -> tuple[int, int]:
    """(calls, errors) of the ``futex`` row of strace's ``-c`` table.

    No row means no call, and so does no table at all: strace prints none when nothing traced ran.
    """
    for line in text.splitlines():
        fields = line.split()
        if len(fields) >= 5 and fields[-1] == "futex":
            errors = int(fields[4]) if len(fields) >= 6 else 0
            return int(fields[3]), errors
    if text.strip() and "syscall" not in text:
        raise BenchError(f"strace printed no summary table: {text.strip()[-300:]!r}")
    return 0, 0


def count_futex(cmd: Sequence[str], ops: int, timeout_s: float) -> FutexCount:
    """Run ``cmd`` once under strace and count its futex calls (all threads, all descendants)."""
    with tempfile.TemporaryDirectory(prefix="rr-futex-") as tmp:
        summary = Path(tmp) / "summary.txt"
        done = run_accounted(
            ["strace", "-f", "-c", "-e", "trace=futex", "-o", str(summary), "--", *cmd], timeout_s
        )
        if done.returncode != 0:
            raise BenchError(
                f"{TOOL} exited with {done.returncode}: {' '.join(cmd)}\n{done.stderr.strip()[-600:]}",
                hint="strace needs ptrace; in a container, run it with ptrace allowed, or pass --no-futex",
            )
        calls, errors = parse_summary(summary.read_text(errors="replace"))
    return FutexCount(calls, errors, ops)
