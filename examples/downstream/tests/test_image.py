"""The document's rules_oci pipeline on our binary: a scratch image index, pushed to a registry."""

from __future__ import annotations

import json
import urllib.request

from pytest_rules_rust import OciImageAssembler, Platform, Registry, RulesRustBuild, inspect_image, push_index


def test_index_is_pushed_and_served(
    rules_rust_build: RulesRustBuild, oci_image_assembler: OciImageAssembler, local_registry: Registry
) -> None:
    binaries = {
        Platform.parse(p): rules_rust_build("greeter", platform=p, libc="musl").artifact("greeter").path
        for p in ("linux/amd64", "linux/arm64")
    }
    layout = oci_image_assembler(binaries, entrypoint=["/bin", "fr"], ports=[])
    info = inspect_image(layout.path)
    assert sorted(f"{i.os}/{i.architecture}" for i in info.platforms) == ["linux/amd64", "linux/arm64"]
    assert info.platform("linux/arm64").entrypoint == ("/bin", "fr")
    digest = push_index(layout, f"{local_registry.host_port}/greeter", [layout.short_tag], tls_verify=False)
    assert digest == layout.digest
    with urllib.request.urlopen(f"{local_registry.url}/v2/greeter/tags/list", timeout=10) as answer:
        assert json.load(answer)["tags"] == [layout.short_tag]
