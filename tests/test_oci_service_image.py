"""The musl_jemalloc_oci service from the cargo builder, in the index, answering on both platforms."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from pytest_rules_rust.builders import build
from pytest_rules_rust.containers.load import docker_available, loaded, run_published, wait_http
from pytest_rules_rust.containers.oci_write import assemble_service_image
from pytest_rules_rust.inspect.oci import inspect_image
from pytest_rules_rust.platforms import ALL_PLATFORMS, Platform

pytestmark = [pytest.mark.container, pytest.mark.cargo, pytest.mark.musl, pytest.mark.cross]
WORKSPACE = "musl_jemalloc_oci"
PORT = 3232


def _workspace(tmp_path: Path) -> Any:
    from pytest_rules_rust.errors import WorkspaceError
    from pytest_rules_rust.workspaces import materialise

    try:
        return materialise(WORKSPACE, tmp_path / WORKSPACE)
    except WorkspaceError as exc:
        pytest.skip(f"the {WORKSPACE} workspace template is not there yet: {exc.message}")


@pytest.fixture(scope="module")
def service_binaries(tmp_path_factory: pytest.TempPathFactory) -> dict[Platform, Path]:
    reason = docker_available()
    if reason:
        pytest.skip(f"the cargo builder needs Docker: {reason}")
    from pytest_rules_rust.builders.base import BuildRequest

    tmp = tmp_path_factory.mktemp("service")
    workspace = _workspace(tmp)
    binaries = {}
    for platform in ALL_PLATFORMS:
        request = BuildRequest(workspace=workspace, target=platform, libc="musl", targets=("service",))
        result = build(request, tmp / f"out-{platform.arch}", builder="cargo")
        binaries[platform] = result.artifact(target="service", kind="binary").path
    return binaries


@pytest.mark.parametrize("platform", ALL_PLATFORMS, ids=str)
def test_service_image_answers_get_root(
    service_binaries: dict[Platform, Path], platform: Platform, tmp_path: Path
) -> None:
    if platform.is_foreign() and not Path("/proc/sys/fs/binfmt_misc/qemu-aarch64").exists():
        pytest.skip("qemu-aarch64 is not registered in binfmt_misc: run scripts/provision.sh")
    if shutil.which("skopeo") is None:
        pytest.skip("needs skopeo: apt-get install skopeo")
    index = assemble_service_image(service_binaries, tmp_path / "image_index", ["/bin"], [PORT])
    info = inspect_image(index.path)
    assert [p.architecture for p in info.platforms] == ["amd64", "arm64"]
    assert info.platform(platform.docker).files == ("/bin",)
    with (
        loaded(index.path, platform, f"pytest-rules-rust/musl:{index.short_tag}-{platform.arch}") as image,
        run_published(image, PORT) as container,
    ):
        answer = wait_http(container.url + "/", timeout_s=120)
    assert answer.status == 200, answer.body[:300]
