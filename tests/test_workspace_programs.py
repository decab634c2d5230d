"""The programs in the proto, musl_jemalloc_oci and alloc_bench workspaces behave on the host.

The behaviour itself is checked by each workspace's own cargo tests (gRPC round trip between the real
server and client binaries over 127.0.0.1; HTTP answers of the real service and jemalloc as its global
allocator; the benchmark's workloads and CLI). Here they run offline with ``--locked`` against crates
vendored once into the shared cache, from a freshly materialised copy of each template; alloc_bench's
JSON line is then checked against its schema for every workload and allocator variant.
"""

from __future__ import annotations

import json
import platform
import re
import subprocess
from pathlib import Path

import pytest
from program_helpers import built_binary, cargo, require_tools

from pytest_rules_rust.cache import Cache
from pytest_rules_rust.workspaces import materialise

# (workspace, cargo features, tools it needs). The default features of every workspace are tested by
# test_workspace_cargo.py; here only the allocator variants. Each (workspace, features) pair gets its
# own target directory: the same crate version vendored for two lockfiles would otherwise overwrite
# the other's build on every alternation.
CARGO_TESTS = [
    pytest.param("alloc_bench", "jemalloc", ("cargo", "make"), id="alloc_bench-jemalloc"),
    pytest.param("alloc_bench", "mimalloc", ("cargo",), id="alloc_bench-mimalloc"),
]
VARIANTS = {"system": "", "jemalloc": "jemalloc", "mimalloc": "mimalloc"}
WORKLOADS = ["larson", "xmalloc", "baseline"]
RESULT = re.compile(r"test result: (ok|FAILED)\. (\d+) passed; (\d+) failed")
FIELDS = {
    "workload": str,
    "allocator": str,
    "threads": int,
    "ops": int,
    "ops_per_thread": int,
    "seed": int,
    "elapsed_s": float,
    "ops_per_s": float,
    "user_s": float,
    "sys_s": float,
    "max_rss_kib": int,
    "target": str,
    "checksum": int,
}


@pytest.fixture(scope="session")
def program_workspaces(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Each of the three workspaces materialised once with its defaults (kept by pytest on failure)."""
    base = tmp_path_factory.mktemp("programs")
    return {
        name: materialise(name, base / name).root for name in ("proto", "musl_jemalloc_oci", "alloc_bench")
    }


def _features(features: str) -> list[str]:
    return ["--features", features] if features else []


def _group(name: str, features: str) -> str:
    return f"{name}-{features or 'default'}"


@pytest.mark.parametrize(("name", "features", "tools"), CARGO_TESTS)
def test_cargo_tests_pass_offline_and_locked(
    name: str,
    features: str,
    tools: tuple[str, ...],
    program_workspaces: dict[str, Path],
    rules_rust_cache: Cache,
    tmp_path: Path,
) -> None:
    require_tools(*tools)
    workspace = program_workspaces[name]
    run = cargo(
        workspace,
        ["test", *_features(features)],
        rules_rust_cache,
        tmp_path / "cargo-test.log",
        group=_group(name, features),
    )
    assert run.rc == 0, f"cargo test failed in {workspace} (exit {run.rc}); full log: {run.log}\n{run.tail()}"
    results = RESULT.findall(run.log.read_text(errors="replace"))
    assert results, f"no test results in {run.log}"
    assert all(status == "ok" and failed == "0" for status, _, failed in results), run.log
    assert sum(int(passed) for _, passed, _ in results) > 0, f"cargo test ran no tests: {run.log}"


@pytest.fixture(scope="session")
def alloc_bench_binaries(
    program_workspaces: dict[str, Path], rules_rust_cache: Cache, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Path]:
    """alloc_bench built once per allocator variant (debug) and copied out of the shared target dir."""
    require_tools("cargo", "make")
    out = tmp_path_factory.mktemp("alloc_bench_bins")
    binaries: dict[str, Path] = {}
    for variant, features in VARIANTS.items():
        log = out / f"build-{variant}.log"
        group = _group("alloc_bench", features)
        run = cargo(
            program_workspaces["alloc_bench"],
            ["build", *_features(features)],
            rules_rust_cache,
            log,
            group=group,
        )
        assert run.rc == 0, f"building alloc_bench ({variant}) failed; log: {log}\n{run.tail()}"
        copy = out / f"alloc_bench-{variant}"
        copy.write_bytes(built_binary(rules_rust_cache, "alloc_bench", group).read_bytes())
        copy.chmod(0o755)
        binaries[variant] = copy
    return binaries


def _run(binary: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(binary), *args], capture_output=True, text=True, timeout=120)


def _host_triple() -> str:
    arch = {"amd64": "x86_64", "arm64": "aarch64"}.get(platform.machine().lower(), platform.machine())
    return f"{arch}-unknown-linux-gnu"


@pytest.mark.parametrize("variant", list(VARIANTS))
@pytest.mark.parametrize("workload", WORKLOADS)
def test_alloc_bench_prints_one_json_line_with_the_schema(
    alloc_bench_binaries: dict[str, Path], variant: str, workload: str
) -> None:
    result = _run(alloc_bench_binaries[variant], "--workload", workload, "--threads", "3", "--ops", "4000")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 1, result.stdout
    record = json.loads(lines[0])
    assert set(record) == set(FIELDS), sorted(set(record) ^ set(FIELDS))
    for key, kind in FIELDS.items():
        allowed = (int, float) if kind is float else (kind,)
        assert isinstance(record[key], allowed) and not isinstance(record[key], bool), (key, record[key])
    assert (record["workload"], record["allocator"], record["threads"]) == (workload, variant, 3)
    assert (record["ops_per_thread"], record["ops"]) == (4000, 12000)
    assert record["target"] == _host_triple()
    assert record["elapsed_s"] > 0 and record["max_rss_kib"] > 0
    assert record["user_s"] >= 0 and record["sys_s"] >= 0
    # ops_per_s is derived from the other two fields (printed to 0.1 op/s; elapsed_s to 1 ns).
    rel = max(1e-6, 1e-9 / record["elapsed_s"])
    assert record["ops_per_s"] == pytest.approx(record["ops"] / record["elapsed_s"], rel=rel, abs=0.1)


def test_alloc_bench_lists_workloads_and_is_deterministic(alloc_bench_binaries: dict[str, Path]) -> None:
    binary = alloc_bench_binaries["system"]
    listed = _run(binary, "--list-workloads")
    assert listed.returncode == 0 and listed.stdout.split() == WORKLOADS
    args = ("--workload", "larson", "--threads", "2", "--ops", "30000")
    first, again = (json.loads(_run(binary, *args, "--seed", "7").stdout) for _ in range(2))
    other = json.loads(_run(binary, *args, "--seed", "8").stdout)
    assert first["checksum"] == again["checksum"]
    assert first["checksum"] != other["checksum"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--workload", "larsen"], "choose one of larson, xmalloc, baseline"),
        (["--threads", "0"], "--threads must be between 1 and 1024"),
        (["--ops", "many"], "--ops expects a non-negative integer"),
        (["--frobnicate"], "unknown argument"),
    ],
)
def test_alloc_bench_rejects_bad_arguments(
    alloc_bench_binaries: dict[str, Path], args: list[str], message: str
) -> None:
    result = _run(alloc_bench_binaries["system"], *args)
    assert result.returncode == 2
    assert message in result.stderr
    assert result.stdout == ""
