"""The command line leaves nothing running: a SIGKILLed build is reaped, leftovers are swept at start."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import docker.errors
import pytest
from containers_helpers import REPO, containers_of_pid, dead_owner, default_sigint, wait_for
from reliability_helpers import builder_image_or_skip

from pytest_rules_rust.cache import Cache
from pytest_rules_rust.containers import Engine
from pytest_rules_rust.containers.ownership import owner_labels

pytestmark = pytest.mark.container
REAP_WITHIN_S = 10  # the reaper's promise (docs/security.md)


def _cli(*args: str | Path) -> subprocess.Popen[str]:
    env = dict(os.environ) | {"PYTHONPATH": str(REPO), "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(
        [sys.executable, "-m", "pytest_rules_rust", *map(str, args)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        preexec_fn=default_sigint,
    )


def _running_build(engine: Engine, tmp_path: Path) -> subprocess.Popen[str]:
    """A CLI build of ``cross`` whose build container is running (killed here if it ended early)."""
    cache = Cache(tmp_path / "cache")
    builder_image_or_skip(cache)
    build = _cli(
        "build", "cross", "--platform", "linux/amd64", "--out", tmp_path / "out", "--cache-dir", cache.root
    )
    try:
        wait_for(
            lambda: bool(containers_of_pid(engine, build.pid)) or build.poll() is not None, 600, "the build"
        )
        assert build.poll() is None, build.communicate()
    except BaseException:
        build.kill()
        build.communicate()
        raise
    return build


@pytest.mark.cargo
def test_sigkilled_cli_build_leaves_no_container_after_ten_seconds(engine: Engine, tmp_path: Path) -> None:
    build = _running_build(engine, tmp_path)
    build.kill()
    build.communicate()
    killed = time.monotonic()
    wait_for(
        lambda: containers_of_pid(engine, build.pid) == [],
        REAP_WITHIN_S,
        "the killed build's container to go",
    )
    print(f"reaped {time.monotonic() - killed:.1f} s after SIGKILL")


@pytest.mark.cargo
@pytest.mark.parametrize(
    ("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)], ids=["INT", "TERM"]
)
def test_interrupted_cli_build_exits_128_plus_signal_and_cleans_up(
    engine: Engine, tmp_path: Path, signum: int, code: int
) -> None:
    build = _running_build(engine, tmp_path)
    try:
        build.send_signal(signum)
        _, err = build.communicate(timeout=120)
    finally:
        build.kill()
    assert build.returncode == code and "interrupted" in err and "Traceback" not in err, err
    assert containers_of_pid(engine, build.pid) == []  # removed by the build itself, not the reaper


def test_cli_sweeps_leftovers_at_start(engine: Engine, bb: str) -> None:
    dead = dead_owner()
    leftover = engine.client.containers.create(bb, ["true"], labels=owner_labels(dead))
    try:
        # an early usage error: the sweep has run before the command looks at its arguments
        done = _cli("build", "no_such_workspace", "--platform", "linux/amd64")
        _, err = done.communicate(timeout=120)
        assert done.returncode == 2, err
        with pytest.raises(docker.errors.NotFound):
            leftover.reload()
        # Any harness process starting meanwhile on this machine may sweep it first; usually this one did.
        print(err)
    finally:
        with contextlib.suppress(docker.errors.NotFound):
            leftover.remove(force=True)
