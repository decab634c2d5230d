"""Hostile OCI inputs, built for real on disk: each gives a clear error or a finding, never a hang,
a traceback, a followed symlink or an unbounded read.

The limits are lowered where that keeps a test fast; ``benchmarks/inspect_memory.py`` measures the
peak memory of the same inputs at full size (a 1 GiB layer, a gzip bomb).
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tarfile
from dataclasses import replace
from pathlib import Path

import pytest
from oci_hostile_helpers import GZIP_LAYER, member, tar_of, write_layout, zero_bomb

from pytest_rules_rust.errors import InspectError
from pytest_rules_rust.inspect.bounded import DEFAULT_LIMITS, MiB
from pytest_rules_rust.inspect.oci import inspect_image
from pytest_rules_rust.inspect.structure import StructureSpec


def test_gzip_bomb_stops_at_the_ratio_limit(tmp_path: Path) -> None:
    bomb, diff_id = zero_bomb(64 * MiB)
    assert len(bomb) < 100_000  # ~1000:1
    write_layout(tmp_path, bomb, media_type=GZIP_LAYER, diff_id=diff_id)
    limits = replace(DEFAULT_LIMITS, ratio_floor_bytes=4 * MiB)
    with pytest.raises(InspectError, match=r"unpacks to more than 100 times its compressed size"):
        inspect_image(tmp_path, limits=limits)
    # the same layer is read in full (streamed) when the limit allows it
    image = inspect_image(tmp_path, limits=replace(limits, max_ratio=2000)).platforms[0]
    assert image.filesystem()["/zeros"].size == 64 * MiB


def test_total_unpacked_size_is_capped(tmp_path: Path) -> None:
    write_layout(tmp_path, tar_of([member("big", b"x" * (3 * MiB))]))
    with pytest.raises(InspectError, match=r"unpacks past the limit of 2 MiB for the whole image"):
        inspect_image(tmp_path, limits=replace(DEFAULT_LIMITS, max_unpacked_bytes=2 * MiB))


def test_blob_that_is_a_symlink_is_refused_not_followed(tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    secret.write_bytes(b"root:$6$not-for-you\n")
    layout = tmp_path / "layout"
    layer = write_layout(layout, tar_of([member("x", b"x")]))
    blob = layout / "blobs" / "sha256" / layer[7:]
    blob.unlink()
    blob.symlink_to(secret)
    with pytest.raises(InspectError, match="is a symlink") as caught:
        inspect_image(layout)
    assert hashlib.sha256(secret.read_bytes()).hexdigest() not in str(caught.value)


def test_blobs_directory_that_is_a_symlink_is_refused(tmp_path: Path) -> None:
    layout = tmp_path / "layout"
    write_layout(layout, tar_of([member("x", b"x")]))
    (layout / "blobs").rename(tmp_path / "elsewhere")
    (layout / "blobs").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(InspectError, match="blobs is a symlink"):
        inspect_image(layout)


def test_fifo_blob_is_refused_without_blocking(tmp_path: Path) -> None:
    layer = write_layout(tmp_path, tar_of([member("x", b"x")]))
    blob = tmp_path / "blobs" / "sha256" / layer[7:]
    blob.unlink()
    os.mkfifo(blob)
    with pytest.raises(InspectError, match="is not a regular file"):
        inspect_image(tmp_path)


def test_blob_larger_than_declared_is_refused_before_reading(tmp_path: Path) -> None:
    layer = write_layout(tmp_path, tar_of([member("x", b"x")]))
    blob = tmp_path / "blobs" / "sha256" / layer[7:]
    with blob.open("ab") as grow:
        grow.truncate(blob.stat().st_size + 1024**3)  # sparse: 1 GiB more than the manifest says
    with pytest.raises(InspectError, match=r"is \d+ bytes, descriptor says 10240"):
        inspect_image(tmp_path)


def test_deeply_nested_index_is_an_error_not_a_recursion_traceback(tmp_path: Path) -> None:
    write_layout(tmp_path, tar_of([member("x", b"x")]))
    depth = 200_000
    (tmp_path / "index.json").write_text('{"manifests": ' + "[" * depth + "]" * depth + "}")
    with pytest.raises(InspectError, match=r"index\.json nests deeper than 64 levels"):
        inspect_image(tmp_path)
    done = subprocess.run(
        [sys.executable, "-m", "pytest_rules_rust", "inspect-image", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert done.stderr.startswith("error:") and "nests deeper" in done.stderr


def test_oversized_json_blob_is_refused(tmp_path: Path) -> None:
    write_layout(tmp_path, tar_of([member("x", b"x")]))
    (tmp_path / "index.json").write_bytes(b" " * (5 * MiB) + b"{}")
    with pytest.raises(InspectError, match=r"index\.json is 5 MiB, more than the 4 MiB allowed"):
        inspect_image(tmp_path)


def test_huge_pax_header_is_refused(tmp_path: Path) -> None:
    info, data = member("x", b"x")
    info.pax_headers = {"comment": "c" * (2 * MiB)}
    write_layout(tmp_path, tar_of([(info, data)], format=tarfile.PAX_FORMAT))
    with pytest.raises(InspectError, match="a tar extended header is 2 MiB"):
        inspect_image(tmp_path)


def test_truncated_layer_is_an_error(tmp_path: Path) -> None:
    whole = tar_of([member("x", b"y" * 5000)])
    write_layout(tmp_path, whole[:3000])
    with pytest.raises(InspectError, match="truncated"):
        inspect_image(tmp_path)


UNSAFE = [
    member("../escape", b"x"),
    member("/etc/absolute", b"x"),
    member("dev/null", kind=tarfile.CHRTYPE, devmajor=1, devminor=3),
    member("link", kind=tarfile.LNKTYPE, linkname="../../etc/shadow"),
    member("ok", b"fine"),
]


def test_unsafe_entries_are_findings(tmp_path: Path) -> None:
    write_layout(tmp_path, tar_of(UNSAFE))
    (image,) = inspect_image(tmp_path).platforms
    problems = "\n".join(image.findings)
    assert len(image.findings) == 4, problems
    for expected in (
        "path traversal '../escape'",
        "absolute path '/etc/absolute'",
        "character device 'dev/null' (1,3)",
        "hard link 'link' points outside the layer ('../../etc/shadow')",
    ):
        assert expected in problems


def test_structure_spec_fails_on_unsafe_entries_by_default(tmp_path: Path) -> None:
    layout = tmp_path / "layout"
    write_layout(layout, tar_of(UNSAFE))
    spec_file = tmp_path / "spec.yaml"
    spec_file.write_text('schemaVersion: "2.0.0"\nfileExistenceTests:\n  - name: ok\n    path: /ok\n')
    spec = StructureSpec.load(spec_file)
    report = spec.check(layout, run_commands=False)
    assert not report.ok
    assert [r.kind for r in report.failures] == ["layerSafety"]
    assert any("path traversal '../escape'" in line for line in report.lines())
    assert spec.check(layout, run_commands=False, allow_unsafe_entries=True).ok


def test_cli_lists_findings_and_fails_unless_allowed(tmp_path: Path) -> None:
    write_layout(tmp_path, tar_of(UNSAFE))

    def cli(*extra: str) -> subprocess.CompletedProcess[str]:
        argv = [sys.executable, "-m", "pytest_rules_rust", "inspect-image", str(tmp_path), *extra]
        return subprocess.run(argv, capture_output=True, text=True, timeout=60)

    refused = cli()
    assert refused.returncode == 1 and "Traceback" not in refused.stderr
    assert "finding:" in refused.stderr and "--allow-unsafe-entries" in refused.stderr
    assert cli("--allow-unsafe-entries").returncode == 0
