"""Run a built binary natively, or through qemu-user for a foreign architecture, with a timeout.

>>> r = run_binary("out/aarch64/service", ["--version"], timeout_s=10)   # doctest: +SKIP
>>> r.rc, r.via, r.stdout
(0, 'binfmt', 'service 0.1.0\\n')

``qemu`` chooses the route for a foreign binary: ``"auto"`` (binfmt_misc if it works, else a
``qemu-<arch>-static`` on PATH), ``"binfmt"`` (exec the file and let the kernel's binfmt_misc
entry start qemu), or the path of a qemu-user binary to call explicitly. Dynamic aarch64 binaries
find ``/lib/ld-linux-aarch64.so.1`` from the host's multiarch ``libc6:arm64``; we never pass
``-L /usr/aarch64-linux-gnu``: its ld.so mixed with the multiarch libc.so.6 hangs threaded programs.
A binary built for the host's own CPU always runs natively, whatever ``qemu`` says.
"""

from __future__ import annotations

import contextlib
import functools
import os
import platform
import re
import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from .containers import emulation
from .errors import EmulationError, InspectError
from .inspect.elf import inspect_binary
from .outcome import ProcessOutcome

_HOST_MACHINES = {"x86_64": "x86_64", "amd64": "x86_64", "aarch64": "aarch64", "arm64": "aarch64"}


#: Called as ``observer(path, result)`` after every run; the pytest plugin uses it to mark the
#: build whose artifact ran in its matrix summary.
RUN_OBSERVERS: list[Callable[[Path, RunResult], None]] = []


@dataclass(frozen=True)
class RunResult(ProcessOutcome):
    """One finished (or killed) run. ``via`` is ``native``, ``binfmt`` or ``qemu:<path>``.

    >>> RunResult(rc=0, stdout="hi\\n", stderr="", duration_s=0.01, timed_out=False, via="native").succeeded
    True
    """

    rc: int
    stdout: str
    stderr: str
    duration_s: float
    timed_out: bool
    via: str
    command: tuple[str, ...] = ()

    def describe(self) -> str:
        """Multi-line account for failure messages: command, route, exit, output tails."""
        state = f"timed out after {self.duration_s:.1f}s" if self.timed_out else f"exit code {self.rc}"
        lines = [f"command: {' '.join(self.command)}", f"via: {self.via}, {state}, {self.duration_s:.2f}s"]
        for name, text in (("stdout", self.stdout), ("stderr", self.stderr)):
            tail = text[-2000:]
            lines.append(f"{name}: {tail!r}" if tail else f"{name}: (empty)")
        return "\n".join(lines)


def host_machine() -> str:
    """The host CPU in ELF words (``x86_64`` or ``aarch64``)."""
    m = platform.machine().lower()
    return _HOST_MACHINES.get(m, m)


def run_binary(
    path: str | os.PathLike[str],
    args: Sequence[str] = (),
    *,
    timeout_s: float = 30.0,
    stdin: str | None = None,
    qemu: str = "auto",
    env: dict[str, str] | None = None,
    cwd: str | os.PathLike[str] | None = None,
) -> RunResult:
    """Run ``path args…`` and capture everything; a timeout kills the whole process group.

    Raises ``InspectError`` for a file that is not a runnable ELF and ``EmulationError`` (with the
    fix) when a foreign binary has no route to qemu.
    """
    p = Path(path).absolute()
    info = inspect_binary(p)
    if info.elf_type not in ("EXEC", "DYN"):
        raise InspectError(f"{p}: an ELF {info.elf_type} file is not runnable")
    prefix, via = _route(p, info.machine, qemu)
    if prefix == [] and not os.access(p, os.X_OK):
        raise InspectError(f"{p}: not executable", hint=f"chmod +x {p}")
    command = (*prefix, str(p), *args)
    start = time.monotonic()
    proc = subprocess.Popen(
        command,
        stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        errors="replace",
        env=env,
        cwd=cwd,
        start_new_session=True,  # its own process group, so a timeout also kills children
    )
    timed_out = False
    try:
        out, err = proc.communicate(stdin, timeout=timeout_s)
    except subprocess.TimeoutExpired:
        timed_out = True
        _kill_group(proc)
        out, err = proc.communicate()
    except BaseException:
        _kill_group(proc)
        proc.wait()
        raise
    duration = time.monotonic() - start
    result = RunResult(proc.returncode, out, err, duration, timed_out, via, command)
    for observer in RUN_OBSERVERS:
        observer(p, result)
    return result


def _kill_group(proc: subprocess.Popen[str]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)


def _route(path: Path, machine: str, qemu: str) -> tuple[list[str], str]:
    host = host_machine()
    if machine == host:
        return [], "native"
    if qemu not in ("auto", "binfmt"):
        exe = shutil.which(qemu) or (qemu if Path(qemu).is_file() else None)
        if exe is None:
            raise EmulationError(
                f"qemu={qemu!r}: no such program",
                hint="install qemu-user-static (apt-get install -y qemu-user-static) or pass qemu='binfmt'",
            )
        return [exe], f"qemu:{exe}"
    if qemu == "binfmt":
        _require_binfmt(machine)
        return [], "binfmt"
    if binfmt_works(machine):
        return [], "binfmt"
    exe = shutil.which(f"qemu-{machine}-static") or shutil.which(f"qemu-{machine}")
    if exe:
        return [exe], f"qemu:{exe}"
    _require_binfmt(machine)  # raises with the fix
    raise AssertionError("unreachable")  # pragma: no cover


@functools.cache
def binfmt_works(machine: str) -> bool:
    """True when the kernel runs ``machine`` programs through binfmt_misc (checked once per process)."""
    try:
        _require_binfmt(machine)
    except EmulationError:
        return False
    return True


def _require_binfmt(machine: str) -> None:
    status = emulation.emulation_status(machine)
    # The F flag matters inside containers only; a host run needs a registered, enabled, working entry.
    if not (status.registered and status.enabled and status.works):
        raise EmulationError(
            f"cannot run {machine} binaries through binfmt_misc qemu-{machine}: "
            f"{status.detail or 'not working'}",
            hint=f"as root run: {status.fix or emulation.fix_commands(machine)}",
        )


def assert_runs(
    path: str | os.PathLike[str],
    args: Sequence[str] = (),
    *,
    expect_rc: int | None = 0,
    expect_stdout: str | None = None,
    expect_stdout_contains: str | None = None,
    expect_stdout_matches: str | None = None,
    expect_stderr_contains: str | None = None,
    stdin: str | None = None,
    timeout_s: float = 30.0,
    qemu: str = "auto",
    env: dict[str, str] | None = None,
) -> RunResult:
    """Run the binary (natively or through qemu) and assert its exit code and output.

    ``expect_stdout`` is compared exactly; ``*_contains`` are substrings; ``expect_stdout_matches``
    is a regular expression searched in stdout. A timeout always fails. Returns the ``RunResult``.
    """
    __tracebackhide__ = True
    result = run_binary(path, args, timeout_s=timeout_s, stdin=stdin, qemu=qemu, env=env)
    problems: list[str] = []
    if result.timed_out:
        problems.append(
            f"  finished: Expected: within {timeout_s}s, Actual: killed after {result.duration_s:.1f}s"
        )
    if expect_rc is not None and result.rc != expect_rc and not result.timed_out:
        problems.append(f"  exit code: Expected: {expect_rc}, Actual: {result.rc}")
    if expect_stdout is not None and result.stdout != expect_stdout:
        problems.append(f"  stdout: Expected: {expect_stdout!r}, Actual: {result.stdout[-2000:]!r}")
    if expect_stdout_contains is not None and expect_stdout_contains not in result.stdout:
        problems.append(f"  stdout contains: Expected: {expect_stdout_contains!r}, Actual: not found")
    if expect_stdout_matches is not None and not re.search(expect_stdout_matches, result.stdout):
        problems.append(f"  stdout matches: Expected: /{expect_stdout_matches}/, Actual: no match")
    if expect_stderr_contains is not None and expect_stderr_contains not in result.stderr:
        problems.append(f"  stderr contains: Expected: {expect_stderr_contains!r}, Actual: not found")
    if problems:
        head = f"running {Path(path)}: {len(problems)} expectation(s) failed"
        raise AssertionError(
            "\n".join([head, *problems, *("  " + x for x in result.describe().splitlines())])
        )
    return result
