"""Shared helpers for the cargo builder tests: the build matrix and what each binary must print."""

from __future__ import annotations

import contextlib
import json
import socket
import subprocess
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from pytest_rules_rust.builders.cargo import read_manifest
from pytest_rules_rust.execution import run_binary
from pytest_rules_rust.inspect.elf import inspect_binary
from pytest_rules_rust.platforms import Platform

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "fixture_workspaces"


def matrix() -> Iterator[object]:
    """(template, platform, libc) for every fixture workspace's cargo side: both platforms, its libcs."""
    for manifest in sorted(TEMPLATES.glob("*/rules_rust_template.toml")):
        name = manifest.parent.name
        for libc in read_manifest(manifest.parent).libcs:
            for platform in ("linux/amd64", "linux/arm64"):
                marks = [pytest.mark.cross] if platform == "linux/arm64" else []
                if libc == "musl":
                    marks.append(pytest.mark.musl)
                if name == "proto":
                    marks.append(pytest.mark.proto)
                yield pytest.param(
                    name, platform, libc, marks=marks, id=f"{name}-{platform.split('/')[1]}-{libc}"
                )


def check_elf(path: Path, platform: Platform, libc: str) -> None:
    """The binary is for ``platform``'s CPU; musl ones are static and carry musl, gnu ones glibc."""
    info = inspect_binary(path)
    assert info.machine == platform.cpu, info.summary
    if libc == "musl":
        assert info.linkage == "static", info.summary
        assert info.interpreter is None, info.summary
        assert info.libc == "musl", info.evidence
    else:
        assert info.libc == "glibc", info.evidence


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def listening(argv: list[str]) -> Iterator[subprocess.Popen[str]]:
    """Start a server (aarch64 through binfmt's qemu), wait for its ``listening on`` line, kill it after."""
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith("listening on"), line
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()


def check_service(binary: Path, platform: Platform) -> None:
    """Start the musl service on 127.0.0.1 (aarch64 through binfmt's qemu) and ``GET /`` from the host."""
    described = run_binary(binary, ["--allocator"], timeout_s=60)
    assert described.rc == 0 and "jemalloc" in described.stdout.lower(), described
    port = free_port()
    with listening([str(binary), "--bind", "127.0.0.1", "--port", str(port), "--once"]) as proc:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=30) as response:
            status, body = response.status, response.read().decode()
        assert status == 200
        assert body.strip() == f"ok {platform.cpu}", body
        assert proc.wait(timeout=30) == 0


def check_greeter(server: Path, client: Path) -> None:
    """Start the gRPC server on a free port, call it with the client, check the reply."""
    port = free_port()
    with listening([str(server), "--addr", f"127.0.0.1:{port}"]):
        reply = run_binary(client, ["--addr", f"http://127.0.0.1:{port}", "--name", "rr"], timeout_s=120)
        assert reply.rc == 0 and reply.stdout.strip() == "Hello rr!", reply


def check_output(name: str, binary: Path, platform: Platform) -> None:
    """Run the binary (qemu through binfmt for aarch64) and check what it prints."""
    if name == "proto":
        if binary.name == "greeter_server":
            check_greeter(binary, binary.with_name("greeter_client"))
        return
    if name == "musl_jemalloc_oci":
        check_service(binary, platform)
        return
    if name == "alloc_bench":
        result = run_binary(binary, ["--threads", "2", "--ops", "2000"], timeout_s=120)
        assert result.rc == 0, result
        record = json.loads(result.stdout.strip().splitlines()[-1])
        assert isinstance(record, dict) and record, result.stdout
        return
    result = run_binary(binary, timeout_s=120)
    assert result.rc == 0, result
    assert result.stdout.splitlines()[0] == f"hello from {platform.cpu}", result.stdout
