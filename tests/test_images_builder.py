"""testinfra against the real builder images: toolchains present, versions right, cross bits in amd64.

Each image runs once per module as a labelled ``sleep infinity`` container (removed afterwards);
testinfra's docker:// backend executes the checks in it. The first run builds the images
(minutes); later runs reuse them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
import testinfra

from pytest_rules_rust.containers import Engine, RunSpec, running
from pytest_rules_rust.platforms import AMD64, Platform

pytestmark = pytest.mark.container


HELLO_RS = 'fn main() { println!("hello from {}", std::env::consts::ARCH); }'
HELLO_C = '#include <stdio.h>\nint main(void){puts("musl hello");return 0;}'


@pytest.fixture(scope="module", params=["linux/amd64", "linux/arm64"])
def image_host(request: pytest.FixtureRequest, docker_engine: Engine, builder_image: Any) -> Iterator[Any]:
    platform = Platform.parse(request.param)
    if docker_engine.needs_emulation(platform):
        request.getfixturevalue("arm64_emulation")
    tag = builder_image(platform)
    spec = RunSpec(tag, ("sleep", "infinity"), platform, workdir="/tmp")
    with running(spec, engine=docker_engine) as container:
        host = testinfra.get_host(f"docker://{container.name}")
        host.platform = platform
        yield host


def _out(host: Any, command: str) -> str:
    return str(host.check_output(command))


def test_architecture(image_host: Any) -> None:
    assert image_host.system_info.arch == image_host.platform.cpu
    assert image_host.system_info.distribution == "debian" and image_host.system_info.codename == "bookworm"


def test_rust_toolchain_is_debian_1_96(image_host: Any) -> None:
    assert _out(image_host, "rustc --version").startswith("rustc 1.96.")
    assert _out(image_host, "cargo --version").startswith("cargo 1.96.")
    assert image_host.package("rustc-web").version.startswith("1.96")
    assert image_host.file("/usr/lib/rustlib/src/rust/library/std/Cargo.toml").exists  # rust-web-src
    assert image_host.file("/usr/lib/rustlib/src/rust/library/vendor").is_directory
    assert _out(image_host, "echo $HOME $RUSTC") == "/tmp /usr/bin/rustc"


def test_c_toolchains_and_tools(image_host: Any) -> None:
    assert re.search(r"\b12\.2\.0\b", _out(image_host, "gcc --version"))
    assert _out(image_host, "protoc --version").startswith("libprotoc 3.21")
    assert image_host.file("/usr/include/google/protobuf/descriptor.proto").exists  # libprotobuf-dev
    assert image_host.file("/usr/lib/llvm-14/lib/libunwind.a").exists  # libunwind-14-dev
    for tool in ("git", "make", "pkg-config", "file", "musl-gcc", "ar"):
        assert image_host.exists(tool), tool


def test_musl_gcc_links_a_static_program_that_runs(image_host: Any) -> None:
    out = _out(
        image_host,
        f"cd $(mktemp -d) && printf '%s' '{HELLO_C}' > h.c && musl-gcc -static -O2 h.c -o h && file h && ./h",
    )
    assert "statically linked" in out and out.endswith("musl hello")


@pytest.mark.parametrize("image_host", ["linux/amd64"], indirect=True)  # the cross toolchain's image
def test_amd64_image_cross_compiles_to_aarch64(image_host: Any, request: pytest.FixtureRequest) -> None:
    assert image_host.platform == AMD64
    request.getfixturevalue("arm64_emulation")  # the aarch64 result runs through binfmt in the container
    assert re.search(r"\b12\.2\.0\b", _out(image_host, "aarch64-linux-gnu-gcc --version"))
    assert image_host.exists("aarch64-linux-musl-gcc")
    assert _out(image_host, "ls /usr/lib/rustlib/aarch64-unknown-linux-gnu/lib").count("libstd-") >= 1
    unwind = "/opt/libunwind-14-arm64/usr/lib/llvm-14/lib/libunwind.a"
    assert "architecture: aarch64" in _out(image_host, f"aarch64-linux-gnu-objdump -f {unwind} | head -5")
    out = _out(
        image_host,
        f"cd $(mktemp -d) && printf '%s' '{HELLO_RS}' > h.rs && "
        "rustc --target aarch64-unknown-linux-gnu -C linker=aarch64-linux-gnu-gcc "
        "-C target-feature=+crt-static h.rs -o h && file h && ./h",
    )
    assert "ARM aarch64" in out and out.endswith("hello from aarch64")
    c_out = _out(
        image_host,
        f"cd $(mktemp -d) && printf '%s' '{HELLO_C}' > h.c && aarch64-linux-musl-gcc -static h.c -o h && ./h",
    )
    assert c_out == "musl hello"
