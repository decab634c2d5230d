"""Real cargo builds in the builder containers: every fixture workspace, both platforms, gnu and musl.

Each (workspace, platform, libc) is built once per session through ``rules_rust_build`` (debug
builds; target directories shared through the cache), then its ELF header is checked and the binary
run (aarch64 through qemu via binfmt). Also: the emulated arm64 host once, failures and timeouts
leave no labelled container, and two processes building the same thing fill each cache once.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cargo_helpers import check_elf, check_output, matrix

from pytest_rules_rust.builders import build
from pytest_rules_rust.builders.base import BuildRequest, BuildResult
from pytest_rules_rust.cache import Cache
from pytest_rules_rust.containers import Engine, labelled_resources
from pytest_rules_rust.containers.emulation import emulation_status
from pytest_rules_rust.errors import BuildError
from pytest_rules_rust.execution import run_binary
from pytest_rules_rust.platforms import AMD64, ARM64, Platform
from pytest_rules_rust.plugin.builds import RulesRustBuild
from pytest_rules_rust.workspaces import materialise

pytestmark = [pytest.mark.container, pytest.mark.cargo]
CLI = (sys.executable, "-m", "pytest_rules_rust", "build")


def _needs_qemu(platform: Platform) -> None:
    if platform == ARM64 and not emulation_status("aarch64").works:
        pytest.skip(f"running aarch64 binaries needs qemu in binfmt_misc: {emulation_status('aarch64').fix}")


@pytest.mark.parametrize(("name", "platform", "libc"), list(matrix()))
def test_workspace_builds_and_runs(
    rules_rust_build: RulesRustBuild, name: str, platform: str, libc: str
) -> None:
    plat = Platform.parse(platform)
    result = rules_rust_build(name, platform=plat, libc=libc)
    assert result.artifacts, result
    for artifact in result.artifacts:
        assert artifact.kind == "binary" and artifact.path.is_absolute() and artifact.path.is_file()
        check_elf(artifact.path, plat, libc)
    _needs_qemu(plat)
    for artifact in result.artifacts:
        check_output(name, artifact.path, plat)


def test_second_request_is_served_from_the_session(rules_rust_build: RulesRustBuild) -> None:
    first = rules_rust_build("cross", platform="linux/arm64")
    second = rules_rust_build("cross", platform="linux/arm64")
    assert second.cached  # built once (maybe by an earlier test): the second is the first's result
    assert second.duration_s == first.duration_s
    assert second.log.read_text() == first.log.read_text()
    assert second.artifact("hello_cross").path.read_bytes() == first.artifact("hello_cross").path.read_bytes()


@pytest.mark.cross
def test_release_build_follows_the_workspace_release_profile(rules_rust_build: RulesRustBuild) -> None:
    from pytest_rules_rust.inspect.elf import inspect_binary

    debug = inspect_binary(
        rules_rust_build("alloc_bench", platform="linux/arm64").artifact("alloc_bench").path
    )
    release = rules_rust_build("alloc_bench", platform="linux/arm64", profile="release")
    info = inspect_binary(release.artifact("alloc_bench").path)
    assert "--release" in release.extra["command"]
    assert info.stripped and not info.debug_info, info.summary  # strip = "symbols"
    assert not debug.stripped and debug.debug_info, debug.summary


@pytest.mark.cross
def test_emulated_arm64_host_builds_the_same_program(rules_rust_build: RulesRustBuild) -> None:
    status = emulation_status("aarch64")
    if not status.works:
        pytest.skip(f"the emulated arm64 host needs qemu in binfmt_misc: {status.fix}")
    native = rules_rust_build("cross", platform="linux/arm64", host="linux/arm64")
    assert native.extra["image"] != rules_rust_build("cross", platform="linux/arm64").extra["image"]
    binary = native.artifact("hello_cross").path
    check_elf(binary, ARM64, "gnu")
    out = run_binary(binary, timeout_s=120)
    assert out.rc == 0 and out.stdout.splitlines()[0] == "hello from aarch64", out


def _no_leftovers(engine: Engine) -> None:
    assert labelled_resources(engine, pid=os.getpid()) == []


def test_failed_build_keeps_workspace_and_log_and_leaves_no_container(
    docker_engine: Engine, rules_rust_cache: Cache, tmp_path: Path
) -> None:
    ws = materialise("cross", tmp_path / "ws")
    main_rs = ws.root / "hello_cross" / "src" / "main.rs"
    main_rs.write_text(main_rs.read_text() + '\nfn broken() -> u32 { "not a number" }\n')
    with pytest.raises(BuildError) as info:
        build(BuildRequest(workspace=ws, target=AMD64), tmp_path / "out", cache=rules_rust_cache)
    err = info.value
    assert "failed (exit code 101)" in err.message
    assert "mismatched types" in err.message  # the last lines of the log travel with the error
    assert err.paths["workspace"] == ws.root and main_rs.exists()
    assert "error[E0308]" in err.paths["log"].read_text()
    assert str(err.paths["log"]) in str(err)
    _no_leftovers(docker_engine)


def test_an_older_copy_is_not_served_the_binary_of_a_newer_build(
    docker_engine: Engine, tmp_path: Path
) -> None:
    """Cargo's mtime freshness must not hand a broken copy (files older than the last build of
    another copy of the same package) that other copy's binary: the build has to fail."""
    cache = Cache(tmp_path / "cache")  # its own target directories: their history is the point
    broken = materialise("cross", tmp_path / "broken")
    main_rs = broken.root / "hello_cross" / "src" / "main.rs"
    main_rs.write_text(main_rs.read_text() + "\nfn broken( {\n")
    for path in broken.root.rglob("*"):
        os.utime(path, (1_500_000_000, 1_500_000_000))  # older than any build below
    good = materialise("cross", tmp_path / "good")
    build(BuildRequest(workspace=good, target=AMD64), tmp_path / "out-good", cache=cache)
    with pytest.raises(BuildError, match="unclosed delimiter"):
        build(BuildRequest(workspace=broken, target=AMD64), tmp_path / "out-broken", cache=cache)
    again = build(BuildRequest(workspace=good, target=AMD64), tmp_path / "out-again", cache=cache)
    check_output("cross", again.artifact("hello_cross").path, AMD64)
    _no_leftovers(docker_engine)


def test_timeout_kills_the_build_and_leaves_no_container(
    docker_engine: Engine, rules_rust_cache: Cache, tmp_path: Path
) -> None:
    ws = materialise("cross", tmp_path / "ws")
    (ws.root / "hello_cross" / "build.rs").write_text(
        "fn main() { std::thread::sleep(std::time::Duration::from_secs(600)); }\n"
    )
    request = BuildRequest(workspace=ws, target=AMD64, timeout_s=20)
    with pytest.raises(BuildError, match="overran its timeout of 20 s") as info:
        build(request, tmp_path / "out", cache=rules_rust_cache)
    assert "timed out after 20 s" in info.value.paths["log"].read_text()
    _no_leftovers(docker_engine)


def _dirs(out: Path, cache_dir: Path) -> list[str]:
    return ["--out", str(out), "--cache-dir", str(cache_dir)]


def test_two_processes_building_at_once_fill_each_cache_once(docker_engine: Engine, tmp_path: Path) -> None:
    cache_dir = tmp_path / "cache"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    procs = [
        subprocess.Popen(
            [
                *CLI,
                "from_cargo",
                "--platform",
                "linux/arm64",
                "--json",
                *_dirs(tmp_path / f"out{i}", cache_dir),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for i in (1, 2)
    ]
    results = [p.communicate(timeout=1200) for p in procs]
    for proc, (_out, err) in zip(procs, results, strict=True):
        assert proc.returncode == 0, err
    docs = [json.loads(out) for out, _ in results]
    logs = [Path(doc["log"]).read_text() for doc in docs]
    # One process compiled the workspace and its crates; the other found them fresh.
    assert sum(log.count("Compiling from_cargo ") for log in logs) == 1, logs
    assert sum(log.count("Compiling serde_json ") for log in logs) == 1, logs
    crates = [p for p in (cache_dir / "crates").iterdir()]
    assert len(crates) == 1 and (crates[0] / ".complete").exists(), crates
    for doc in docs:
        binary = Path(doc["artifacts"][0]["path"])
        check_elf(binary, ARM64, "gnu")
    _no_leftovers(docker_engine)


def test_result_lists_artifacts_absolute_under_out_dir(rules_rust_build: RulesRustBuild) -> None:
    result: BuildResult = rules_rust_build("from_cargo", platform="linux/amd64")
    doc = result.to_json()
    assert set(doc) == {"artifacts", "log", "duration_s"}
    (artifact,) = doc["artifacts"]
    assert artifact == {"path": str(result.artifact("greet").path), "kind": "binary", "target": "greet"}
    assert Path(doc["log"]).parent == Path(artifact["path"]).parent
