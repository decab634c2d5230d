"""Image recipes, apt sources, the build-once lock, and the never-pull rule (real Docker, tiny images)."""

from __future__ import annotations

import io
import re
import tarfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from containers_helpers import start_python

from pytest_rules_rust.cache import Cache
from pytest_rules_rust.containers import Engine, RunSpec, image_exists, images, run
from pytest_rules_rust.containers.images import (
    PUBLIC_IMAGES,
    Recipe,
    _ContextStream,
    builder_image_ref,
    builder_recipe,
    busybox_recipe,
    ensure_image,
    host_apt_sources,
    require_image,
)
from pytest_rules_rust.errors import ImageError
from pytest_rules_rust.platforms import AMD64, ARM64


@pytest.fixture
def throwaway(engine: Engine) -> Iterator[Recipe]:
    """A busybox recipe with a fresh name (so it is cold), removed afterwards."""
    recipe = busybox_recipe(f"lock-test-{uuid.uuid4().hex[:8]}")
    yield recipe
    if image_exists(engine, recipe.tag):
        engine.client.images.remove(recipe.tag, force=True)


def test_apt_sources_from_deb822_and_one_line_files(tmp_path: Path) -> None:
    deb822 = tmp_path / "debian.sources"
    deb822.write_text(
        "Types: deb\n# a comment\nURIs: http://mirror.example/debian\nSuites: bookworm bookworm-updates\n"
        "Components: main contrib\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n\n"
        "Types: deb-src\nURIs: http://mirror.example/debian\nSuites: bookworm\nComponents: main\n\n"
        "Types: deb\nURIs: http://disabled.example/debian\nSuites: bookworm\nComponents: main\n"
        "Enabled: no\n\n"
        "Types: deb\nURIs: https://deb.nodesource.com/node_20.x\nSuites: nodistro\nComponents: main\n"
    )
    one_line = tmp_path / "extra.list"
    one_line.write_text(
        "deb [signed-by=/k.gpg] http://sec.example/debian-security bookworm-security main  # trailing\n"
        "# deb http://commented.example/debian bookworm main\ndeb http://old.example/debian bullseye main\n"
    )
    assert host_apt_sources([deb822, one_line]) == [
        "deb http://mirror.example/debian bookworm main contrib",
        "deb http://mirror.example/debian bookworm-updates main contrib",
        "deb http://sec.example/debian-security bookworm-security main",
    ]


def test_host_apt_sources_include_security_suite_for_rustc_web() -> None:
    sources = host_apt_sources()
    if not sources:
        pytest.skip("this host's apt configuration has no Debian bookworm source (not Debian 12?)")
    assert any(" bookworm-security " in s for s in sources), sources  # rustc-web 1.96 comes from there


def test_recipe_hash_names_the_content() -> None:
    amd, arm = builder_recipe(AMD64), builder_recipe(ARM64)
    assert amd.digest == builder_recipe(AMD64).digest  # stable
    assert re.fullmatch(r"pytest-rules-rust/builder:[0-9a-f]{12}-amd64", amd.tag)
    assert arm.tag.endswith("-arm64") and amd.digest != arm.digest
    assert {"gcc-aarch64-linux-gnu", "libstd-rust-web-dev:arm64", "musl-dev:arm64"} <= set(amd.packages)
    assert not any(p.endswith(":arm64") or "aarch64" in p for p in arm.packages)
    for pkg in (
        "rustc-web",
        "cargo-web",
        "rust-web-src",
        "musl-tools",
        "protobuf-compiler",
        "libunwind-14-dev",
    ):
        assert pkg in amd.packages and pkg in arm.packages
    changed = Recipe("builder", AMD64, "debian", (*amd.packages, "jq"), unpacked=amd.unpacked)
    assert changed.digest != amd.digest
    assert f"LABEL pytest-rules-rust.recipe={amd.digest}" in amd.dockerfile()


def test_image_refs_local_and_public() -> None:
    assert builder_image_ref(ARM64) == builder_recipe(ARM64).tag
    assert (
        builder_image_ref(AMD64, "public", "cargo")
        == PUBLIC_IMAGES["cargo"]
        == "docker.io/library/rust:1.96-bookworm"
    )
    assert builder_image_ref(ARM64, "public", "bazel") == "gcr.io/bazel-public/ubuntu2404"
    with pytest.raises(ImageError, match="unknown image source"):
        builder_image_ref(AMD64, "registry")  # type: ignore[arg-type]


def test_context_stream_is_a_valid_tar_without_copying(tmp_path: Path) -> None:
    payload = tmp_path / "rootfs.tar"
    payload.write_bytes(bytes(range(256)) * 4099)  # not a multiple of 512
    stream = _ContextStream("FROM scratch\n", payload)
    data = b""
    while chunk := stream.read(70_000):
        data += chunk
    assert len(data) == len(stream)
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        assert tar.getnames() == ["Dockerfile", "rootfs.tar"]
        assert tar.extractfile("Dockerfile").read() == b"FROM scratch\n"  # type: ignore[union-attr]
        assert tar.extractfile("rootfs.tar").read() == payload.read_bytes()  # type: ignore[union-attr]


def test_ensure_image_builds_once_and_drops_the_rootfs(
    tmp_path: Path, engine: Engine, throwaway: Recipe
) -> None:
    cache = Cache(tmp_path / "cache")
    messages: list[str] = []
    assert ensure_image(throwaway, cache, engine=engine, progress=messages.append) == throwaway.tag
    assert any(m.startswith("built ") for m in messages), messages
    attrs = engine.client.images.get(throwaway.tag).attrs
    assert attrs["Architecture"] == "amd64"
    assert attrs["Config"]["Labels"]["pytest-rules-rust.recipe"] == throwaway.digest
    work = cache.path("images", f"{throwaway.name}-{throwaway.digest}-amd64")
    assert (work / "image.json").exists() and (work / "build.log").exists()
    assert not (work / "rootfs.tar").exists()
    again: list[str] = []
    assert ensure_image(throwaway, cache, engine=engine, progress=again.append) == throwaway.tag
    assert again == []  # present: nothing built, nothing said
    log = tmp_path / "run.log"
    result = run(RunSpec(throwaway.tag, ("uname", "-m"), AMD64, workdir="/tmp"), log, engine=engine)
    assert result.succeeded and "x86_64" in log.read_text()


_RACER = """
import sys, time
from pathlib import Path
from pytest_rules_rust.cache import Cache
from pytest_rules_rust.containers.images import busybox_recipe, ensure_image
go = Path(sys.argv[2])
while not go.exists():
    time.sleep(0.01)
ensure_image(busybox_recipe(sys.argv[1]), Cache(Path(sys.argv[3])), progress=lambda m: print(m, flush=True))
print("done", flush=True)
"""


def test_two_processes_build_the_image_once(tmp_path: Path, engine: Engine, throwaway: Recipe) -> None:
    go = tmp_path / "go"
    racers = [start_python(_RACER, throwaway.name, str(go), str(tmp_path / "cache")) for _ in range(2)]
    go.write_text("")
    outputs = [p.communicate(timeout=300) for p in racers]
    for proc, (out, err) in zip(racers, outputs, strict=True):
        assert proc.returncode == 0, err
        assert out.strip().endswith("done")
    built = [out for out, _ in outputs if "\nbuilt " in f"\n{out}"]
    assert len(built) == 1, outputs
    (other,) = [out for out, _ in outputs if out not in built]
    # The other one waited on the lock and then found the image, or (when it started late on a busy
    # machine) found it before taking the lock; either way it never built.
    assert "building" not in other, outputs


def test_missing_image_is_an_error_never_a_pull(
    tmp_path: Path, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_pull(*args: object, **kwargs: object) -> None:
        raise AssertionError("the harness tried to pull an image")

    monkeypatch.setattr(engine.client.images, "pull", no_pull)
    monkeypatch.setattr(engine.client.api, "pull", no_pull)
    missing = f"pytest-rules-rust/does-not-exist:{uuid.uuid4().hex[:8]}"
    with pytest.raises(ImageError, match="never pulls") as info:
        run(RunSpec(missing, ("true",), AMD64), tmp_path / "x.log", engine=engine)
    assert missing in info.value.message and "pytest_rules_rust.containers.images" in info.value.hint
    with pytest.raises(ImageError, match="never pulls"):
        require_image(PUBLIC_IMAGES["bazel"] + "-not-here", ARM64, engine=engine)


def test_image_of_the_wrong_platform_is_refused_not_pulled(tmp_path: Path, engine: Engine) -> None:
    tag = images.ensure_image(
        busybox_recipe("busybox-test"), Cache(tmp_path / "c"), engine=engine, progress=print
    )
    with pytest.raises(ImageError, match="built for linux/amd64, not linux/arm64"):
        run(RunSpec(tag, ("true",), ARM64), tmp_path / "x.log", engine=engine)
