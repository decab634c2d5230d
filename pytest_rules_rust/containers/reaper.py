"""Every container, network and volume dies with the process that created it, also on SIGKILL.

The first time a process creates a resource, :func:`watched_labels` starts a reaper for it: a
small child process (``python -m pytest_rules_rust.containers.reaper``) in its own session, whose stdin is
the read end of a pipe whose only write end the creating process holds (non-inheritable, so
``docker``/``skopeo``/build subprocesses do not keep it open). However the creator ends — normal
exit, exception, SIGTERM, SIGKILL, OOM kill — the kernel closes that write end, the reaper's read
returns end-of-file, and it removes every resource labelled with exactly its creator's owner
labels (machine, boot, pid namespace, pid, start time: see :mod:`.ownership`). It talks to the
same engine through the same settings (``DOCKER_HOST``, the docker context), so it works for a
local daemon and a remote one alike. It sweeps again after 2 and 5 s, for a create request that
was in flight when its creator died, and exits after a pass that finds nothing, at most 30 s on.

What is left if the reaper itself is killed (e.g. the whole cgroup at once) is removed by
:func:`pytest_rules_rust.containers.sweep_leftovers` at the next start of the plugin or the CLI.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

from .ownership import LABEL_SESSION, PREFIX, owner_labels

_lock = threading.Lock()
_watched_pid: int | None = None
_pipe_write_end: int | None = None
#: When to sweep after the creator is gone (seconds); later passes only while they find something.
PASSES_S = (0.0, 2.0, 5.0)
MAX_S = 30.0


def ensure_reaper() -> None:
    """Start this process's reaper unless it runs already (once per process, again after a fork)."""
    global _watched_pid, _pipe_write_end
    with _lock:
        if _watched_pid == os.getpid():
            return
        labels = owner_labels()
        read_end, write_end = os.pipe()  # both ends non-inheritable (PEP 446)
        package_parent = str(Path(__file__).resolve().parents[2])  # the directory holding pytest_rules_rust
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (package_parent, env.get("PYTHONPATH")) if p)
        try:
            subprocess.Popen(
                [sys.executable, "-m", "pytest_rules_rust.containers.reaper", json.dumps(labels)],
                stdin=read_end,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,  # a Ctrl-C or kill of our process group does not reach it
                env=env,
            )
        finally:
            os.close(read_end)
        _watched_pid, _pipe_write_end = os.getpid(), write_end


def watched_labels() -> dict[str, str]:
    """The labels for a new resource, with a reaper watching over this process."""
    ensure_reaper()
    return owner_labels()


def owner_filter(labels: dict[str, str]) -> list[str]:
    """Docker label filters that match exactly the resources of the owner in ``labels``."""
    return [f"{k}={v}" for k, v in labels.items() if k.startswith(PREFIX) and k != PREFIX + "host"]


def reap(labels: dict[str, str]) -> list[str]:
    """Remove the containers, then networks, then volumes carrying all of ``labels``' owner labels."""
    from . import detect_engine, listed_containers

    engine = detect_engine()
    client = engine.client
    filters: dict[str, str | list[str] | bool] = {"label": owner_filter(labels)}
    removed: list[str] = []
    for container in listed_containers(engine, filters):
        try:
            container.remove(force=True, v=True)
            removed.append(f"container {container.id}")
        except Exception:  # already gone, or being removed by its creator's own cleanup
            continue
    for kind, collection in (("network", client.networks), ("volume", client.volumes)):
        for item in collection.list(filters=filters):
            try:
                item.remove()
                removed.append(f"{kind} {item.name}")
            except Exception:
                continue
    return removed


def main(argv: list[str]) -> int:
    labels = json.loads(argv[0])
    if not isinstance(labels, dict) or LABEL_SESSION not in labels:
        return 2
    while sys.stdin.buffer.read(65536):  # nobody writes: this returns b"" once the creator is gone
        pass
    start = time.monotonic()
    try:
        for due in PASSES_S:
            time.sleep(max(0.0, start + due - time.monotonic()))
            found = reap(labels)
        while found and time.monotonic() - start < MAX_S:
            time.sleep(1.0)
            found = reap(labels)
    except Exception:  # engine unreachable: the next start's sweep removes what is left
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
