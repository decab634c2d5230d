"""The kernel's accounting of one benchmark run: context switches and faults from ``wait4``.

A program whose threads queue on a lock sleeps in ``futex`` and is woken again: every such sleep
is a *voluntary* context switch, so ``ru_nvcsw`` counts the contention. A program preempted
because its time slice ran out (or a neighbour needed the core) counts *involuntary* switches
(``ru_nivcsw``). The voluntary count moves far less than wall time with a neighbour's load
(within a few % between sessions for a thread-caching allocator on the project's busy 2-core VM);
a lock-based allocator's count still depends on how many of its threads get a core at once.

The counts come from ``wait4`` on the child, which covers the child and every descendant it
waited for. The child is a forking ``/bin/sh`` (see ``spawn_command``): its own share is the one
fork-and-wait, a handful of switches beside the thousands a contended run makes.

>>> usage = Accounting.from_rusage(os.wait4(os.spawnv(os.P_NOWAIT, "/bin/true", ["true"]), 0)[2])
>>> usage.voluntary_csw >= 0 and usage.involuntary_csw >= 0
True
"""

from __future__ import annotations

import contextlib
import os
import resource
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import IO

from ..errors import BenchError
from .noise import Clock


@dataclass(frozen=True)
class Accounting:
    """What the kernel counted for a finished child (and its waited-for descendants)."""

    voluntary_csw: int  # ru_nvcsw: the child gave up the CPU (blocked on a futex, I/O, sleep)
    involuntary_csw: int  # ru_nivcsw: the child was preempted
    minor_faults: int  # ru_minflt: pages touched for the first time (allocator memory growth)
    user_s: float  # ru_utime, the whole process lifetime (the program's own figure covers its timed part)
    sys_s: float  # ru_stime

    @classmethod
    def from_rusage(cls, usage: resource.struct_rusage) -> Accounting:
        return cls(
            voluntary_csw=int(usage.ru_nvcsw),
            involuntary_csw=int(usage.ru_nivcsw),
            minor_faults=int(usage.ru_minflt),
            user_s=float(usage.ru_utime),
            sys_s=float(usage.ru_stime),
        )


@dataclass(frozen=True)
class Finished:
    """A child that ran to its end: exit code, output, the kernel's accounting, wall seconds."""

    returncode: int
    stdout: str
    stderr: str
    accounting: Accounting
    wall_s: float


def spawn_command(cmd: Sequence[str]) -> list[str]:
    """``cmd`` run by a forked child of ``/bin/sh``, not exec'd straight from Python.

    Linux carries the pre-exec peak RSS into ``ru_maxrss`` across execve, so a benchmark exec'd
    from this Python process would report Python's footprint (tens of MiB) as its own peak. A
    shell that forks first (the trailing ``exit`` stops it from exec'ing the last command) hands
    the program a fresh accounting: the figure is then the program's, as ``/usr/bin/time`` gives.
    """
    return ["/bin/sh", "-c", '"$@"; exit $?', "alloc_bench", *cmd]


def run_accounted(cmd: Sequence[str], timeout_s: float, *, clock: Clock = time.perf_counter) -> Finished:
    """Run ``cmd`` to its end, reap it with ``wait4`` and return its output and accounting.

    The child gets its own process group, so a timeout or Ctrl-C ends the shell and the program it
    started together. Output goes to temporary files (no pipe can fill up while we wait).
    """
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = clock()
        proc = subprocess.Popen(list(cmd), stdout=out, stderr=err, start_new_session=True)
        expired = threading.Event()

        def expire() -> None:
            expired.set()
            _kill_group(proc.pid)

        timer = threading.Timer(timeout_s, expire)
        timer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        except BaseException:
            _kill_group(proc.pid)
            proc.wait()
            raise
        finally:
            timer.cancel()
        wall = clock() - start
        proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here: Popen must not wait again
        if expired.is_set():
            raise BenchError(
                f"benchmark run exceeded {timeout_s:.0f} s: {' '.join(cmd)}",
                hint="lower --ops (or the threads) for this target, or raise the timeout",
            )
        return Finished(proc.returncode, _read(out), _read(err), Accounting.from_rusage(usage), wall)


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)


def _read(fh: IO[bytes]) -> str:
    fh.seek(0)
    return fh.read().decode(errors="replace")
