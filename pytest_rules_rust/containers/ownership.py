"""Who owns a labelled container, network or volume, and when its owner is provably gone.

Every resource the harness creates carries the labels of :func:`owner_labels`: the machine
(a hash of ``/etc/machine-id``), the boot (the kernel's random boot id), the pid namespace, the
pid and that process's start time. Together they name one process exactly: a pid is only
compared on the same machine, boot and pid namespace, and the start time tells a reused pid
from the original. The hostname is informative only (CI runners and VMs share generic names).

:func:`judge` turns a resource's labels into a :class:`Verdict`; only ``GONE`` may be removed.
Resources with missing or malformed owner labels are ``UNOWNED``: reported, never removed.
"""

from __future__ import annotations

import enum
import functools
import hashlib
import os
import socket
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

PREFIX = "pytest-rules-rust."
LABEL_SESSION = PREFIX + "session"
LABEL_PID = PREFIX + "pid"
LABEL_PID_START = PREFIX + "pid-start"  # the pid's start time, clock ticks after boot (/proc/PID/stat)
LABEL_MACHINE = PREFIX + "machine"  # sha256 of /etc/machine-id (first 32 hex)
LABEL_BOOT = PREFIX + "boot"  # /proc/sys/kernel/random/boot_id
LABEL_PIDNS = PREFIX + "pidns"  # the pid namespace's inode: pids mean something only inside it
LABEL_HOST = PREFIX + "host"  # the hostname, for people reading `docker ps`; never decides anything

SESSION_ENV = "PYTEST_RULES_RUST_SESSION"
#: One id per session (shared by pytest-xdist workers through the environment).
SESSION_ID = os.environ.get(SESSION_ENV) or uuid.uuid4().hex[:12]


@dataclass(frozen=True)
class Owner:
    """One process, named so that no other process on any machine has the same name."""

    machine: str
    boot: str
    pidns: str
    pid: int
    started: int

    def labels(self) -> dict[str, str]:
        return {
            LABEL_MACHINE: self.machine,
            LABEL_BOOT: self.boot,
            LABEL_PIDNS: self.pidns,
            LABEL_PID: str(self.pid),
            LABEL_PID_START: str(self.started),
        }


def _read(path: str) -> str:
    try:
        return Path(path).read_text().strip()
    except OSError:
        return ""


@functools.cache
def boot_id() -> str:
    return _read("/proc/sys/kernel/random/boot_id") or f"no-boot-id-{uuid.uuid4().hex}"


@functools.cache
def machine() -> str:
    """A hash of the machine id; without one, this boot stands in for the machine."""
    ident = _read("/etc/machine-id") or _read("/var/lib/dbus/machine-id") or f"boot:{boot_id()}"
    return hashlib.sha256(ident.encode()).hexdigest()[:32]


def pid_namespace(pid: int | str = "self") -> str:
    try:
        return os.readlink(f"/proc/{pid}/ns/pid").removeprefix("pid:").strip("[]")
    except OSError:
        return "unknown"


def process_start(pid: int | str = "self") -> int | None:
    """The process's start time in clock ticks after boot, or None if it does not exist (here)."""
    stat = _read(f"/proc/{pid}/stat")
    if not stat:
        return None
    fields = stat.rpartition(")")[2].split()  # the command name may hold spaces and parentheses
    try:
        return int(fields[19])  # field 22 of proc(5); fields[0] is field 3
    except (IndexError, ValueError):
        return None


@functools.cache
def _this_process(pid: int) -> Owner:
    return Owner(machine(), boot_id(), pid_namespace(), pid, process_start() or 0)


def this_process() -> Owner:
    """This process as an :class:`Owner` (recomputed after a fork)."""
    return _this_process(os.getpid())


def owner_labels(owner: Owner | None = None) -> dict[str, str]:
    """The labels a new resource carries: its owner, the session, and the hostname for readers."""
    owner = owner or this_process()
    return {LABEL_SESSION: SESSION_ID, **owner.labels(), LABEL_HOST: socket.gethostname()[:63]}


def parse_owner(labels: Mapping[str, str] | None) -> Owner | str:
    """The owner named by ``labels``, or why they do not name one."""
    lab = labels or {}
    missing = [
        k for k in (LABEL_MACHINE, LABEL_BOOT, LABEL_PIDNS, LABEL_PID, LABEL_PID_START) if not lab.get(k)
    ]
    if missing:
        return f"no {', '.join(missing)} label"
    pid_text, start_text = lab[LABEL_PID], lab[LABEL_PID_START]
    if not (pid_text.isdigit() and start_text.isdigit() and 0 < int(pid_text) < 1 << 22):
        return f"malformed pid {pid_text[:40]!r} / start {start_text[:40]!r}"
    return Owner(lab[LABEL_MACHINE], lab[LABEL_BOOT], lab[LABEL_PIDNS], int(pid_text), int(start_text))


class Verdict(enum.Enum):
    LIVE = "its owner is running"
    GONE = "its owner is gone"
    FOREIGN = "owned by another machine or pid namespace"
    UNOWNED = "owner labels missing or malformed"


def booted_at() -> float:
    """This boot's start, in seconds since the epoch."""
    try:
        return time.time() - float(_read("/proc/uptime").split()[0])
    except (IndexError, ValueError):
        return 0.0


def judge(labels: Mapping[str, str] | None, created: float | None = None) -> tuple[Verdict, str]:
    """Whether a resource may be removed, and why: only when its owner provably cannot be running.

    ``created`` (seconds since the epoch) matters for a resource of this machine from another
    boot: it is gone only if it predates this boot (a machine id cloned onto another running
    machine would otherwise look like an earlier boot of this one).
    """
    owner = parse_owner(labels)
    if isinstance(owner, str):
        return Verdict.UNOWNED, owner
    me = this_process()
    if owner.machine != me.machine:
        return Verdict.FOREIGN, "another machine"
    if owner.boot != me.boot:
        if created is not None and 0 < created < booted_at():
            return Verdict.GONE, "created before this machine booted"
        return Verdict.FOREIGN, "another boot id (not provably earlier than this boot)"
    if owner.pidns != me.pidns:
        return Verdict.FOREIGN, "another pid namespace (e.g. another container) on this machine"
    started = process_start(owner.pid)
    if started is None:
        if _pid_exists(owner.pid):  # /proc hides it (hidepid), the kernel does not
            return Verdict.LIVE, f"pid {owner.pid} exists but its start time cannot be read"
        return Verdict.GONE, f"pid {owner.pid} is not running"
    if started != owner.started:
        return Verdict.GONE, f"pid {owner.pid} now belongs to a process started later"
    return Verdict.LIVE, f"pid {owner.pid} is running"


def _pid_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
