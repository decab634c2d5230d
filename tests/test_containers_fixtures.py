"""The container fixtures driven through pytester in a subprocess: skip reasons and cleanup after failures."""

from __future__ import annotations

import uuid

import pytest
from containers_helpers import busybox_image, engine_or_skip

from pytest_rules_rust.cache import Cache
from pytest_rules_rust.containers.ownership import LABEL_SESSION

pytestmark = pytest.mark.container

_INNER = """
import os
import pytest
from pytest_rules_rust.containers import SESSION_ID


IMAGE = {image!r}

def test_fails_after_a_run(container_runner):
    result = container_runner.run(["sh", "-c", "echo inner-output; exit 3"], image=IMAGE, workdir="/tmp")
    assert result.rc == 3 and "inner-output" in result.log.read_text()
    assert False, "planted failure"

def test_times_out(container_runner):
    result = container_runner.run(["sleep", "300"], image=IMAGE, workdir="/tmp", timeout_s=1)
    assert result.timed_out
    assert SESSION_ID == os.environ["PYTEST_RULES_RUST_SESSION"]  # so the outer label check is meaningful
"""


def test_no_daemon_skips_with_the_fix(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    pytester.makepyfile(_INNER.format(image="unused"))
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    result = pytester.runpytest_subprocess("-rs", "-p", "no:cacheprovider")
    result.assert_outcomes(skipped=2)
    result.stdout.fnmatch_lines(["*needs a Docker daemon: no Docker daemon answers at unix:///nonexistent*"])
    result.stdout.fnmatch_lines(["*pytest-rules-rust doctor*"])


def test_failed_and_timed_out_tests_leave_no_container(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> None:
    engine = engine_or_skip()
    image = busybox_image(engine, Cache(tmp_path_factory.mktemp("cache")))
    session = f"fixtures-{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv("PYTEST_RULES_RUST_SESSION", session)
    pytester.makepyfile(_INNER.format(image=image))
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1, passed=1)
    result.stdout.fnmatch_lines(["*planted failure*"])
    flt: dict[str, str | list[str] | bool] = {"label": f"{LABEL_SESSION}={session}"}
    assert engine.client.containers.list(all=True, filters=flt) == []
