"""``binaryTests`` in a structure spec: facts required of every ELF file in a real two-platform
scratch index (read from the layout, no Docker), with each mismatch worded Expected/Actual."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from elf_samples import ElfSamples, shared_samples

from pytest_rules_rust.containers.oci_write import Layout, write_image, write_index
from pytest_rules_rust.errors import UsageError
from pytest_rules_rust.inspect.structure import StructureSpec
from pytest_rules_rust.platforms import AMD64, ARM64

HARDENED = """\
schemaVersion: "2.0.0"
binaryTests:
  - name: every binary is hardened and runs on glibc 2.34
    pie: true
    relro: full
    bindNow: true
    nx: true
    stackProtector: true
    fortify: true
    glibcMax: "2.34"
    linkage: dynamic
"""

RELEASE_PROMISES = """\
schemaVersion: "2.0.0"
binaryTests:
  - name: what a static release profile promises
    paths: ["/app/hello"]
    static: true
    interpreter: null
    stripped: true
    glibcMax: "2.28"
"""


@pytest.fixture(scope="module")
def samples() -> ElfSamples:
    """Real sample binaries built once per machine (see tests/elf_samples.py)."""
    return shared_samples()


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory, samples: ElfSamples) -> Layout:
    out = tmp_path_factory.mktemp("binaries")
    binaries = {AMD64: samples.get("hardened"), ARM64: samples.get("aarch64-hardened")}
    images = [
        write_image(
            out / f"img-{p.arch}",
            platform=p,
            entrypoint=["/app/hello"],
            files={"/app/hello": binary, "/etc/app.toml": b"port = 3232\n" * 10},
        )
        for p, binary in binaries.items()
    ]
    return write_index(out / "image_index", images)


def _spec(tmp_path: Path, text: str) -> StructureSpec:
    path = tmp_path / "spec.yaml"
    path.write_text(textwrap.dedent(text))
    return StructureSpec.load(path)


def test_every_binary_meets_the_spec_on_both_platforms(index: Layout, tmp_path: Path) -> None:
    report = _spec(tmp_path, HARDENED).check(index.path)
    report.assert_ok()
    assert [(r.platform, r.kind, r.passed) for r in report.results if r.kind == "binaryTests"] == [
        ("linux/amd64", "binaryTests", True),
        ("linux/arm64/v8", "binaryTests", True),
    ]


def test_each_unmet_promise_is_one_line_with_evidence(index: Layout, tmp_path: Path) -> None:
    lines = _spec(tmp_path, RELEASE_PROMISES).check(index.path).lines()
    for platform in ("linux/amd64", "linux/arm64/v8"):
        mine = [line.split("': ", 1)[1] for line in lines if line.startswith(f"[{platform}]")]
        assert len(mine) == 4, mine
        assert mine[0].startswith(
            "/app/hello: static: Expected: True, Actual: False (evidence: linkage dynamic"
        )
        assert mine[1] == "/app/hello: stripped: Expected: True, Actual: False (evidence: .symtab present)"
        assert mine[2].startswith(
            "/app/hello: glibc_max: Expected: at most GLIBC_2.28, Actual: GLIBC_2.34 "
            "(evidence: GLIBC_2.34 from libc.so.6: __libc_start_main"
        )
        assert mine[3].startswith("/app/hello: interpreter: Expected: None, Actual: /lib")


def test_an_image_without_binaries_fails_rather_than_passing_empty(tmp_path: Path) -> None:
    layout = write_image(
        tmp_path / "img", platform=AMD64, entrypoint=["/x"], files={"/etc/app.toml": b"x = 1\n" * 20}
    )
    report = _spec(tmp_path, HARDENED).check(layout.path)
    assert report.lines() == [
        "[linux/amd64] binaryTests 'every binary is hardened and runs on glibc 2.34': "
        "No ELF file in the image. Expected: at least one binary, Actual: none"
    ]


def test_a_listed_path_that_is_not_elf_is_named(index: Layout, tmp_path: Path) -> None:
    spec = RELEASE_PROMISES.replace("/app/hello", "/etc/app.toml")
    lines = _spec(tmp_path, spec).check(index.path, platforms=["linux/amd64"]).lines()
    assert len(lines) == 1 and lines[0].endswith("/etc/app.toml: not an ELF file (starts with b'port')")


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("relro: yes", r"spec.yaml:3: binaryTests\[0\].relro must be one of none, partial, full"),
        ("nx: 1", r"spec.yaml:3: binaryTests\[0\].nx must be true or false"),
        ('glibcMax: "new"', r'spec.yaml:3: binaryTests\[0\].glibcMax must be a glibc version like "2.28"'),
        ("hardened: true", r"spec.yaml:3: unknown key 'hardened' in binaryTests\[0\]"),
    ],
)
def test_bad_values_name_file_line_and_key(tmp_path: Path, line: str, message: str) -> None:
    text = f'schemaVersion: "2.0.0"\nbinaryTests:\n  - name: x\n    {line}\n'
    with pytest.raises(UsageError, match=message):
        _spec(tmp_path, text)
