"""Our side of the conversation with Bazel: command lines, platforms, exit codes, containers.

Bazel itself cannot be installed here, so the end-to-end tests run a stand-in
(tests/data/fake_bazel/bazel) that replays a stream recorded by a real Bazel; the test that needs a
real Bazel skips with exactly that reason.
"""

from __future__ import annotations

import io
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from pytest_rules_rust.builders.base import BuildRequest
from pytest_rules_rust.builders.bazel import (
    NO_BAZEL_REASON,
    BazelBuilder,
    BazelPaths,
    build_command,
    explain_exit,
    failure,
    fetch_command,
    platform_label,
    targets_for,
)
from pytest_rules_rust.builders.bep import read_bep
from pytest_rules_rust.cache import Cache
from pytest_rules_rust.errors import BazelUnavailable, BuildError, RulesRustError, WorkspaceError
from pytest_rules_rust.platforms import AMD64, ARM64
from pytest_rules_rust.workspaces import Workspace

DATA = Path(__file__).parent / "data"
GENINTER = "//go/cmd/geninter:geninter_test"
ALFRED = "//go/pkg/alfred:alfred_test"
MANIFEST = """
[bazel]
targets = ["//:bin"]
[bazel.platforms]
"linux/arm64/gnu" = "//build/platforms:linux-aarch64"
"linux/arm64/musl" = "//build/platforms:linux_arm64_musl"
"linux/amd64" = "//build/platforms:linux-x86_64"
"""


def _workspace(tmp_path: Path, manifest: str = MANIFEST) -> Workspace:
    root = tmp_path / "ws"
    root.mkdir()
    (root / "rules_rust_template.toml").write_text(manifest)
    return Workspace("fake", root, {"bazel_version": "7.4.1", "rules_rust_version": "0.46.0"})


def _paths(tmp_path: Path, request: BuildRequest) -> BazelPaths:
    return BazelPaths.for_request(Cache(tmp_path / "cache"), request, tmp_path / "out")


def test_build_command_line(tmp_path: Path) -> None:
    request = BuildRequest(
        _workspace(tmp_path),
        ARM64,
        "musl",
        profile="release",
        extra_args=("--remote_cache=grpc://127.0.0.1:9092", "--jobs=2"),
    )
    paths = _paths(tmp_path, request)
    cmd = build_command("bazelisk", request, paths, "//build/platforms:linux_arm64_musl", ["//:bin"])
    assert cmd[:3] == [
        "bazelisk",
        f"--output_base=/rr-cache/bazel/output_bases/{paths.output_base.name}",
        "build",
    ]
    assert "--compilation_mode=opt" in cmd
    assert "--platforms=//build/platforms:linux_arm64_musl" in cmd
    assert "--build_event_json_file=/rr-out/bep.json" in cmd
    assert "--repository_cache=/rr-cache/bazel/repository" in cmd
    assert "--disk_cache=/rr-cache/bazel/disk" in cmd
    assert "--nofetch" in cmd
    # pass-through flags come after ours (so they win) and before the target list
    assert cmd[cmd.index("--") - 2 : cmd.index("--")] == ["--remote_cache=grpc://127.0.0.1:9092", "--jobs=2"]
    assert cmd[cmd.index("--") + 1 :] == ["//:bin"]


def test_debug_build_and_online_fetch(tmp_path: Path) -> None:
    request = BuildRequest(_workspace(tmp_path), AMD64)
    cmd = build_command("bazel", request, _paths(tmp_path, request), None, ["//..."], fetch=True)
    assert "--compilation_mode=fastbuild" in cmd and "--nofetch" not in cmd
    assert not any(c.startswith("--platforms") for c in cmd)
    fetch = fetch_command("bazel", _paths(tmp_path, request), ["//..."])
    assert fetch[2] == "fetch" and fetch[-1] == "//..."


def test_output_base_depends_on_parameters(tmp_path: Path) -> None:
    ws = _workspace(tmp_path)
    other = Workspace(ws.name, ws.root, {**ws.params, "rules_rust_version": "0.50.0"})
    a = _paths(tmp_path, BuildRequest(ws, AMD64)).output_base
    b = _paths(tmp_path, BuildRequest(other, AMD64)).output_base
    assert a != b and a.parent == b.parent


def test_platform_labels_come_from_the_manifest(tmp_path: Path) -> None:
    ws = _workspace(tmp_path)
    from pytest_rules_rust.builders.bazel import manifest_bazel

    bazel = manifest_bazel(ws.root)
    assert platform_label(BuildRequest(ws, ARM64, "gnu"), bazel) == "//build/platforms:linux-aarch64"
    assert platform_label(BuildRequest(ws, ARM64, "musl"), bazel) == "//build/platforms:linux_arm64_musl"
    assert platform_label(BuildRequest(ws, AMD64, "musl"), bazel) == "//build/platforms:linux-x86_64"
    assert targets_for(BuildRequest(ws, AMD64), bazel) == ("//:bin",)
    assert targets_for(BuildRequest(ws, AMD64, targets=("//x:y",)), bazel) == ("//x:y",)


def test_missing_platform_mapping_says_where_to_add_it(tmp_path: Path) -> None:
    ws = _workspace(tmp_path, "[bazel]\n")
    assert platform_label(BuildRequest(ws, AMD64, "gnu"), {}) is None  # the host needs no --platforms
    with pytest.raises(WorkspaceError) as info:
        platform_label(BuildRequest(ws, ARM64, "musl"), {})
    assert "declares no Bazel platform for linux/arm64 (musl)" in info.value.message
    assert "[bazel.platforms]" in info.value.hint


@pytest.mark.parametrize(
    ("rc", "name"),
    [
        (0, "SUCCESS"),
        (1, "BUILD_FAILURE"),
        (2, "COMMAND_LINE_ERROR"),
        (8, "INTERRUPTED"),
        (33, "OOM_ERROR"),
        (36, "LOCAL_ENVIRONMENTAL_ERROR"),
        (37, "BLAZE_INTERNAL_ERROR"),
        (39, "REMOTE_CACHE_EVICTED"),
        (99, "EXIT_99"),
    ],
)
def test_exit_codes_have_names(rc: int, name: str) -> None:
    assert explain_exit(rc)[0] == name


def test_failure_names_failed_targets_and_keeps_the_log(tmp_path: Path) -> None:
    err = failure(
        33, tmp_path / "bazel.log", read_bep(DATA / "bep" / "bazel-7.1.2-test-go.excerpt.jsonl"), ""
    )
    assert "exit code 33 (OOM_ERROR)" in err.message
    assert "--host_jvm_args" in err.hint
    assert err.paths["log"] == tmp_path / "bazel.log"


# --- end to end, in a real container, against the stand-in ------------------------------------


@pytest.fixture(scope="module")
def fake_bazel_image(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """An image with /bin/sh (Debian's busybox-static) plus the stand-in Bazel and the recording."""
    try:
        from pytest_rules_rust.containers import detect_engine, labels
        from pytest_rules_rust.containers.images import busybox_recipe, ensure_image

        engine = detect_engine()
    except RulesRustError as exc:
        pytest.skip(f"needs a Docker engine: {exc.message}; run scripts/provision.sh")
    base = ensure_image(busybox_recipe(), Cache(), engine=engine, progress=lambda _msg: None)
    context = io.BytesIO()
    with tarfile.open(fileobj=context, mode="w") as tar:
        dockerfile = (
            f"FROM {base}\nCOPY bazel /bin/bazel\nCOPY recorded.jsonl /fake/recorded.jsonl\n".encode()
        )
        for name, data, mode in (
            ("Dockerfile", dockerfile, 0o644),
            ("bazel", (DATA / "fake_bazel" / "bazel").read_bytes(), 0o755),
            ("recorded.jsonl", (DATA / "bep" / "bazel-7.1.2-test-go.excerpt.jsonl").read_bytes(), 0o644),
        ):
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), mode
            tar.addfile(info, io.BytesIO(data))
    context.seek(0)
    tag = "pytest-rules-rust/fake-bazel:test"
    engine.client.images.build(
        fileobj=context, custom_context=True, tag=tag, labels=labels(), rm=True, platform="linux/amd64"
    )
    yield tag
    engine.client.images.remove(tag, force=True)


def test_fake_bazel_end_to_end(fake_bazel_image: str, tmp_path: Path) -> None:
    ws = _workspace(tmp_path)
    request = BuildRequest(ws, ARM64, "gnu", targets=(GENINTER, ALFRED), timeout_s=120)
    builder = BazelBuilder(Cache(tmp_path / "cache"), image=fake_bazel_image)
    result = builder.build(request, tmp_path / "out")
    assert [(a.target, a.kind) for a in result.artifacts] == [(GENINTER, "binary"), (ALFRED, "binary")]
    for artifact in result.artifacts:
        assert artifact.path.is_relative_to((tmp_path / "out").resolve())
        assert artifact.path.read_bytes() == Path("/bin/busybox").read_bytes()
    assert result.extra["bazel_version"] == "7.1.2"
    argv = (tmp_path / "out" / "fake-bazel-argv.txt").read_text().splitlines()
    assert argv[0].split()[1] == "fetch" and argv[1].split()[1] == "build"
    assert "--platforms=//build/platforms:linux-aarch64" in argv[1].split()
    # the fetch phase has a network, the build phase only loopback
    assert (tmp_path / "out" / "fake-bazel-net-fetch.txt").read_text().split() != ["lo"]
    assert (tmp_path / "out" / "fake-bazel-net-build.txt").read_text().split() == ["lo"]


def test_fake_bazel_failure_maps_the_exit_code(fake_bazel_image: str, tmp_path: Path) -> None:
    ws = _workspace(tmp_path)
    (ws.root / ".fake-bazel-exit").write_text("2\n")
    builder = BazelBuilder(Cache(tmp_path / "cache"), image=fake_bazel_image)
    with pytest.raises(BuildError) as info:
        builder.build(BuildRequest(ws, AMD64, targets=(GENINTER,), timeout_s=120), tmp_path / "out")
    assert "exit code 2 (COMMAND_LINE_ERROR)" in info.value.message
    assert "fake failure with exit code 2" in info.value.message  # the log tail is shown
    assert info.value.paths["log"].exists()


def test_image_without_bazel_is_a_skip_reason(tmp_path: Path) -> None:
    try:
        from pytest_rules_rust.containers import detect_engine
        from pytest_rules_rust.containers.images import busybox_recipe, ensure_image

        engine = detect_engine()
    except RulesRustError as exc:
        pytest.skip(f"needs a Docker engine: {exc.message}; run scripts/provision.sh")
    image = ensure_image(busybox_recipe(), Cache(), engine=engine, progress=lambda _msg: None)
    with pytest.raises(BazelUnavailable) as info:
        BazelBuilder(Cache(tmp_path / "cache"), image=image).build(
            BuildRequest(_workspace(tmp_path), AMD64, timeout_s=60), tmp_path / "out"
        )
    assert NO_BAZEL_REASON in info.value.message


@pytest.mark.bazel
@pytest.mark.container
def test_real_bazel_builds_the_cross_workspace(tmp_path: Path) -> None:
    """On a machine with the public Bazel image (or --rr-bazel-image), a real cross build to aarch64."""
    from pytest_rules_rust.workspaces import materialise

    try:
        from pytest_rules_rust.containers import detect_engine

        detect_engine()
    except RulesRustError as exc:
        pytest.skip(f"needs a Docker engine: {exc.message}")
    ws = materialise("cross", tmp_path / "ws", {})
    try:
        result = BazelBuilder(Cache()).build(BuildRequest(ws, ARM64, "gnu", timeout_s=3600), tmp_path / "out")
    except BazelUnavailable as exc:
        pytest.skip(exc.message)
    binaries = [a for a in result.artifacts if a.kind == "binary"]
    assert binaries, f"no binary among {result.artifacts}"
    from pytest_rules_rust.inspect import inspect_binary

    assert "aarch64" in {inspect_binary(a.path).machine for a in binaries}
