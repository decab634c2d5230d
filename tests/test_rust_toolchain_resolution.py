"""Which Rust toolchain the musl platforms resolve to, under the model of the pinned rules_rust."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_rules_rust.preflight import preflight_workspace
from pytest_rules_rust.preflight.api.rust_toolchains import (
    host_constraints,
    platform_constraints,
    registered,
    resolve,
)
from pytest_rules_rust.preflight.api.store import shipped
from pytest_rules_rust.preflight.evaluate import evaluate_workspace
from pytest_rules_rust.workspaces import materialise

# The document's Rust section: musl triples in rust.toolchain's list (what rules_rust 0.46.0 allows).
LIST_FORM = """rust = use_extension("@rules_rust//rust:extensions.bzl", "rust")
rust.toolchain(
    edition = RUST_EDITION,
    extra_target_triples = [
        "x86_64-unknown-linux-musl",
        "aarch64-unknown-linux-musl",
    ],
    versions = RUST_VERSIONS,
)
"""


def resolutions(root: Path, version: str) -> dict[tuple[str, str], str]:
    """(platform, host cpu) → the target triple of the Rust toolchain resolution picks."""
    model = evaluate_workspace(root)
    api = shipped("rules_rust", version)
    assert api is not None
    toolchains = registered(model, api)
    out = {}
    for plat in (t for t in model.targets if t.kind == "platform"):
        for cpu in ("x86_64", "aarch64"):
            got = resolve(toolchains, platform_constraints(model, plat), host_constraints(model, cpu))
            out[(plat.name, cpu)] = got.target_triple if got else ""
    out[("host", "x86_64")] = (
        got.target_triple
        if (got := resolve(toolchains, host_constraints(model, "x86_64"), host_constraints(model, "x86_64")))
        else ""
    )
    return out


def list_form_at_0_46_0(tmp_path: Path, name: str) -> Path:
    ws = materialise(name, tmp_path / "new")
    text = (ws.root / "MODULE.bazel").read_text()
    start = text.index('rust = use_extension("@rules_rust//rust:extensions.bzl", "rust")')
    text = text[:start] + LIST_FORM + text[text.index('use_repo(rust, "rust_toolchains")') :]
    text = text.replace('version = "0.63.0"', 'version = "0.46.0"').replace(
        'extensions.bzl", "crate"', 'extension.bzl", "crate"'
    )
    (ws.root / "MODULE.bazel").write_text(text)
    return ws.root


@pytest.mark.parametrize("name", ["musl_jemalloc_oci", "alloc_bench"])
def test_musl_platforms_resolve_to_musl_toolchains_at_the_default_version(name: str, tmp_path: Path) -> None:
    ws = materialise(name, tmp_path / "ws")
    assert ws.params["rules_rust_version"] == "0.63.0"
    assert resolutions(ws.root, "0.63.0") == {
        ("linux_x86_64_musl", "x86_64"): "x86_64-unknown-linux-musl",
        ("linux_x86_64_musl", "aarch64"): "x86_64-unknown-linux-musl",
        ("linux_arm64_musl", "x86_64"): "aarch64-unknown-linux-musl",
        ("linux_arm64_musl", "aarch64"): "aarch64-unknown-linux-musl",
        ("host", "x86_64"): "x86_64-unknown-linux-gnu",  # build scripts and proc macros stay gnu
    }
    assert not [f for f in preflight_workspace(ws.root, use_buildifier=False).findings if f.code == "RR809"]


def test_list_form_at_0_46_0_gives_x86_64_musl_the_gnu_toolchain(tmp_path: Path) -> None:
    """The issue's finding: x86_64 gnu is registered first and nothing tells it from x86_64 musl."""
    root = list_form_at_0_46_0(tmp_path, "musl_jemalloc_oci")
    got = resolutions(root, "0.46.0")
    assert got[("linux_x86_64_musl", "x86_64")] == "x86_64-unknown-linux-gnu"
    assert got[("linux_arm64_musl", "x86_64")] == "aarch64-unknown-linux-musl"  # no aarch64 gnu there
    assert got[("linux_arm64_musl", "aarch64")] == "aarch64-unknown-linux-gnu"  # the same on an arm host
    findings = [f for f in preflight_workspace(root, use_buildifier=False).findings if f.code == "RR809"]
    assert [(f.file, f.severity) for f in findings] == [("build/platforms/BUILD.bazel", "error")] * 2
    assert "under rules_rust 0.46.0" in findings[0].message
    assert (
        "on an x86_64 host the x86_64-unknown-linux-gnu toolchain of rust_linux_x86_64" in findings[0].message
    )
