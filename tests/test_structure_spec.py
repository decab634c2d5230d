"""container-structure-test v2 specs applied to every platform of a real multi-arch scratch index."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from pytest_rules_rust.containers.load import docker_available
from pytest_rules_rust.containers.oci_write import Layout, write_image, write_index
from pytest_rules_rust.errors import UsageError
from pytest_rules_rust.inspect.oci import inspect_image
from pytest_rules_rust.inspect.structure import CommandsUnsupported, LayoutSource, StructureSpec
from pytest_rules_rust.platforms import ALL_PLATFORMS, Platform

GOOD = """\
schemaVersion: "2.0.0"
globalEnvVars:
  - key: RUST_LOG
    value: info
fileExistenceTests:
  - name: service binary
    path: /bin
    shouldExist: true
    permissions: "-r-xr-xr-x"
    uid: 0
    gid: 0
    isExecutableBy: any
  - name: no shell in scratch
    path: /bin/sh
    shouldExist: false
fileContentTests:
  - name: config
    path: /etc/service.toml
    expectedContents: ['port = 3232']
    excludedContents: ['debug = true']
metadataTest:
  entrypoint: ["/bin"]
  exposedPorts: ["3232"]
  unexposedPorts: ["22"]
  env:
    - key: TZ
      value: UTC
  labels:
    - key: org.opencontainers.image.source
      value: "https://example.invalid/.*"
      isRegex: true
  workdir: ""
commandTests:
  - name: version
    command: /bin
    args: ["--version"]
    expectedOutput: ['responder 1\\.0 on (x86_64|aarch64)']
    excludedError: ['.+']
  - name: failure exit code
    command: /bin
    args: ["--fail"]
    exitCode: 3
    expectedError: ['on purpose']
"""

BAD = """\
schemaVersion: "2.0.0"
fileExistenceTests:
  - name: wrong mode and owner
    path: /bin
    permissions: "-rwxr-xr-x"
    uid: 1000
  - name: missing
    path: /usr/bin/service
metadataTest:
  entrypoint: ["/service"]
  exposedPorts: ["8080"]
  env:
    - key: TZ
      value: Europe/Paris
  user: nobody
commandTests:
  - name: wrong exit
    command: /bin
    args: ["--fail"]
    exitCode: 0
"""


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory, responders: dict[Platform, Path]) -> Layout:
    out = tmp_path_factory.mktemp("structure")
    images = [
        write_image(
            out / f"img-{p.arch}",
            platform=p,
            entrypoint=["/bin"],
            exposed_ports=["3232"],
            env={"TZ": "UTC"},
            labels={"org.opencontainers.image.source": "https://example.invalid/svc"},
            files={"/bin": responders[p], "/etc/service.toml": b"port = 3232\n"},
        )
        for p in ALL_PLATFORMS
    ]
    return write_index(out / "image_index", images)


def _spec(tmp_path: Path, text: str) -> StructureSpec:
    path = tmp_path / "spec.yaml"
    path.write_text(textwrap.dedent(text))
    return StructureSpec.load(path)


needs_docker = pytest.mark.skipif(
    docker_available() is not None, reason=f"needs Docker: {docker_available()}"
)


@pytest.mark.container
@needs_docker
def test_good_spec_passes_on_both_platforms(index: Layout, tmp_path: Path) -> None:
    report = _spec(tmp_path, GOOD).check(index.path)
    report.assert_ok()
    assert {r.platform for r in report.results} == {"linux/amd64", "linux/arm64/v8"}
    # six checks from the spec plus the built-in layerSafety check, on each platform
    assert len(report.results) == 2 * 7 and all(r.passed for r in report.results)


@pytest.mark.container
@needs_docker
def test_every_mismatch_is_reported_expected_actual(index: Layout, tmp_path: Path) -> None:
    report = _spec(tmp_path, BAD).check(index.path)
    lines = report.lines()
    for platform in ("linux/amd64", "linux/arm64/v8"):
        mine = [line for line in lines if line.startswith(f"[{platform}]")]
        assert len(mine) == 8, mine
    text = "\n".join(lines)
    assert "incorrect permissions. Expected: -rwxr-xr-x, Actual: -r-xr-xr-x" in text
    assert "incorrect user ownership. Expected: 1000, Actual: 0" in text
    assert "File /usr/bin/service should exist but does not" in text
    assert "Image entrypoint does not match. Expected: ['/service'], Actual: ['/bin']" in text
    assert "Port 8080/tcp not found in config" in text
    assert "Env var TZ has the wrong value. Expected: Europe/Paris, Actual: UTC" in text
    assert "Image user does not match. Expected: 'nobody', Actual: ''" in text
    assert "exited with incorrect error code. Expected: 0, Actual: 3" in text
    with pytest.raises(AssertionError, match="16 structure mismatch"):
        report.assert_ok()


def test_file_and_metadata_checks_need_no_docker(index: Layout, tmp_path: Path) -> None:
    report = _spec(tmp_path, GOOD).check(index.path, run_commands=False)
    assert report.ok
    skipped = [r for r in report.results if r.skipped]
    assert [r.name for r in skipped] == ["version", "failure exit code"] * 2
    assert all("command tests need Docker" in r.skipped for r in skipped)


def test_unset_fields_are_not_checked(index: Layout, tmp_path: Path) -> None:
    spec = _spec(tmp_path, 'schemaVersion: "2.0.0"\nmetadataTest:\n  exposedPorts: ["3232/tcp"]\n')
    assert spec.check(index.path, run_commands=False).ok
    spec = _spec(tmp_path, 'schemaVersion: "2.0.0"\nmetadataTest:\n  cmd: ["x"]\n')
    assert "Image cmd does not match. Expected: ['x'], Actual: []" in spec.check(index.path).lines()[0]


def test_layout_source_refuses_commands(index: Layout) -> None:
    info = inspect_image(index.path)
    with pytest.raises(CommandsUnsupported, match="cannot run commands"):
        LayoutSource(info, info.platforms[0]).run(["/bin"], {})


def test_single_platform_selection(index: Layout, tmp_path: Path) -> None:
    report = _spec(tmp_path, BAD).check(index.path, platforms=["linux/arm64"], run_commands=False)
    assert {r.platform for r in report.results} == {"linux/arm64/v8"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('schemaVersion: "1.0.0"\n', 'schemaVersion must be "2.0.0"'),
        (
            'schemaVersion: "2.0.0"\nfileExistanceTests: []\n',
            "unknown key 'fileExistanceTests' in the top level",
        ),
        (
            'schemaVersion: "2.0.0"\nfileExistenceTests:\n  - name: a\n    path: /x\n    shouldexist: true\n',
            r"spec.yaml:3: unknown key 'shouldexist' in fileExistenceTests\[0\]",
        ),
        (
            'schemaVersion: "2.0.0"\ncommandTests:\n  - name: a\n',
            r"spec.yaml:3: commandTests\[0\] has no 'command'",
        ),
        (
            'schemaVersion: "2.0.0"\ncommandTests:\n  - name: a\n    command: x\n    args: "--v"\n',
            r"spec.yaml:3: commandTests\[0\].args must be a list",
        ),
        ("schemaVersion: [\n", "not valid YAML"),
    ],
)
def test_bad_specs_name_file_line_and_key(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        _spec(tmp_path, text)
