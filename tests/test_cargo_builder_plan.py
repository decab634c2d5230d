"""The cargo builder's decisions, without Docker: command lines, environments, keys, manifests, errors."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from pytest_rules_rust.builders import build, get_builder, request_key
from pytest_rules_rust.builders.base import BuildRequest
from pytest_rules_rust.builders.cargo import (
    STATE_DIR,
    content_hash,
    plan_build,
    read_manifest,
    toolchain_env,
)
from pytest_rules_rust.errors import PreflightError, UsageError, WorkspaceError
from pytest_rules_rust.platforms import AMD64, ARM64
from pytest_rules_rust.workspaces import Workspace, materialise

ROOT = Path(__file__).resolve().parent.parent


def _request(tmp_path: Path, **kw: object) -> BuildRequest:
    return BuildRequest(workspace=Workspace("w", tmp_path), **kw)  # type: ignore[arg-type]


def test_cross_gnu_uses_the_aarch64_cross_linker_in_the_amd64_image(tmp_path: Path) -> None:
    plan = plan_build(_request(tmp_path, target=ARM64), ["hello"], [])
    assert plan.image_platform == AMD64
    assert plan.env["CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER"] == "aarch64-linux-gnu-gcc"
    assert plan.env["CC_aarch64_unknown_linux_gnu"] == "aarch64-linux-gnu-gcc"
    assert plan.env["RUSTC"] == "/usr/bin/rustc"
    assert "RUSTC_BOOTSTRAP" not in plan.env
    cmd = list(plan.command)
    assert cmd[cmd.index("--target") + 1] == "aarch64-unknown-linux-gnu"
    assert cmd[cmd.index("--bin") + 1] == "hello"
    assert "--locked" in cmd and "--offline" in cmd and "--release" not in cmd
    assert 'source.rr-vendored.directory="/rr/vendor"' in cmd


def test_musl_builds_std_from_source_with_the_static_recipe(tmp_path: Path) -> None:
    plan = plan_build(_request(tmp_path, target=ARM64, libc="musl", profile="release"), ["svc"], ["x"])
    flags = plan.env["CARGO_TARGET_AARCH64_UNKNOWN_LINUX_MUSL_RUSTFLAGS"]
    assert "-C link-self-contained=no" in flags and "-C relocation-model=static" in flags
    assert f"native={STATE_DIR}/unwind" in flags
    assert plan.env["RUSTC_BOOTSTRAP"] == "1"
    assert plan.env["CARGO_TARGET_AARCH64_UNKNOWN_LINUX_MUSL_LINKER"] == "aarch64-linux-musl-gcc"
    assert plan.env["CFLAGS_aarch64_unknown_linux_musl"] == "-static"
    assert "/opt/libunwind-14-arm64/" in plan.env["RR_UNWIND_CANDIDATES"]
    cmd = list(plan.command)
    assert "-Zbuild-std=std,panic_abort" in cmd and "--release" in cmd
    assert f'source.rr-vendored.directory="{STATE_DIR}/vendor-merged"' in cmd
    assert cmd[cmd.index("--features") + 1] == "x"
    assert plan.profile_dir == "release"


def test_x86_64_musl_uses_musl_gcc_without_the_static_cflags(tmp_path: Path) -> None:
    plan = plan_build(_request(tmp_path, target=AMD64, libc="musl"), ["svc"], [])
    assert plan.env["CARGO_TARGET_X86_64_UNKNOWN_LINUX_MUSL_LINKER"] == "musl-gcc"
    assert "CFLAGS_x86_64_unknown_linux_musl" not in plan.env
    assert plan.env["RR_UNWIND_CANDIDATES"] == "/usr/lib/llvm-14/lib/libunwind.a"


def test_emulated_host_builds_natively_in_the_arm64_image(tmp_path: Path) -> None:
    plan = plan_build(_request(tmp_path, target=ARM64, host=ARM64), ["hello"], [])
    assert plan.image_platform == ARM64
    assert plan.env["CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER"] == "gcc"
    cross = plan_build(_request(tmp_path, target=ARM64), ["hello"], [])
    assert plan.cache_key != cross.cache_key


def test_amd64_target_on_an_arm64_host_is_refused() -> None:
    with pytest.raises(UsageError, match="cannot build linux/amd64 on a linux/arm64 host"):
        toolchain_env("x86_64-unknown-linux-gnu", ARM64, AMD64)


def test_target_cache_key_ignores_features_but_not_profile_or_libc(tmp_path: Path) -> None:
    base = plan_build(_request(tmp_path, target=ARM64, libc="musl"), ["a"], [])
    feat = plan_build(
        _request(tmp_path, target=ARM64, libc="musl", extra_args=("--features", "j")), ["a"], []
    )
    rel = plan_build(_request(tmp_path, target=ARM64, libc="musl", profile="release"), ["a"], [])
    gnu = plan_build(_request(tmp_path, target=ARM64), ["a"], [])
    assert base.cache_key == feat.cache_key
    assert len({base.cache_key, rel.cache_key, gnu.cache_key}) == 3
    assert "--features" in feat.command


def test_manifest_cargo_table_of_every_template() -> None:
    for manifest in sorted((ROOT / "fixture_workspaces").glob("*/rules_rust_template.toml")):
        cargo = read_manifest(manifest.parent)
        assert cargo.binaries, f"{manifest}: [cargo] binaries is empty"
        assert set(cargo.libcs) <= {"gnu", "musl"}


def test_manifest_type_errors_name_the_file(tmp_path: Path) -> None:
    (tmp_path / "rules_rust_template.toml").write_text('[cargo]\nbinaries = "svc"\n')
    with pytest.raises(WorkspaceError, match=r"rules_rust_template.toml: \[cargo\].binaries must be a list"):
        read_manifest(tmp_path)


def test_content_hash_follows_sources_and_ignores_target(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "main.rs").write_text("fn main() {}\n")
    first = content_hash(tmp_path)
    (tmp_path / "target" / "debug").mkdir(parents=True)
    (tmp_path / "target" / "debug" / "x").write_text("output")
    assert content_hash(tmp_path) == first
    (tmp_path / "src" / "main.rs").write_text("fn main() { panic!() }\n")
    assert content_hash(tmp_path) != first


def test_unknown_builder_lists_the_choices() -> None:
    with pytest.raises(UsageError, match="unknown builder 'make'") as info:
        get_builder("make")
    assert "bazel, cargo" in info.value.hint


def test_session_key_depends_on_platform_libc_profile_and_content(tmp_path: Path) -> None:
    ws = materialise("cross", tmp_path / "ws")
    a = BuildRequest(workspace=ws, target=ARM64)
    keys = {
        request_key(a, "cargo"),
        request_key(a, "bazel"),
        request_key(BuildRequest(workspace=ws, target=AMD64), "cargo"),
        request_key(BuildRequest(workspace=ws, target=ARM64, libc="musl"), "cargo"),
        request_key(BuildRequest(workspace=ws, target=ARM64, profile="release"), "cargo"),
    }
    assert len(keys) == 5
    main_rs = ws.root / "hello_cross" / "src" / "main.rs"
    main_rs.write_text(main_rs.read_text() + "\n// changed\n")
    assert request_key(a, "cargo") not in keys


def test_preflight_errors_stop_the_build_before_any_container(tmp_path: Path) -> None:
    ws = materialise("cross", tmp_path / "ws")
    module = ws.root / "MODULE.bazel"
    module.write_text(module.read_text() + '\nbazel_dep(name = "rules_rust", version = "0.46.0")\n')
    report = pytest.importorskip("pytest_rules_rust.preflight").preflight_workspace(ws.root)
    if not report.errors:
        pytest.fail(f"preflight no longer flags a duplicate bazel_dep: {report.format()}")
    with pytest.raises(PreflightError, match="the build was not started") as info:
        build(BuildRequest(workspace=ws, target=AMD64), tmp_path / "out")
    assert "MODULE.bazel" in str(info.value)
    assert not (tmp_path / "out").exists()


def test_a_preflight_error_in_a_user_workspace_names_its_source_and_first_finding(tmp_path: Path) -> None:
    from pytest_rules_rust.report.entries import entry_from_error

    mine = tmp_path / "mine"
    shutil.copytree(ROOT / "fixture_workspaces" / "cross", mine)
    (mine / "rules_rust_template.toml").unlink()
    module = mine / "MODULE.bazel"
    module.write_text(module.read_text() + '\nbazel_dep(name = "rules_rust", version = "0.46.0")\n')
    ws = materialise(mine, tmp_path / "copy" / "ws")
    request = BuildRequest(workspace=ws, target=AMD64)
    with pytest.raises(PreflightError) as info:
        build(request, tmp_path / "out")
    error = info.value
    assert f"(a copy of {mine}: edit the files there)" in error.message
    assert error.paths == {"workspace": ws.root, "source": mine}
    assert f"pytest-rules-rust preflight {mine}" in error.hint
    reason = entry_from_error(request, "cargo", error, skipped=False).reason
    assert reason.startswith("preflight found 1 error(s): MODULE.bazel:"), reason
    assert str(tmp_path) not in reason


def test_a_preflight_error_in_a_builtin_template_names_no_source(tmp_path: Path) -> None:
    ws = materialise("cross", tmp_path / "ws")
    module = ws.root / "MODULE.bazel"
    module.write_text(module.read_text() + '\nbazel_dep(name = "rules_rust", version = "0.46.0")\n')
    with pytest.raises(PreflightError) as info:
        build(BuildRequest(workspace=ws, target=AMD64), tmp_path / "out")
    assert "a copy of" not in info.value.message and "source" not in info.value.paths


def test_a_directory_without_cargo_toml_is_refused(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "fixture_workspaces" / "cross", tmp_path / "ws")
    (tmp_path / "ws" / "Cargo.toml").unlink()
    ws = Workspace("cross", tmp_path / "ws")
    builder = get_builder("cargo")
    with pytest.raises(WorkspaceError, match=r"has no Cargo\.toml"):
        builder.build(BuildRequest(workspace=ws, target=AMD64), tmp_path / "out")


def test_binaries_come_from_cargo_when_the_workspace_names_none(tmp_path: Path) -> None:
    from pytest_rules_rust.builders.cargo import cargo_binaries

    def package(path: Path, toml: str, *sources: str) -> None:
        path.mkdir(parents=True, exist_ok=True)
        (path / "Cargo.toml").write_text(toml)
        for src in sources:
            (path / src).parent.mkdir(parents=True, exist_ok=True)
            (path / src).write_text("fn main() {}\n")

    package(tmp_path, '[workspace]\nmembers = [".", "crates/*"]\n[package]\nname = "top"\n', "src/main.rs")
    package(tmp_path / "crates" / "a", '[package]\nname = "a"\n[[bin]]\nname = "a-cli"\npath = "x.rs"\n')
    package(tmp_path / "crates" / "b", '[package]\nname = "b"\n', "src/main.rs", "src/bin/extra.rs")
    package(tmp_path / "crates" / "lib", '[package]\nname = "lib"\n', "src/lib.rs")
    package(tmp_path / "crates" / "quiet", '[package]\nname = "quiet"\nautobins = false\n', "src/main.rs")
    assert cargo_binaries(tmp_path) == ("top", "a-cli", "b", "extra")
    assert cargo_binaries(tmp_path / "crates" / "lib") == ()
