"""Our side of the conversation with Bazel: command lines, platforms, exit codes, containers.

No Bazel can be downloaded here, so the end-to-end tests run stand-ins in a busybox image: a Bazel
(tests/data/fake_bazel/bazel) that replays a stream recorded by a real Bazel, found through a
stand-in Bazelisk or given as an ELF with ``--rr-bazel-binary``. The real Bazelisk runs in
tests/test_bazelisk.py; the test that needs a real Bazel skips with what Bazelisk said.
"""

from __future__ import annotations

import io
import tarfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from bazel_helpers import RECORDING, stand_in_bazel_elf

from pytest_rules_rust.builders.base import BuildRequest
from pytest_rules_rust.builders.bazel import (
    NO_TOOL_REASON,
    BazelBuilder,
    BazelPaths,
    build_command,
    explain_exit,
    failure,
    fetch_command,
    platform_label,
    targets_for,
)
from pytest_rules_rust.builders.bazel_tool import CONTAINER_BINARY
from pytest_rules_rust.builders.bep import read_bep
from pytest_rules_rust.cache import Cache
from pytest_rules_rust.containers import Engine, detect_engine, labels
from pytest_rules_rust.containers.images import busybox_recipe, ensure_image
from pytest_rules_rust.errors import BazelUnavailable, BuildError, RulesRustError, UsageError, WorkspaceError
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
    err = failure(33, tmp_path / "bazel.log", read_bep(RECORDING), "")
    assert "exit code 33 (OOM_ERROR)" in err.message
    assert "--host_jvm_args" in err.hint
    assert err.paths["log"] == tmp_path / "bazel.log"


# --- end to end, in a real container, against the stand-ins -----------------------------------


def _engine_or_skip() -> Engine:
    try:
        return detect_engine()
    except RulesRustError as exc:
        pytest.skip(f"needs a Docker engine: {exc.message}; run scripts/provision.sh")


def _fake_image(engine: Engine, tag: str) -> str:
    """Debian's busybox-static plus the stand-in Bazelisk as /bin/bazelisk, the stand-in Bazel at
    /fake/bazel (not on PATH) and the recording it replays."""
    base = ensure_image(busybox_recipe(), Cache(), engine=engine, progress=lambda _msg: None)
    files = [
        ("bazelisk", "/bin/bazelisk", (DATA / "fake_bazel" / "bazelisk").read_bytes(), 0o755),
        ("bazel", "/fake/bazel", (DATA / "fake_bazel" / "bazel").read_bytes(), 0o755),
        ("recorded.jsonl", "/fake/recorded.jsonl", RECORDING.read_bytes(), 0o644),
    ]
    dockerfile = f"FROM {base}\n" + "".join(f"COPY {name} {dest}\n" for name, dest, _, _ in files)
    context = io.BytesIO()
    with tarfile.open(fileobj=context, mode="w") as tar:
        for name, data, mode in [("Dockerfile", dockerfile.encode(), 0o644)] + [
            (name, data, mode) for name, _, data, mode in files
        ]:
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), mode
            tar.addfile(info, io.BytesIO(data))
    context.seek(0)
    engine.client.images.build(
        fileobj=context, custom_context=True, tag=tag, labels=labels(), rm=True, platform="linux/amd64"
    )
    return tag


@pytest.fixture(scope="module")
def fake_bazel_image() -> Iterator[str]:
    """The stand-in Bazelisk and Bazel in a busybox image: the builder finds ``bazelisk`` on PATH."""
    engine = _engine_or_skip()
    tag = _fake_image(engine, f"pytest-rules-rust/fake-bazel:{uuid.uuid4().hex[:8]}")
    yield tag
    engine.client.images.remove(tag, force=True)


@pytest.fixture(scope="module")
def bare_image() -> str:
    """The busybox test image: no bazel or bazelisk, nothing of the stand-ins."""
    engine = _engine_or_skip()
    return ensure_image(busybox_recipe(), Cache(), engine=engine, progress=lambda _msg: None)


@pytest.fixture(scope="module")
def fake_bazel_elf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The stand-in Bazel as a self-contained static x86-64 ELF (tests/data/fake_bazel/launcher.c)."""
    return stand_in_bazel_elf("gcc", tmp_path_factory.mktemp("fake-bazel-elf") / "bazel")


def _argv(out: Path) -> list[list[str]]:
    return [line.split() for line in (out / "fake-bazel-argv.txt").read_text().splitlines()]


def test_fake_bazel_end_to_end(fake_bazel_image: str, tmp_path: Path) -> None:
    ws = _workspace(tmp_path)
    (ws.root / ".bazelversion").write_text("# pinned by the workspace\n7.6.0\n")
    request = BuildRequest(ws, ARM64, "gnu", targets=(GENINTER, ALFRED), timeout_s=120)
    cache = Cache(tmp_path / "cache")
    result = BazelBuilder(cache, image=fake_bazel_image).build(request, tmp_path / "out")
    assert [(a.target, a.kind) for a in result.artifacts] == [(GENINTER, "binary"), (ALFRED, "binary")]
    for artifact in result.artifacts:
        assert artifact.path.is_relative_to((tmp_path / "out").resolve())
        assert artifact.path.read_bytes() == Path("/bin/busybox").read_bytes()
    assert result.extra["bazel_version"] == "7.1.2"  # what the recorded stream says
    # .bazelversion beats the bazel_version parameter (7.4.1); Bazelisk was asked for it once
    assert "Bazel 7.6.0 (from .bazelversion of the workspace)" in result.extra["bazel"]
    downloads = cache.path("bazel", "bazelisk", "fake-downloads.txt")
    assert downloads.read_text().split() == ["7.6.0"]
    argv = _argv(tmp_path / "out")
    assert [a[1] for a in argv] == ["fetch", "build"]  # after --output_base
    assert "--platforms=//build/platforms:linux-aarch64" in argv[1]
    # the download step and the fetch phase have a network, the build phase only loopback
    assert (tmp_path / "out" / "fake-bazel-net-fetch.txt").read_text().split() != ["lo"]
    assert (tmp_path / "out" / "fake-bazel-net-build.txt").read_text().split() == ["lo"]
    again = BazelBuilder(cache, image=fake_bazel_image).build(request, tmp_path / "out2")
    assert again.artifacts and downloads.read_text().split() == ["7.6.0"]  # not downloaded twice


def test_bazelisk_download_failure_is_the_skip_reason(fake_bazel_image: str, tmp_path: Path) -> None:
    ws = _workspace(tmp_path)
    (ws.root / ".bazelversion").write_text("0.0.0-gone\n")
    cache = Cache(tmp_path / "cache")
    request = BuildRequest(ws, AMD64, targets=(GENINTER,), timeout_s=120)
    for attempt in ("first", "second"):
        with pytest.raises(BazelUnavailable) as info:
            BazelBuilder(cache, image=fake_bazel_image).build(request, tmp_path / attempt)
        assert info.value.message == (
            "Bazelisk could not download Bazel 0.0.0-gone: stand-in: no such release (GET "
            "https://releases.bazel.build/0.0.0-gone/release/bazel-0.0.0-gone-linux-x86_64)"
        ), attempt
        assert "--rr-bazel-binary" in info.value.hint
    # the second build reused the first one's failure instead of waiting on Bazelisk again
    assert cache.path("bazel", "bazelisk", "fake-downloads.txt").read_text().split() == ["0.0.0-gone"]
    assert not (tmp_path / "first" / "fetch.log").exists()  # no fetch or build phase ran


def test_own_bazel_binary_end_to_end(bare_image: str, fake_bazel_elf: Path, tmp_path: Path) -> None:
    """--rr-bazel-binary: the ELF is mounted read-only and run; no Bazelisk, no download step."""
    ws = _workspace(tmp_path)
    cache = Cache(tmp_path / "cache")
    builder = BazelBuilder(cache, image=bare_image, bazel_binary=fake_bazel_elf)
    result = builder.build(BuildRequest(ws, ARM64, targets=(GENINTER,), timeout_s=120), tmp_path / "out")
    assert [(a.target, a.kind) for a in result.artifacts] == [(GENINTER, "binary")]
    assert result.extra["command"][0] == CONTAINER_BINARY == "/rr-bazel/bin/bazel"
    assert str(fake_bazel_elf) in result.extra["bazel"]
    assert [a[1] for a in _argv(tmp_path / "out")] == ["fetch", "build"]
    assert (tmp_path / "out" / "fake-bazel-binary-mount.txt").read_text().split() == ["read-only"] * 2
    assert not cache.path("bazel", "bazelisk", "fake-downloads.txt").exists()


PLUGIN_RUN = f"""
import pytest

@pytest.mark.cross
def test_cross_with_my_bazel(rules_rust_build):
    result = rules_rust_build("cross", platform="linux/arm64", targets=({GENINTER!r},))
    print("ARTIFACTS", [(a.target, a.kind) for a in result.artifacts])
    print("BAZEL", result.extra["bazel"])
"""


@pytest.mark.container
@pytest.mark.bazel
def test_plugin_runs_own_bazel_binary_in_our_image(pytester: pytest.Pytester, fake_bazel_elf: Path) -> None:
    """``pytest --rr-builder bazel --rr-bazel-binary STAND-IN -m cross``: the whole builder, in our
    own Debian image (Bazelisk layer included, nothing pulled), through the plugin's fixture."""
    _engine_or_skip()
    pytester.makepyfile(PLUGIN_RUN)
    result = pytester.runpytest_subprocess(
        "-s", "-p", "no:cacheprovider", "-m", "cross", "--rr-builder", "bazel",
        "--rr-bazel-binary", str(fake_bazel_elf), "--rr-cache-dir", str(Cache().root),
        timeout=3600,
    )  # fmt: skip
    assert result.ret == 0, "\n".join(result.outlines[-40:])
    text = result.stdout.str()
    assert f"ARTIFACTS [({GENINTER!r}, 'binary')]" in text
    assert f"BAZEL {fake_bazel_elf.resolve()} (--rr-bazel-binary, mounted read-only)" in text


def test_own_bazel_binary_of_the_wrong_arch_is_refused_at_build_time(
    bare_image: str, fake_bazel_elf: Path, tmp_path: Path
) -> None:
    builder = BazelBuilder(Cache(tmp_path / "cache"), image=bare_image, bazel_binary=fake_bazel_elf)
    request = BuildRequest(_workspace(tmp_path), ARM64, host=ARM64, timeout_s=60)
    with pytest.raises(
        UsageError, match="is an x86_64 ELF, but the Bazel builder's container is linux/arm64"
    ):
        builder.build(request, tmp_path / "out")


def test_fake_bazel_failure_maps_the_exit_code(fake_bazel_image: str, tmp_path: Path) -> None:
    ws = _workspace(tmp_path)
    (ws.root / ".fake-bazel-exit").write_text("2\n")
    builder = BazelBuilder(Cache(tmp_path / "cache"), image=fake_bazel_image)
    with pytest.raises(BuildError) as info:
        builder.build(BuildRequest(ws, AMD64, targets=(GENINTER,), timeout_s=120), tmp_path / "out")
    assert "exit code 2 (COMMAND_LINE_ERROR)" in info.value.message
    assert "fake failure with exit code 2" in info.value.message  # the log tail is shown
    assert info.value.paths["log"].exists()


def test_image_without_bazel_is_a_skip_reason(bare_image: str, tmp_path: Path) -> None:
    with pytest.raises(BazelUnavailable) as info:
        BazelBuilder(Cache(tmp_path / "cache"), image=bare_image).build(
            BuildRequest(_workspace(tmp_path), AMD64, timeout_s=60), tmp_path / "out"
        )
    assert f"the Bazel image {bare_image} {NO_TOOL_REASON}" == info.value.message
    assert "--rr-bazel-binary" in info.value.hint


@pytest.mark.bazel
@pytest.mark.container
def test_real_bazel_builds_the_cross_workspace(tmp_path: Path) -> None:
    """A real cross build to aarch64 in our own image, Bazelisk fetching the workspace's Bazel.

    Where Bazelisk cannot download that Bazel (no network, as on the machines this is developed
    on), it skips with what Bazelisk said, e.g. "Bazelisk could not download Bazel 7.4.1: dial tcp:
    lookup releases.bazel.build ...: no such host".
    """
    from pytest_rules_rust.workspaces import materialise

    _engine_or_skip()
    ws = materialise("cross", tmp_path / "ws", {})
    try:
        result = BazelBuilder(Cache()).build(BuildRequest(ws, ARM64, "gnu", timeout_s=3600), tmp_path / "out")
    except BazelUnavailable as exc:
        pytest.skip(exc.message)
    binaries = [a for a in result.artifacts if a.kind == "binary"]
    assert binaries, f"no binary among {result.artifacts}"
    from pytest_rules_rust.inspect import inspect_binary

    assert "aarch64" in {inspect_binary(a.path).machine for a in binaries}
