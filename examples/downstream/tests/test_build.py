"""Our workspace built in the plugin's containers for both platforms, checked as an ELF file and run."""

from __future__ import annotations

import pytest

from pytest_rules_rust import (
    BuilderImage,
    BuildResult,
    ContainerRunner,
    RulesRustBuild,
    Workspace,
    WorkspaceFactory,
    assert_binary,
    run_binary,
)

ARCH = {"linux/amd64": "x86_64", "linux/arm64": "aarch64"}


@pytest.fixture(scope="session")
def greeter(rules_rust_workspace_factory: WorkspaceFactory) -> Workspace:
    return rules_rust_workspace_factory("greeter")


@pytest.mark.cross
def test_greeter_builds_and_runs(
    rules_rust_build: RulesRustBuild, greeter: Workspace, rr_platform: str, images_used: list[str]
) -> None:
    result: BuildResult = rules_rust_build(greeter, platform=rr_platform)
    binary = result.artifact("greeter", kind="binary")
    assert_binary(binary.path, arch=ARCH[rr_platform], linkage="dynamic", libc="glibc")
    assert run_binary(binary.path, ["de"]).stdout.strip() == f"Hallo from {ARCH[rr_platform]}"
    assert images_used, "rules_rust_build took its image from our builder_image override"


@pytest.mark.musl
def test_static_musl_build(rules_rust_build: RulesRustBuild, greeter: Workspace) -> None:
    result = rules_rust_build(greeter, platform="linux/amd64", libc="musl")
    assert_binary(result.artifact("greeter").path, arch="x86_64", linkage="static", libc="musl")


@pytest.mark.parametrize("rr_platform", ["linux/arm64"], indirect=True)
def test_runner_uses_the_builder_image(
    container_runner: ContainerRunner, builder_image: BuilderImage, rr_platform: str
) -> None:
    result = container_runner.run(["uname", "-m"], platform=rr_platform)
    assert result.succeeded and result.tail().strip().endswith("aarch64")
    assert builder_image(rr_platform).startswith("pytest-rules-rust/builder")
