"""Fixtures for ELF inspection: one object bundling inspect/run/assert with the run's qemu settings.

Thin wrapper over :mod:`pytest_rules_rust.inspect` (``inspect_binary``, ``assert_binary``) and
:mod:`pytest_rules_rust.execution` (``run_binary``, ``assert_runs``), which work the same without
pytest. Settings used: ``--rr-qemu`` (auto | binfmt | path of a qemu-user binary; default auto) and
``--rr-run-timeout`` (seconds, default 30).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Unpack

import pytest

from ..execution import RunResult, assert_runs, run_binary
from ..inspect.assertions import BinaryExpectations, assert_binary
from ..inspect.elf import BinaryInfo, inspect_binary
from ..settings import Settings

PathLike = str | os.PathLike[str]


@dataclass(frozen=True)
class BinaryInspector:
    """``inspect``/``run``/``check``/``check_runs`` with the session's qemu route and timeout."""

    qemu: str = "auto"
    timeout_s: float = 30.0

    def inspect(self, path: PathLike) -> BinaryInfo:
        """What the ELF file is (machine, linkage, libc, allocators, … with evidence)."""
        return inspect_binary(path)

    def run(self, path: PathLike, args: Sequence[str] = (), **kwargs: Any) -> RunResult:
        """Run natively or through qemu; never raises on a non-zero exit."""
        kwargs.setdefault("qemu", self.qemu)
        kwargs.setdefault("timeout_s", self.timeout_s)
        return run_binary(path, args, **kwargs)

    def check(
        self, path_or_info: PathLike | BinaryInfo, **expected: Unpack[BinaryExpectations]
    ) -> BinaryInfo:
        """``assert_binary``: fails once listing every mismatch with its evidence."""
        __tracebackhide__ = True
        return assert_binary(path_or_info, **expected)

    def check_runs(self, path: PathLike, args: Sequence[str] = (), **expected: Any) -> RunResult:
        """``assert_runs``: runs (qemu for foreign binaries) and asserts exit code and output."""
        __tracebackhide__ = True
        expected.setdefault("qemu", self.qemu)
        expected.setdefault("timeout_s", self.timeout_s)
        return assert_runs(path, args, **expected)


@pytest.fixture(scope="session")
def binary_inspector(rules_rust_settings: Settings) -> BinaryInspector:
    """Inspect, run and assert on built binaries.

    ``binary_inspector.check(path, arch="arm64", linkage="static", libc="musl", allocator="jemalloc")``
    fails with one Expected/Actual line per mismatch plus the evidence (interpreter, NEEDED,
    symbol versions, symbols or strings). Hardening and the glibc floor, as release gates check
    them: ``check(path, relro="full", nx=True, bind_now=True, stack_protector=True, fortify=True,
    glibc_max="2.28")``. ``binary_inspector.run(path, ["--version"])`` runs an
    aarch64 binary through binfmt_misc or ``qemu-aarch64-static`` (``--rr-qemu``), with
    ``--rr-run-timeout``. Override this fixture to change the qemu route or timeout for a directory.
    """
    return BinaryInspector(qemu=rules_rust_settings.qemu, timeout_s=rules_rust_settings.run_timeout_s)
