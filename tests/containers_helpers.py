"""Helpers shared by the container-layer tests (containers, images, reliability)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from pytest_rules_rust.cache import Cache
from pytest_rules_rust.containers import Engine, detect_engine, labelled_resources
from pytest_rules_rust.containers.images import busybox_recipe, ensure_image
from pytest_rules_rust.containers.ownership import Owner, process_start, this_process
from pytest_rules_rust.errors import EngineError

REPO = Path(__file__).resolve().parent.parent
PYTHON = sys.executable


def engine_or_skip() -> Engine:
    try:
        return detect_engine()
    except EngineError as exc:
        pytest.skip(f"needs a Docker daemon: {exc.message}; {exc.hint}")


def busybox_image(engine: Engine, cache: Cache) -> str:
    """The tiny busybox-static test image (built in seconds through the same code path as builder images)."""
    return ensure_image(busybox_recipe("busybox-test"), cache, engine=engine, progress=lambda _m: None)


def containers_of_pid(engine: Engine, pid: int) -> list[str]:
    """Every labelled container, network and volume of ``pid`` (listed without a race against the
    reaper or the sweep removing them meanwhile)."""
    return labelled_resources(engine, pid=pid)


def wait_for(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def default_sigint() -> None:
    """``preexec_fn`` for a child that a test interrupts with SIGINT: a shell starts background jobs
    (``pytest ... &``) with SIGINT ignored, children inherit that, and Python then never raises
    KeyboardInterrupt; with the default disposition back, Python installs its handler at start."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def start_python(code: str, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    """Start ``python -c code`` with the repository importable; stdout/stderr captured as text."""
    full_env = dict(os.environ) | {"PYTHONPATH": str(REPO), "PYTHONUNBUFFERED": "1"} | (env or {})
    return subprocess.Popen(
        [PYTHON, "-c", code, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=full_env,
        preexec_fn=default_sigint,
    )


def dead_owner() -> Owner:
    """A process of this machine that existed and is gone (its pid and start time were real)."""
    child = subprocess.Popen(["sleep", "30"])
    started = process_start(child.pid)
    child.kill()
    child.wait()
    assert started is not None
    return replace(this_process(), pid=child.pid, started=started)
