"""RR8xx: a workspace's uses of rules_rust, rules_oci, toolchains_llvm and platforms checked against
the shipped API model of the version it pins. Each planted mistake must be an error naming the version."""

from __future__ import annotations

from pathlib import Path

from pytest_rules_rust.preflight import preflight_workspace
from pytest_rules_rust.preflight.model import Finding
from pytest_rules_rust.version_ranges import numeric

MODULE = """module(name = "ws", version = "0.1.0")

bazel_dep(name = "rules_rust", version = "{version}")
bazel_dep(name = "rules_oci", version = "1.7.6")

rust = use_extension("@rules_rust//rust:extensions.bzl", "rust")
rust.toolchain(
    edition = "2021",
    versions = ["1.79.0"],
)
use_repo(rust, "rust_toolchains")

register_toolchains("@rust_toolchains//:all")

crate = use_extension("@rules_rust//crate_universe:{crate_bzl}", "crate")
crate.from_cargo(
    name = "crates",
    cargo_lockfile = "//:Cargo.lock",
    manifests = ["//:Cargo.toml"],
)
use_repo(crate, "crates")
"""
BUILD = """load("@rules_rust//rust:defs.bzl", "rust_binary")

rust_binary(
    name = "bin",
    srcs = ["main.rs"],
    crate_root = "main.rs",
)
"""


def workspace(tmp_path: Path, version: str = "0.46.0", **files: str) -> Path:
    root = tmp_path / "ws"
    # extension.bzl is deprecated from 0.55.0 on, when extensions.bzl appeared
    crate_bzl = "extension.bzl" if numeric(version) < (0, 55, 0) else "extensions.bzl"
    texts = {
        "MODULE.bazel": MODULE.format(version=version, crate_bzl=crate_bzl),
        "BUILD.bazel": BUILD,
        "main.rs": "fn main() {}\n",
    }
    texts |= {"Cargo.toml": '[package]\nname = "ws"\nversion = "0.1.0"\n', "Cargo.lock": "version = 3\n"}
    for rel, text in (texts | {k.replace("__", "/"): v for k, v in files.items()}).items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


def rr8(root: Path) -> list[Finding]:
    report = preflight_workspace(root, use_buildifier=False)
    return [f for f in report.findings if f.code.startswith("RR8")]


def only(findings: list[Finding], code: str) -> Finding:
    assert [f.code for f in findings] == [code], "\n".join(map(str, findings))
    return findings[0]


def test_clean_workspace_has_no_api_findings(tmp_path: Path) -> None:
    assert rr8(workspace(tmp_path)) == []


def test_misspelt_tag_attribute_names_the_version_and_the_real_name(tmp_path: Path) -> None:
    root = workspace(tmp_path)
    text = (root / "MODULE.bazel").read_text().replace("    manifests = [", "    manifest = [")
    (root / "MODULE.bazel").write_text(text)
    f = only(rr8(root), "RR804")
    assert (f.severity, f.file, f.line) == (
        "error",
        "MODULE.bazel",
        text.split("\n").index('    manifest = ["//:Cargo.toml"],') + 1,
    )
    assert "rules_rust 0.46.0" in f.message and "did you mean 'manifests'?" in f.message


def test_attribute_added_later_says_from_which_version(tmp_path: Path) -> None:
    root = workspace(tmp_path)
    text = (
        (root / "MODULE.bazel")
        .read_text()
        .replace('    name = "crates",', '    name = "crates",\n    isolated = True,')
    )
    (root / "MODULE.bazel").write_text(text)
    f = only(rr8(root), "RR804")
    assert "'isolated' in rules_rust 0.46.0" in f.message and "added by rules_rust 0." in f.message


def test_removed_load_path_names_the_version_range_and_the_new_module(tmp_path: Path) -> None:
    build = 'load("@rules_rust//proto/prost:defs.bzl", "rust_prost_library")\n'
    f = only(rr8(workspace(tmp_path, "0.73.0", **{"proto__BUILD.bazel": build})), "RR801")
    assert f.severity == "error" and f.file == "proto/BUILD.bazel" and f.line == 1
    assert "does not exist in rules_rust 0.73.0" in f.message
    assert "up to rules_rust 0.54.1, gone by 0.55.0" in f.message
    assert 'bazel_dep(name = "rules_rust_prost", version = "0.73.0")' in f.message


def test_unknown_loaded_symbol_suggests_the_export(tmp_path: Path) -> None:
    build = 'load("@rules_rust//rust:defs.bzl", "rust_binaryy")\n'
    f = only(rr8(workspace(tmp_path, **{"x__BUILD.bazel": build})), "RR802")
    assert (
        "rules_rust 0.46.0 does not export rust_binaryy" in f.message
        and "did you mean rust_binary?" in f.message
    )


def test_unknown_rule_attribute(tmp_path: Path) -> None:
    f = only(rr8(workspace(tmp_path, **{"BUILD.bazel": BUILD.replace("crate_root", "crate_rot")})), "RR805")
    assert f.line == 6
    assert "rust_binary('bin') has no attribute 'crate_rot' in rules_rust 0.46.0" in f.message
    assert "did you mean 'crate_root'?" in f.message


def test_rule_attribute_literal_of_the_wrong_type(tmp_path: Path) -> None:
    build = BUILD.replace('    crate_root = "main.rs",', '    crate_root = "main.rs",\n    edition = 2021,')
    f = only(rr8(workspace(tmp_path, **{"BUILD.bazel": build})), "RR805")
    assert (f.severity, f.line) == ("error", 7)
    assert "rust_binary('bin')(edition = ...) must be a string in rules_rust 0.46.0, got int" in f.message


def test_rule_attribute_values_that_may_be_right_are_not_typed(tmp_path: Path) -> None:
    """0/1 for a boolean (Bazel takes them), a select, and a string where a list is due: a constant
    loaded from another repository evaluates to a string here, so a string proves nothing."""
    build = 'load("@other//:defs.bzl", "FLAGS")\n' + BUILD.replace(
        '    crate_root = "main.rs",',
        '    crate_root = "main.rs",\n    rustc_flags = FLAGS,\n    out_binary = 1,\n'
        '    edition = select({"//conditions:default": "2021"}),',
    )
    mod = (
        MODULE.format(version="0.46.0", crate_bzl="extension.bzl")
        + 'bazel_dep(name = "other", version = "1")\n'
    )
    assert rr8(workspace(tmp_path, **{"BUILD.bazel": build, "MODULE.bazel": mod})) == []


def test_common_and_macro_forwarded_attributes_are_not_flagged(tmp_path: Path) -> None:
    build = BUILD.replace(
        '    crate_root = "main.rs",', '    crate_root = "main.rs",\n    tags = ["x"],\n    testonly = True,'
    )
    build += 'load("@rules_rust//rust:defs.bzl", "rust_test_suite")\n\n'
    build += 'rust_test_suite(name = "s", srcs = [], anything = 1)\n'
    assert rr8(workspace(tmp_path, **{"BUILD.bazel": build})) == []


def test_wrong_toolchain_type(tmp_path: Path) -> None:
    build = 'toolchain(\n    name = "t",\n    toolchain = ":x",\n'
    build += '    toolchain_type = "@rules_rust//rust:toolchain_typ",\n)\n'
    f = only(rr8(workspace(tmp_path, **{"tc__BUILD.bazel": build})), "RR806")
    assert (f.file, f.line) == ("tc/BUILD.bazel", 4)
    assert "not a toolchain_type in rules_rust 0.46.0" in f.message
    assert "did you mean @rules_rust//rust:toolchain_type?" in f.message


def test_registered_toolchain_in_a_removed_package(tmp_path: Path) -> None:
    root = workspace(tmp_path, "0.55.0")
    text = (root / "MODULE.bazel").read_text()
    (root / "MODULE.bazel").write_text(
        text + '\nregister_toolchains("@rules_rust//proto/protobuf:default-proto-toolchain")\n'
    )
    f = only(rr8(root), "RR806")
    assert "rules_rust 0.55.0 has no package proto/protobuf" in f.message and "gone by 0.55.0" in f.message


def test_label_to_an_output_the_rule_does_not_declare(tmp_path: Path) -> None:
    build = """load("@rules_oci//oci:defs.bzl", "oci_image_index")

oci_image_index(
    name = "index",
    images = [],
)

filegroup(
    name = "digest",
    srcs = [":index.json.sha256"],
)
"""
    f = only(rr8(workspace(tmp_path, **{"img__BUILD.bazel": build})), "RR807")
    assert (f.severity, f.file, f.line) == ("error", "img/BUILD.bazel", 10)
    assert "rules_oci 1.7.6" in f.message and "declares only :index" in f.message


def test_output_a_macro_declares_is_accepted(tmp_path: Path) -> None:
    build = """load("@rules_oci//oci:defs.bzl", "oci_push")

oci_push(
    name = "push",
    image = ":x",
    repository = "r",
)

filegroup(
    name = "tags",
    srcs = [":push_missing"],
)
"""
    # oci_push is a macro that may create targets the model cannot read: no RR807 guess.
    assert [f.code for f in rr8(workspace(tmp_path, **{"img__BUILD.bazel": build}))] == []


def test_tag_attribute_of_the_wrong_type(tmp_path: Path) -> None:
    root = workspace(tmp_path)
    text = (root / "MODULE.bazel").read_text()
    text += 'crate.spec(package = "serde", version = "1.0", features = "derive")\n'
    (root / "MODULE.bazel").write_text(text)
    f = only(rr8(root), "RR804")
    assert "crate.spec(features = ...) must be a string list in rules_rust 0.46.0, got str" in f.message


def test_version_without_model_is_a_note_not_a_silent_pass(tmp_path: Path) -> None:
    root = workspace(tmp_path, "0.50.0")
    text = (root / "MODULE.bazel").read_text().replace("    manifests = [", "    manifest = [")
    (root / "MODULE.bazel").write_text(text)
    f = only(rr8(root), "RR800")
    assert f.severity == "info" and f.line == 3
    assert "no API model for rules_rust 0.50.0" in f.message and "0.46.0, 0.54.1" in f.message


def test_local_path_override_is_read_from_its_directory(tmp_path: Path) -> None:
    module = tmp_path / "local_rr"
    (module / "rust").mkdir(parents=True)
    (module / "MODULE.bazel").write_text('module(name = "rules_rust", version = "7.7.7")\n')
    (module / "rust" / "BUILD.bazel").write_text("")
    (module / "rust" / "defs.bzl").write_text(
        'rust_binary = rule(implementation = None, attrs = {"srcs": attr.label_list()})\n'
    )
    root = workspace(tmp_path, "0.0.0")
    text = (root / "MODULE.bazel").read_text()
    text = text[: text.index("rust = use_extension")]
    text += 'local_path_override(\n    module_name = "rules_rust",\n    path = "../local_rr",\n)\n'
    (root / "MODULE.bazel").write_text(text)
    f = only(rr8(root), "RR805")
    assert "has no attribute 'crate_root' in rules_rust 7.7.7 (from local_path_override)" in f.message


def test_deprecated_extension_file_is_a_warning(tmp_path: Path) -> None:
    root = workspace(tmp_path, "0.73.0")
    text = (
        (root / "MODULE.bazel")
        .read_text()
        .replace("crate_universe:extensions.bzl", "crate_universe:extension.bzl")
    )
    (root / "MODULE.bazel").write_text(text)
    f = only(rr8(root), "RR808")
    assert f.severity == "warning" and "deprecated in rules_rust 0.73.0" in f.message
    assert "use `:extensions.bzl`" in f.message
