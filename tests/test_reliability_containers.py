"""No labelled container survives an interrupted or killed run.

Each test starts a driver process that runs a long command through ``containers.run`` (the same
code path builds use), waits until its container is running, then signals the driver.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from containers_helpers import containers_of_pid, start_python, wait_for
from docker.models.containers import Container, ContainerCollection

from pytest_rules_rust.containers import Engine, RunSpec, run, sweep_leftovers
from pytest_rules_rust.platforms import AMD64

pytestmark = pytest.mark.container
#: The reaper's promise (pytest_rules_rust/reaper.py, docs/security.md).
REAP_WITHIN_S = 10

_DRIVER = """
import sys
from pathlib import Path
from pytest_rules_rust.containers import RunSpec, run
from pytest_rules_rust.platforms import AMD64
try:
    result = run(RunSpec(sys.argv[1], ("sleep", "600"), AMD64, workdir="/tmp"), Path(sys.argv[2]))
    print("finished", result, flush=True)
except KeyboardInterrupt as exc:
    from pytest_rules_rust.signals import exit_code
    print("interrupted", exc, flush=True)
    sys.exit(exit_code(exc))
"""


def _start_driver(engine: Engine, bb: str, log: str) -> subprocess.Popen[str]:
    driver = start_python(_DRIVER, bb, log)
    try:
        wait_for(
            lambda: _running(engine, driver.pid) or driver.poll() is not None, 60, "the driver's container"
        )
    except AssertionError:
        driver.kill()
        raise
    assert driver.poll() is None, driver.communicate()
    return driver


def _running(engine: Engine, pid: int) -> bool:
    flt: dict[str, str | list[str] | bool] = {"label": f"pytest-rules-rust.pid={pid}", "status": "running"}
    return bool(engine.client.containers.list(filters=flt))


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_interrupted_run_removes_its_container(
    engine: Engine, bb: str, tmp_path: object, signum: int
) -> None:
    driver = _start_driver(engine, bb, f"{tmp_path}/driver.log")
    driver.send_signal(signum)
    out, err = driver.communicate(timeout=60)
    assert driver.returncode == 128 + signum and out.startswith("interrupted"), (out, err)
    assert containers_of_pid(engine, driver.pid) == []


def test_sigkilled_run_is_reaped_within_ten_seconds(engine: Engine, bb: str, tmp_path: object) -> None:
    """Nothing can clean up inside a SIGKILLed process: its reaper removes the container."""
    driver = _start_driver(engine, bb, f"{tmp_path}/driver.log")
    driver.kill()
    driver.communicate(timeout=30)
    killed = time.monotonic()
    wait_for(lambda: containers_of_pid(engine, driver.pid) == [], REAP_WITHIN_S, "the reaper")
    print(f"reaped {time.monotonic() - killed:.1f} s after SIGKILL")


def test_sweep_spares_a_live_driver(engine: Engine, bb: str, tmp_path: object) -> None:
    driver = _start_driver(engine, bb, f"{tmp_path}/driver.log")
    try:
        sweep_leftovers(engine)
        assert _running(engine, driver.pid)
    finally:
        driver.send_signal(signal.SIGINT)
        driver.communicate(timeout=60)
    assert containers_of_pid(engine, driver.pid) == []


def test_interrupt_inside_create_still_removes_the_container(
    engine: Engine, bb: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The engine made the container but the SDK had not returned it yet (its follow-up GET was
    interrupted): a Ctrl-C in that window once left the container for the reaper."""
    real_create = ContainerCollection.create

    def create_then_interrupt(self: ContainerCollection, *args: Any, **kwargs: Any) -> Container:
        real_create(self, *args, **kwargs)
        raise KeyboardInterrupt

    before = set(containers_of_pid(engine, os.getpid()))  # this session's own, e.g. a registry
    monkeypatch.setattr(ContainerCollection, "create", create_then_interrupt)
    with pytest.raises(KeyboardInterrupt):
        run(RunSpec(bb, ("true",), AMD64, workdir="/tmp"), tmp_path / "run.log", engine=engine)
    assert set(containers_of_pid(engine, os.getpid())) - before == set()
