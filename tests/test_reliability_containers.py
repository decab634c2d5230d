"""No labelled container survives an interrupted run; a SIGKILLed run's leftovers are swept.

Each test starts a driver process that runs a long command through ``containers.run`` (the same
code path builds use), waits until its container is running, then signals the driver.
"""

from __future__ import annotations

import contextlib
import signal
import socket
import subprocess

import docker.errors
import pytest
from containers_helpers import containers_of_pid, start_python, wait_for

from pytest_rules_rust.containers import Engine, sweep_leftovers

pytestmark = pytest.mark.container

_DRIVER = """
import sys
from pathlib import Path
from pytest_rules_rust.containers import RunSpec, run
from pytest_rules_rust.platforms import AMD64
try:
    result = run(RunSpec(sys.argv[1], ("sleep", "600"), AMD64, workdir="/tmp"), Path(sys.argv[2]))
    print("finished", result, flush=True)
except KeyboardInterrupt as exc:
    print("interrupted", exc, flush=True)
    sys.exit(130)
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
    assert driver.returncode == 130 and out.startswith("interrupted"), (out, err)
    assert containers_of_pid(engine, driver.pid) == []


def test_sigkilled_run_leaves_a_container_that_the_sweep_removes(
    engine: Engine, bb: str, tmp_path: object
) -> None:
    driver = _start_driver(engine, bb, f"{tmp_path}/driver.log")
    driver.kill()
    driver.communicate(timeout=30)
    leftovers = containers_of_pid(engine, driver.pid)
    assert len(leftovers) == 1  # nothing could clean up after SIGKILL ...
    assert sweep_leftovers(engine) >= 1  # ... so the next session's sweep does
    assert containers_of_pid(engine, driver.pid) == []


def test_sweep_spares_a_live_driver(engine: Engine, bb: str, tmp_path: object) -> None:
    driver = _start_driver(engine, bb, f"{tmp_path}/driver.log")
    try:
        sweep_leftovers(engine)
        assert _running(engine, driver.pid)
    finally:
        driver.send_signal(signal.SIGINT)
        driver.communicate(timeout=60)
    assert containers_of_pid(engine, driver.pid) == []


def test_sweep_spares_other_machines_on_a_shared_engine(engine: Engine, bb: str) -> None:
    """A dead pid from another host means nothing here: only this machine's leftovers are swept."""
    labels = {"pytest-rules-rust.session": "elsewhere", "pytest-rules-rust.pid": "999999999"}
    other = engine.client.containers.create(
        bb, ["true"], labels=labels | {"pytest-rules-rust.host": "some-other-machine"}
    )
    mine = engine.client.containers.create(
        bb, ["true"], labels=labels | {"pytest-rules-rust.host": socket.gethostname()}
    )
    try:
        sweep_leftovers(engine)
        other.reload()  # still there
        with pytest.raises(docker.errors.NotFound):
            mine.reload()
    finally:
        for c in (other, mine):
            with contextlib.suppress(docker.errors.NotFound):
                c.remove(force=True)
