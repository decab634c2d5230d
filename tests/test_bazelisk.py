"""Bazelisk in our own image: the npm package checked against the registry's integrity, the thin
image layer on top of the builder image, and the real Bazelisk reaching its download step for
linux/amd64 and linux/arm64 (through qemu)."""

from __future__ import annotations

import hashlib
import shutil
import tarfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from pytest_rules_rust.builders.bazel_download import bazelisk_download, download_marker
from pytest_rules_rust.builders.bazel_paths import BazelPaths
from pytest_rules_rust.builders.bazel_tool import RELEASE_ARCH, BazelVersion, elf_platform
from pytest_rules_rust.cache import Cache
from pytest_rules_rust.containers import Engine, RunSpec, image_exists, run
from pytest_rules_rust.containers.bazel_image import (
    BAZELISK_PATH,
    BazelImage,
    bazel_image,
    ensure_bazel_image,
)
from pytest_rules_rust.containers.bazelisk import (
    BAZELISK,
    NpmPin,
    binary_member,
    fetch_package,
    integrity_of,
    verify,
)
from pytest_rules_rust.containers.images import builder_image_ref, builder_recipe, busybox_recipe
from pytest_rules_rust.errors import BazelUnavailable, ImageError
from pytest_rules_rust.platforms import ALL_PLATFORMS, AMD64, ARM64, Platform


@pytest.fixture(scope="module")
def bazelisk_tarball() -> Path:
    """The pinned @bazel/bazelisk tarball, fetched once per machine into the shared cache."""
    if shutil.which("npm") is None:
        pytest.skip("fetching Bazelisk needs npm: apt-get install npm")
    return fetch_package(Cache())


def test_image_tags_hash_the_base_and_bazelisk() -> None:
    for platform in ALL_PLATFORMS:
        image = bazel_image(platform)
        assert image.base == builder_recipe(platform)  # the expensive base is the cargo builder's
        assert image.tag == builder_image_ref(platform, "local", "bazel")
        assert image.tag.endswith(f"-{platform.arch}") and image.tag != image.base.tag
        assert f"FROM {image.base.tag}\n" in image.dockerfile()
    amd = bazel_image(AMD64)
    other_bazelisk = BazelImage(amd.base, NpmPin(BAZELISK.package, "1.28.0", "sha512-other"))
    other_base = BazelImage(busybox_recipe(), BAZELISK)
    assert len({amd.digest, other_bazelisk.digest, other_base.digest}) == 3
    assert other_bazelisk.base.tag == amd.base.tag  # a new Bazelisk never renames the base image


def test_package_matches_the_registry_integrity(bazelisk_tarball: Path) -> None:
    assert integrity_of(bazelisk_tarball) == BAZELISK.integrity
    with tarfile.open(bazelisk_tarball, "r:gz") as tar:
        names = set(tar.getnames())
    assert {binary_member(AMD64), binary_member(ARM64)} <= names


def test_tampered_package_is_refused(bazelisk_tarball: Path, tmp_path: Path) -> None:
    copy = tmp_path / "package.tgz"
    data = bytearray(bazelisk_tarball.read_bytes())
    data[len(data) // 2] ^= 0xFF
    copy.write_bytes(bytes(data))
    with pytest.raises(ImageError) as info:
        verify(copy, BAZELISK)
    assert "is not @bazel/bazelisk@1.28.1 as the npm registry states it" in info.value.message
    assert BAZELISK.integrity in info.value.message and info.value.paths["tarball"] == copy


@pytest.mark.container
def test_layer_builds_in_seconds_on_its_base_and_holds_bazelisk(
    engine: Engine, bazelisk_tarball: Path, tmp_path: Path
) -> None:
    """The layer mechanics on the cheap busybox base: built once, never pulled, the right binary."""
    name = f"bazel-layer-test-{uuid.uuid4().hex[:8]}"
    image = BazelImage(busybox_recipe(name), name=name)
    cache = Cache(tmp_path / "cache")
    said: list[str] = []
    try:
        assert ensure_bazel_image(image, cache, engine=engine, progress=said.append) == image.tag
        built = [m.split()[1] for m in said if m.startswith("built ")]
        assert built == [image.base.tag, image.tag]  # the base first (its own lock), then the layer
        again: list[str] = []
        ensure_bazel_image(image, cache, engine=engine, progress=again.append)
        assert again == []
        attrs = engine.client.images.get(image.tag).attrs
        assert attrs["Architecture"] == "amd64"
        assert attrs["Config"]["Labels"]["pytest-rules-rust.recipe"] == image.digest
        log = tmp_path / "sum.log"
        assert run(RunSpec(image.tag, ("busybox", "sha256sum", BAZELISK_PATH), AMD64), log).succeeded
        with tarfile.open(bazelisk_tarball, "r:gz") as tar:
            member = tar.extractfile(binary_member(AMD64))
            assert member is not None
            expected = hashlib.sha256(member.read()).hexdigest()
        assert expected in log.read_text()
    finally:
        for tag in (image.tag, image.base.tag):
            if image_exists(engine, tag):
                engine.client.images.remove(tag, force=True)


@pytest.fixture(params=["linux/amd64", "linux/arm64"])
def our_bazel_image(request: pytest.FixtureRequest, engine: Engine) -> Iterator[tuple[Platform, str]]:
    """Our Bazel image for the platform (the builder image, built once per machine, plus Bazelisk)."""
    platform = Platform.parse(request.param)
    if engine.needs_emulation(platform):
        request.getfixturevalue("arm64_emulation")
    yield platform, ensure_bazel_image(bazel_image(platform), Cache(), engine=engine, progress=print)


@pytest.mark.bazel
@pytest.mark.container
def test_real_bazelisk_reaches_its_download_step(
    our_bazel_image: tuple[Platform, str], tmp_path: Path
) -> None:
    """The real Bazelisk, in our image, asks for Bazel 7.4.1 for its own architecture; without a
    network the skip reason is its own error, with one the version is downloaded and recorded."""
    platform, image = our_bazel_image
    cache = Cache(tmp_path / "cache")
    paths = BazelPaths(
        tmp_path / "ob",
        *(cache.path("bazel", d) for d in ("repository", "disk", "home", "bazelisk")),
        tmp_path,
    )
    for directory in (paths.repository_cache, paths.disk_cache, paths.home, paths.bazelisk_home):
        directory.mkdir(parents=True)
    log = tmp_path / "download.log"
    version = BazelVersion("7.4.1", "test")
    url = f"https://releases.bazel.build/7.4.1/release/bazel-7.4.1-linux-{RELEASE_ARCH[platform]}"
    try:
        exact = bazelisk_download(cache, image, platform, BAZELISK_PATH, version, paths, log, 600)
    except BazelUnavailable as exc:
        assert exc.message.startswith("Bazelisk could not download Bazel 7.4.1: "), exc.message
        assert exc.message.endswith(f"(GET {url})")
        assert f"Downloading {url}..." in log.read_text()
        assert not download_marker(paths.bazelisk_home, "7.4.1", platform).exists()
        print(f"{platform}: {exc.message}")
        return
    assert exact == "7.4.1" and "bazel 7.4.1" in log.read_text()
    assert download_marker(paths.bazelisk_home, "7.4.1", platform).read_text().strip() == "7.4.1"
    assert elf_platform(next(paths.bazelisk_home.rglob("bin/bazel"))) == platform
