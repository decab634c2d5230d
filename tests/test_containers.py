"""The container runner on a real Docker daemon: logs, exit codes, users, mounts, network, timeout, labels.

Most tests use the seconds-to-build busybox image; the builder-image tests use the real images
(built once per machine: several minutes the first time).
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from containers_helpers import containers_of_pid, wait_for

from pytest_rules_rust import containers
from pytest_rules_rust.containers import (
    SESSION_ID,
    ContainerRunner,
    Engine,
    ExecResult,
    Mount,
    RunSpec,
    detect_engine,
    run,
    running,
)
from pytest_rules_rust.containers.emulation import EmulationStatus
from pytest_rules_rust.containers.ownership import LABEL_HOST, LABEL_PID, LABEL_SESSION, this_process
from pytest_rules_rust.errors import EngineError, UsageError
from pytest_rules_rust.platforms import AMD64, ARM64

pytestmark = pytest.mark.container


def _run(bb: str, tmp_path: Path, *command: str, **options: object) -> ExecResult:
    options.setdefault("workdir", "/tmp")
    spec = RunSpec(bb, tuple(command), AMD64, **options)  # type: ignore[arg-type]
    return run(spec, tmp_path / "run.log")


@pytest.fixture(autouse=True)
def _nothing_left_behind(engine: Engine) -> object:
    yield
    assert containers_of_pid(engine, os.getpid()) == [], "a labelled resource outlived its run"


def test_engine_is_detected_once_with_its_properties(engine: Engine) -> None:
    assert detect_engine() is engine
    version = engine.client.version()
    assert engine.version == version["Version"] and engine.arch == "amd64" == engine.platform.arch
    assert engine.remote is False and engine.base_url.startswith("unix://")
    assert engine.needs_emulation(ARM64) and not engine.needs_emulation(AMD64)


def test_no_daemon_is_an_engine_error_naming_the_fix(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    with pytest.raises(EngineError, match="no Docker daemon answers at unix:///nonexistent") as info:
        detect_engine(refresh=True)
    assert "pytest-rules-rust doctor" in info.value.hint and "dockerd --iptables=false" in info.value.hint
    assert detect_engine() is engine  # a failed probe does not replace the working engine


def test_output_is_streamed_to_the_log_while_running(bb: str, tmp_path: Path) -> None:
    results: list[ExecResult] = []
    cmd = ("sh", "-c", 'echo "first-$WORD"; sleep 4; echo "second-$WORD"')
    worker = threading.Thread(target=lambda: results.append(_run(bb, tmp_path, *cmd, env={"WORD": "line"})))
    worker.start()
    log = tmp_path / "run.log"
    wait_for(lambda: log.exists() and "first-line" in log.read_text(), 20, "the first line in the log")
    assert worker.is_alive() and "second-line" not in log.read_text()
    worker.join(60)
    assert results[0].succeeded and "second-line" in log.read_text()


def test_exit_code_and_stderr(bb: str, tmp_path: Path) -> None:
    result = _run(bb, tmp_path, "sh", "-c", "echo to-stdout; echo to-stderr >&2; exit 7")
    assert (result.rc, result.timed_out, result.failed) == (7, False, True)
    assert "to-stdout" in result.tail() and "to-stderr" in result.tail()
    assert "to-stdout" in result.output and "to-stderr" in result.output
    assert result.log == tmp_path / "run.log"


def test_runs_as_the_caller_and_outputs_belong_to_it(bb: str, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir(mode=0o777)
    out.chmod(0o777)
    mount = (Mount(out, "/out"),)
    result = _run(bb, tmp_path, "sh", "-c", "id -u; id -g; touch /out/mine", mounts=mount)
    assert result.succeeded, result.tail()
    assert f"{os.getuid()}\n{os.getgid()}\n" in result.log.read_text()
    st = (out / "mine").stat()
    assert (st.st_uid, st.st_gid) == (os.getuid(), os.getgid())
    result = _run(bb, tmp_path, "touch", "/out/other", mounts=mount, user="4321:8765")
    assert result.succeeded, result.tail()
    st = (out / "other").stat()
    assert (st.st_uid, st.st_gid) == (4321, 8765)


def test_read_only_mounts_env_and_workdir(bb: str, tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (src / "input.txt").write_text("from the host\n")
    result = _run(
        bb,
        tmp_path,
        "sh",
        "-c",
        'cat input.txt; echo "pwd=$(pwd) greeting=$GREETING"; touch written 2>&1 || echo touch-failed',
        mounts=(Mount(src, "/src", read_only=True),),
        workdir="/src",
        env={"GREETING": "hello world"},
    )
    text = result.log.read_text()
    assert result.succeeded and "from the host" in text and "pwd=/src greeting=hello world" in text
    assert "Read-only file system" in text and "touch-failed" in text and not (src / "written").exists()


def test_no_network_unless_asked(bb: str, tmp_path: Path) -> None:
    script = 'echo "interfaces:" $(ls /sys/class/net); nslookup deb.debian.org 2>&1 || echo lookup-failed'
    result = _run(bb, tmp_path, "sh", "-c", script)
    text = result.log.read_text()
    assert result.succeeded and "lookup-failed" in text
    assert "interfaces: lo\n" in text
    result = _run(bb, tmp_path, "sh", "-c", script, network=True)
    assert result.succeeded and "interfaces: eth0 lo\n" in result.log.read_text()


def test_timeout_kills_and_removes(engine: Engine, bb: str, tmp_path: Path) -> None:
    start = time.monotonic()
    result = _run(bb, tmp_path, "sleep", "300", timeout_s=2)
    assert result.timed_out and result.failed and result.rc == -9
    assert time.monotonic() - start < 60
    assert "timed out after 2 s" in result.tail()
    assert containers_of_pid(engine, os.getpid()) == []


def test_every_container_is_labelled_and_confined(engine: Engine, bb: str, tmp_path: Path) -> None:
    worker = threading.Thread(target=lambda: _run(bb, tmp_path, "sleep", "3"))
    worker.start()
    flt: dict[str, str | list[str] | bool] = {"label": f"{LABEL_PID}={os.getpid()}"}
    found: list[Any] = []

    def listed() -> bool:
        found[:] = engine.client.containers.list(filters=flt)
        return bool(found)

    wait_for(listed, 20, "the container")
    container = found[0]
    labels = container.labels
    host_config = container.attrs["HostConfig"]
    worker.join(60)
    assert labels[LABEL_SESSION] == SESSION_ID and labels[LABEL_PID] == str(os.getpid())
    owner = this_process().labels()  # machine, boot, pid namespace, pid and its start time
    assert {k: labels[k] for k in owner} == owner and LABEL_HOST in labels
    assert host_config["NetworkMode"] == "none" and host_config["Privileged"] is False
    assert container.attrs["Config"]["User"] == f"{os.getuid()}:{os.getgid()}"


def test_running_context_manager_removes_on_error(engine: Engine, bb: str) -> None:
    spec = RunSpec(bb, ("sleep", "300"), AMD64, workdir="/tmp")
    with pytest.raises(RuntimeError, match="boom"), running(spec) as container:
        assert container.status == "running"
        raise RuntimeError("boom")
    assert containers_of_pid(engine, os.getpid()) == []


def test_sweep_leaves_live_processes_alone(engine: Engine, bb: str) -> None:
    with running(RunSpec(bb, ("sleep", "300"), AMD64, workdir="/tmp")) as container:
        containers.sweep_leftovers(engine)
        container.reload()
        assert container.status == "running"


# --- the real builder images -------------------------------------------------------------------


def test_uname_in_the_amd64_builder_image(container_runner: ContainerRunner) -> None:
    result = container_runner.run(["uname", "-m"], platform="linux/amd64")
    assert result.succeeded, result.tail()
    assert result.output.splitlines()[-1] == "x86_64" == result.log.read_text().splitlines()[-1]


def test_uname_in_the_arm64_builder_image_through_qemu(
    container_runner: ContainerRunner, arm64_emulation: EmulationStatus
) -> None:
    result = container_runner.run(["sh", "-c", "uname -m; rustc --print host-tuple"], platform="linux/arm64")
    assert result.succeeded, result.tail()
    lines = result.log.read_text().splitlines()
    assert lines[-2:] == ["aarch64", "aarch64-unknown-linux-gnu"]


def test_copy_mount_strategy_for_remote_engines(bb: str, tmp_path: Path) -> None:
    """The remote-engine path (copy in, copy back) exercised on the local engine."""
    src, out = tmp_path / "src", tmp_path / "out"
    src.mkdir()
    out.mkdir()
    (src / "input.txt").write_text("copied in\n")
    script = "cd /work/deeper/out && cat /src/input.txt > result.txt && mkdir sub && echo deep > sub/f"
    spec = RunSpec(
        bb,
        ("sh", "-c", f"{script} && touch /src/not-copied-back"),
        AMD64,
        mounts=(Mount(src, "/src", read_only=True), Mount(out, "/work/deeper/out")),
        workdir="/tmp",
    )
    result = run(spec, tmp_path / "copy.log", copy_mounts=True)
    assert result.succeeded, result.tail()
    assert (out / "result.txt").read_text() == "copied in\n" and (out / "sub" / "f").read_text() == "deep\n"
    assert sorted(p.name for p in src.iterdir()) == ["input.txt"]


def test_bad_mounts_are_usage_errors_before_docker_sees_them(bb: str, tmp_path: Path) -> None:
    missing = tmp_path / "not-there"
    with pytest.raises(UsageError, match=f"mount source {missing} .*does not exist"):
        _run(bb, tmp_path, "true", mounts=(Mount(missing, "/src"),))
    assert not missing.exists()  # Docker would have created it, root-owned
    with pytest.raises(UsageError, match="not an absolute path"):
        _run(bb, tmp_path, "true", mounts=(Mount(tmp_path, "relative"),))


def test_engine_refusal_is_an_engine_error_with_the_log(bb: str, tmp_path: Path) -> None:
    with pytest.raises(EngineError, match="Docker refused to run") as info:
        _run(bb, tmp_path, "true", workdir="relative/dir")  # the daemon rejects a relative working dir
    assert info.value.paths["log"] == tmp_path / "run.log"
