"""The matrix report on its own: merging, rendering, atomic writes."""

from __future__ import annotations

import json
from pathlib import Path

from elf_samples import ElfSamples, shared_samples

from pytest_rules_rust.builders.base import Artifact, BuildRequest, BuildResult
from pytest_rules_rust.inspect.elf import inspect_binary
from pytest_rules_rust.platforms import AMD64
from pytest_rules_rust.report import (
    MatrixEntry,
    MatrixReport,
    entry_from_image,
    entry_from_result,
    write_atomic,
)
from pytest_rules_rust.workspaces import Workspace


def test_more_telling_status_wins_and_keeps_duration() -> None:
    rep = MatrixReport()
    rep.add(MatrixEntry("cross", "linux/arm64", "cargo", status="built", duration_s=3.0, binary_size=10))
    rep.add(MatrixEntry("cross", "linux/arm64", "cargo", status="ran"))
    rep.add(MatrixEntry("cross", "linux/arm64", "cargo", status="skipped", reason="later skip"))
    (entry,) = rep.sorted()
    assert entry.status == "ran"
    assert entry.duration_s == 3.0
    assert entry.binary_size == 10


def test_failure_outranks_success() -> None:
    rep = MatrixReport()
    rep.add(MatrixEntry("proto", "linux/amd64", "cargo", status="ran"))
    rep.add(MatrixEntry("proto", "linux/amd64", "cargo", status="failed", reason="build error", log="/x.log"))
    assert rep.counts() == {"failed": 1}


def test_libc_and_profile_are_separate_cells() -> None:
    rep = MatrixReport()
    rep.add(MatrixEntry("alloc_bench", "linux/amd64", "cargo", libc="gnu"))
    rep.add(MatrixEntry("alloc_bench", "linux/amd64", "cargo", libc="musl"))
    rep.add(MatrixEntry("alloc_bench", "linux/amd64", "cargo", libc="musl", profile="release"))
    assert len(rep.sorted()) == 3


def test_text_table_aligns_columns() -> None:
    rep = MatrixReport()
    rep.add(
        MatrixEntry(
            "musl_jemalloc_oci",
            "linux/arm64",
            "cargo",
            libc="musl",
            profile="release",
            status="ran",
            duration_s=95.25,
            binary_size=3 << 20,
            hardening="no PIE, partial RELRO, NX, SSP unknown, FORTIFY unknown",
        )
    )
    rep.add(MatrixEntry("cross", "linux/amd64", "cargo", glibc_floor="2.34", hardening="PIE, full RELRO"))
    rep.add(MatrixEntry("cross", "linux/amd64", "bazel", status="skipped", reason="Bazel unavailable"))
    lines = rep.to_text().splitlines()
    assert lines[0].split() == [
        "workspace",
        "platform",
        "builder",
        "libc",
        "profile",
        "status",
        "duration",
        "binary",
        "size",
        "glibc",
        "floor",
        "hardening",
    ]
    assert "95.2 s" in lines[3] and "3.0 MiB" in lines[3]
    assert lines[3].endswith("  -            no PIE, partial RELRO, NX, SSP unknown, FORTIFY unknown")
    assert lines[2].endswith("  2.34         PIE, full RELRO")
    assert lines[1].index("linux/amd64") == lines[3].index("linux/arm64")
    assert "| 2.34 | PIE, full RELRO |" in rep.to_markdown()
    cell = rep.to_json()["matrix"][1]
    assert (cell["glibc_floor"], cell["hardening"]) == ("2.34", "PIE, full RELRO")


def test_write_is_versioned_and_copies_plots(tmp_path: Path) -> None:
    plot = tmp_path / "src" / "throughput.png"
    plot.parent.mkdir()
    plot.write_bytes(b"\x89PNG fake-but-irrelevant-bytes")
    rep = MatrixReport(plots=[plot])
    rep.add(MatrixEntry("cross", "linux/amd64", "cargo"))
    out = tmp_path / "out"
    rep.write(out)
    assert json.loads((out / "matrix.json").read_text())["plots"] == ["throughput.png"]
    assert (out / "throughput.png").read_bytes() == plot.read_bytes()
    assert "![throughput](throughput.png)" in (out / "matrix.md").read_text()


def test_atomic_write_leaves_no_temporary_files(tmp_path: Path) -> None:
    target = tmp_path / "a.json"
    write_atomic(target, "one")
    write_atomic(target, "two")
    assert target.read_text() == "two"
    assert [p.name for p in tmp_path.iterdir()] == ["a.json"]


def _result(tmp_path: Path, binaries: dict[str, Path]) -> BuildResult:
    request = BuildRequest(Workspace("ws", tmp_path, {}), AMD64)
    artifacts = tuple(Artifact(path, "binary", target) for target, path in binaries.items())
    return BuildResult(request, "cargo", artifacts, tmp_path / "build.log", 1.0)


def test_a_built_cell_shows_its_binaries_glibc_floor_and_hardening(tmp_path: Path) -> None:
    samples: ElfSamples = shared_samples()
    hardened, unhardened = samples.get("hardened"), samples.get("unhardened")
    entry = entry_from_result(_result(tmp_path, {"a": hardened}))
    info = inspect_binary(hardened)
    assert info.glibc_floor and entry.glibc_floor == info.glibc_floor
    assert entry.hardening == info.hardening and "full RELRO" in entry.hardening
    both = entry_from_result(_result(tmp_path, {"a": hardened, "b": unhardened}))
    assert both.hardening == f"a: {info.hardening}; b: {inspect_binary(unhardened).hardening}"


def test_a_cell_whose_binary_is_not_elf_leaves_the_columns_empty(tmp_path: Path) -> None:
    script = tmp_path / "bin.sh"
    script.write_text("#!/bin/sh\necho hi\n")
    entry = entry_from_result(_result(tmp_path, {"bin": script}))
    assert entry.status == "built" and entry.glibc_floor is None and entry.hardening == ""


def test_an_image_cell_is_its_builds_cell_named_after_the_image(tmp_path: Path) -> None:
    result = _result(tmp_path, {})
    entry = entry_from_image(result, "0052277", status="ran", duration_s=2.0)
    assert entry.workspace == "ws (image 0052277)" and entry.status == "ran" and entry.duration_s == 2.0
    built = entry_from_result(result)
    assert entry.key[1:] == built.key[1:], "same platform, builder, libc and profile as the build"


def test_builds_that_differ_by_parameters_are_separate_cells(tmp_path: Path) -> None:
    from pytest_rules_rust.report import entry_for
    from pytest_rules_rust.workspaces import materialise

    defaults = materialise("cross", tmp_path / "a")
    newer = materialise("cross", tmp_path / "b", {"rules_rust_version": "0.63.0", "rust_versions": "1.80.0"})
    rep = MatrixReport()
    for ws in (defaults, newer):
        rep.add(entry_for(BuildRequest(ws, AMD64), "cargo", status="built"))
    labels = [row[0] for row in rep.table_rows()[1:]]
    assert labels == ["cross", "cross [rules_rust_version=0.63.0, rust_versions=1.80.0]"]
    cells = rep.to_json()["matrix"]
    assert [c["params"] for c in cells] == [{}, {"rules_rust_version": "0.63.0", "rust_versions": "1.80.0"}]
    assert MatrixEntry.from_json(cells[1]) == rep.sorted()[1]


def test_a_schema_1_entry_still_reads() -> None:
    old = {"workspace": "cross", "platform": "linux/amd64", "builder": "cargo", "status": "ran"}
    entry = MatrixEntry.from_json(old | {"a_later_field": 1})
    assert entry.params == {} and entry.label == "cross" and entry.status == "ran"


def test_a_failure_reason_carries_the_error_not_a_dangling_colon() -> None:
    from pytest_rules_rust.report.entries import one_line_reason

    message = (
        "cargo build of cross failed (exit code 101); last lines of the log:\n"
        "   Compiling cross v0.1.0\n"
        "error[E0308]: mismatched types\n"
        "error: could not compile `cross`\n"
    )
    assert one_line_reason(message) == (
        "cargo build of cross failed (exit code 101); last lines of the log: error[E0308]: mismatched types"
    )
    assert one_line_reason("image missing\nmore detail") == "image missing"
    assert one_line_reason("see below:\nlast words") == "see below: last words"


def test_the_table_shortens_a_long_reason_and_json_keeps_it(tmp_path: Path) -> None:
    reason = "Bazelisk could not download Bazel 7.4.1: " + "x" * 300
    report = MatrixReport()
    report.add(MatrixEntry("ws", "linux/amd64", "bazel", status="skipped", reason=reason))
    row = report.table_rows()[1]
    assert row[5].endswith("…)") and len(row[5]) < 140
    report.write(tmp_path)
    assert json.loads((tmp_path / "matrix.json").read_text())["matrix"][0]["reason"] == reason
