"""``python -m pytest_rules_rust inspect-image PATH [--json]`` on real layouts, good and tampered."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from pytest_rules_rust.containers.oci_write import Layout, assemble_service_image
from pytest_rules_rust.platforms import Platform

PLATFORM_KEYS = {
    "findings",
    "os",
    "architecture",
    "variant",
    "digest",
    "entrypoint",
    "cmd",
    "env",
    "exposed_ports",
    "user",
    "workdir",
    "labels",
    "layers",
    "files",
}


def _main(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """In-process run (fast); the subprocess form is kept for the no-traceback check."""
    from pytest_rules_rust.cli import main

    rc = main(["inspect-image", *args])
    out = capsys.readouterr()
    return rc, out.out, out.err


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest_rules_rust", "inspect-image", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def index(tmp_path: Path, responders: dict[Platform, Path]) -> Layout:
    return assemble_service_image(responders, tmp_path / "image_index", ["/bin"], ["3232"], compress=True)


def test_json_keys_and_values(index: Layout, capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, err = _main(capsys, str(index.path), "--json")
    assert rc == 0, err
    data = json.loads(out)
    assert set(data) == {"digest", "short_tag", "platforms"}
    assert (data["digest"], data["short_tag"]) == (index.digest, index.tag_file.read_text().strip())
    assert [set(p) for p in data["platforms"]] == [PLATFORM_KEYS, PLATFORM_KEYS]
    assert [(p["architecture"], p["variant"]) for p in data["platforms"]] == [("amd64", ""), ("arm64", "v8")]
    assert all(p["exposed_ports"] == ["3232/tcp"] and p["files"] == ["/bin"] for p in data["platforms"])


def test_text_output(index: Layout, capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, err = _main(capsys, str(index.path))
    assert rc == 0, err
    assert f"short_tag: {index.short_tag}" in out
    assert "linux/arm64/v8:" in out and "-r-xr-xr-x 0:0" in out


def test_tampered_blob_is_one_line_without_traceback(index: Layout) -> None:
    nested = json.loads((index.path / "blobs" / "sha256" / index.digest[7:]).read_text())
    manifest = nested["manifests"][0]["digest"]
    blob = index.path / "blobs" / "sha256" / manifest[7:]
    blob.write_bytes(blob.read_bytes().replace(b"schemaVersion", b"schemaversion"))
    done = _cli(str(index.path))
    assert done.returncode == 1
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("error: ") and f"digest mismatch for blob {manifest}" in lines[0]
    assert "Traceback" not in done.stderr
    as_json = _cli(str(index.path), "--json")
    assert (as_json.returncode, as_json.stderr) == (1, "")
    assert f"digest mismatch for blob {manifest}" in json.loads(as_json.stdout)["error"]["message"]


def test_missing_path_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        _main(capsys, str(tmp_path / "nope"))
    err = capsys.readouterr().err
    assert exited.value.code == 2
    assert f"argument PATH: {tmp_path / 'nope'} does not exist (no such file or directory)" in err
