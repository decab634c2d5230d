"""Helpers for the bad-input, parallel-worker and security tests: run the real CLI, judge its error."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path

import pytest

from pytest_rules_rust.cache import Cache
from pytest_rules_rust.containers import Engine, detect_engine
from pytest_rules_rust.containers.images import busybox_recipe, ensure_image
from pytest_rules_rust.errors import EngineError, ImageError
from pytest_rules_rust.platforms import AMD64

REPO = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
#: A "short" error: the message, the kept paths and the hint fit on one screen.
MAX_ERROR_LINES = 12
#: argparse's own usage errors carry the valid choices instead of a ``hint:`` line.
_ARGPARSE_HINTS = ("choose from", "usage:", "expected one argument", "required")


def run_cli(
    *args: str | Path,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    timeout: float = 300.0,
) -> subprocess.CompletedProcess[str]:
    """``python -m pytest_rules_rust ARGS`` in a subprocess (the user's view), output captured."""
    full_env = dict(os.environ) | {"PYTHONPATH": str(REPO), "PYTHONUNBUFFERED": "1"} | dict(env or {})
    return subprocess.run(
        [PYTHON, "-m", "pytest_rules_rust", *map(str, args)],
        capture_output=True,
        text=True,
        env=full_env,
        cwd=cwd,
        timeout=timeout,
        check=False,
    )


def assert_clear_error(
    proc: subprocess.CompletedProcess[str],
    *,
    code: int,
    names: Iterable[str | Path] = (),
    hint: bool = True,
    max_lines: int = MAX_ERROR_LINES,
) -> str:
    """Check that ``proc`` failed the way a user wants: exit ``code``, a short ``error:`` on stderr
    naming every item of ``names`` (file, parameter, path …), a hint, and no traceback. With
    ``--json`` the error is instead one JSON object on stdout (and nothing on stderr); it is read
    back into the same ``error:``/``hint:`` text and checked the same way.

    Returns the error text so callers can check more. The failure message shows the whole output.
    """
    __tracebackhide__ = True
    err = proc.stderr
    shown = f"exit {proc.returncode}\n--- stderr ---\n{err}--- stdout ---\n{proc.stdout[-2000:]}"
    problems = []
    if proc.stdout.startswith('{"error"'):
        error = json.loads(proc.stdout)["error"]
        if err.strip():
            problems.append("stderr is not empty although the error went to stdout as JSON")
        if error["exit_code"] != proc.returncode:
            problems.append(f"JSON exit_code {error['exit_code']} differs from the exit code")
        err = f"error: {error['message']}\n" + (f"hint: {error['hint']}\n" if error["hint"] else "")
    if proc.returncode != code:
        problems.append(f"exit code: Expected {code}, Actual {proc.returncode}")
    if "Traceback" in err or "Traceback" in proc.stdout:
        problems.append("a Python traceback was printed")
    if "error:" not in err:
        problems.append("stderr has no 'error:'")
    lines = err.strip().splitlines()
    if len(lines) > max_lines:
        problems.append(f"stderr is {len(lines)} lines long (at most {max_lines} wanted)")
    for name in names:
        if str(name) not in err:
            problems.append(f"stderr does not name {str(name)!r}")
    if hint and "hint:" not in err and not any(h in err for h in _ARGPARSE_HINTS):
        problems.append("stderr has no 'hint:' (what to do)")
    assert not problems, "; ".join(problems) + "\n" + shown
    return err


def kept_paths(stderr: str) -> dict[str, Path]:
    """The ``workspace: PATH`` / ``log: PATH`` lines a ``RulesRustError`` prints, as paths."""
    out = {}
    for line in stderr.splitlines():
        key, sep, value = line.partition(": ")
        if sep and key in ("workspace", "log") and value.startswith("/"):
            out[key] = Path(value.strip())
    return out


def engine_or_skip() -> Engine:
    """The Docker engine, or a skip that says how to get one."""
    try:
        return detect_engine()
    except EngineError as exc:
        pytest.skip(f"needs a Docker daemon: {exc.message}; {exc.hint}")


def busybox_or_skip(cache: Cache) -> str:
    """The few-MB busybox test image (built once per machine through the builder-image code path)."""
    engine = engine_or_skip()
    try:
        return ensure_image(busybox_recipe("busybox"), cache, engine=engine, progress=lambda _m: None)
    except ImageError as exc:
        pytest.skip(f"cannot build the busybox test image: {exc}")


def builder_image_or_skip(cache: Cache) -> str:
    """The amd64 builder image (built once per machine: minutes, cold), or a skip saying why not."""
    from pytest_rules_rust.containers.images import ensure_builder_image

    engine = engine_or_skip()
    try:
        return ensure_builder_image(AMD64, cache, engine=engine, progress=lambda _m: None)
    except ImageError as exc:
        pytest.skip(f"cannot build the amd64 builder image: {exc.message}; {exc.hint}")


def json_error_only(proc: subprocess.CompletedProcess[str]) -> None:
    """With ``--json``, a failed command prints exactly one JSON error object on stdout."""
    __tracebackhide__ = True
    lines = proc.stdout.splitlines()
    assert len(lines) == 1 and "error" in json.loads(lines[0]), proc.stdout[-2000:]
