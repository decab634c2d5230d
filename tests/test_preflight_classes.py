"""The classes of false alarm preflight must not raise, and the true catches beside each of them.

Each test writes a small workspace that shows one class the way real workspaces do (Bazel's
dialect, strings that look like labels, Bazel built-ins, crate_universe's generated names,
unreachable files, manual targets, version-dependent resolution, platform triples).
"""

from __future__ import annotations

from pathlib import Path

from pytest_rules_rust.preflight import PreflightReport, preflight_markdown, preflight_workspace
from pytest_rules_rust.preflight.checks.base import close_match
from pytest_rules_rust.preflight.checks.platforms import triple_arch_os
from pytest_rules_rust.preflight.evaluate import parse_error

MODULE = """module(name = "ws")

bazel_dep(name = "rules_rust", version = "0.73.0")
bazel_dep(name = "platforms", version = "0.0.10")

rust = use_extension("@rules_rust//rust:extensions.bzl", "rust")
rust.toolchain(
    edition = "2021",
    extra_target_triples = ["aarch64-unknown-linux-gnu", "wasm32-unknown-unknown"],
)
use_repo(rust, "rust_toolchains")
register_toolchains("@rust_toolchains//:all")

crate = use_extension("@rules_rust//crate_universe:extensions.bzl", "crate")
crate.spec(package = "serde", version = "1.0")
crate.spec(package = "tokio-stream", package_alias = "streams", version = "0.1")
crate.annotation(crate = "serde", extra_aliased_targets = {"serde_extra": "serde_lib"})
crate.from_specs()
use_repo(crate, "crates")
"""


def run(tmp_path: Path, files: dict[str, str]) -> PreflightReport:
    root = tmp_path / "ws"
    for rel, content in {"MODULE.bazel": MODULE, **files}.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)
    return preflight_workspace(root, use_buildifier=False)


def found(report: PreflightReport) -> list[tuple[str, str, int, str]]:
    return [(f.code, f.file, f.line, f.severity) for f in report.findings]


def test_bazel_dialect_keyword_only_parameters(tmp_path: Path) -> None:
    report = run(
        tmp_path,
        {
            "defs.bzl": 'def triple(*, name, arch = "x86_64"):\n    return name + arch\n',
            "BUILD.bazel": 'load(":defs.bzl", "triple")\n\nfilegroup(name = triple(name = "a"))\n',
        },
    )
    assert found(report) == [], report.format()


def test_strings_are_strings(tmp_path: Path) -> None:
    template = (
        '"""Templates."""\n\n_T = """\\\nload("@rules_rust//rust:defs.bzl", "rust_library")\n'
        '"""\n\ndef render():\n    return _T\n\n'
        "flag = rule(implementation = render, build_setting = config.string(flag = True),\n"
        '    attrs = {"pattern": attr.string(), "dep": attr.label()})\n'
    )
    report = run(
        tmp_path,
        {
            "defs.bzl": template,
            "BUILD.bazel": 'load(":defs.bzl", "flag")\n\n'
            'flag(name = "f", build_setting_default = "//not/a:package", pattern = "//neither:this",'
            ' dep = "//missing:dep")\n',
        },
    )
    # the load() inside the template is text, string attributes are text; the label attribute is checked
    assert found(report) == [("RR101", "BUILD.bazel", 3, "error")], report.format()


def test_bazel_builtins_are_known(tmp_path: Path) -> None:
    bzl = (
        "def _impl(ctx):\n    return [DefaultInfo(), OutputGroupInfo(), cc_common, set([1]), ProtoInfo]\n\n"
        'r = rule(implementation = _impl, attrs = {"_cc": attr.label(default = configuration_field('
        'fragment = "cpp", name = "cc_toolchain"))})\n'
    )
    report = run(tmp_path, {"defs.bzl": bzl, "BUILD.bazel": 'load(":defs.bzl", "r")\n\nr(name = "x")\n'})
    assert found(report) == [], report.format()
    missing = run(tmp_path / "2", {"BUILD.bazel": 'rust_binary(name = "x")\n'})
    assert found(missing) == [("RR002", "BUILD.bazel", 1, "error")], missing.format()


def test_crate_universe_generated_names(tmp_path: Path) -> None:
    build = (
        'filegroup(name = "a", srcs = ["@crates//:serde", "@crates//:streams", "@crates//:serde_extra",'
        ' "@crates//:serde-1.0.210", "@crates//:serde__serde_bin"])\n'
        'filegroup(name = "b", srcs = ["@crates//:tokyo"])\n'
    )
    report = run(tmp_path, {"BUILD.bazel": build})
    assert found(report) == [("RR301", "BUILD.bazel", 2, "error")], report.format()


def test_only_reachable_bzl_files_are_evaluated(tmp_path: Path) -> None:
    report = run(
        tmp_path,
        {
            "dead/generated.bzl": 'load("@rules_cc//cc:defs.bzl", "cc_library")\nx = (\n',
            "lib/used.bzl": "y = (\n",
            "BUILD.bazel": 'load("//lib:used.bzl", "y")\n',
            "lib/BUILD.bazel": "",
            "dead/BUILD.bazel": "",
        },
    )
    assert found(report) == [("RR001", "lib/used.bzl", 1, "error")], report.format()


def test_references_from_manual_targets_are_warnings(tmp_path: Path) -> None:
    build = (
        'alias(name = "m", actual = "//gone:target", tags = ["manual"])\n'
        'alias(name = "n", actual = "//gone:target")\n'
    )
    report = run(tmp_path, {"BUILD.bazel": build})
    assert found(report) == [("RR101", "BUILD.bazel", 1, "warning"), ("RR101", "BUILD.bazel", 2, "error")]
    assert "manual" in report.findings[0].message


def test_platforms_without_bazel_dep_depends_on_the_bazel_version(tmp_path: Path) -> None:
    module = MODULE.replace('bazel_dep(name = "platforms", version = "0.0.10")\n', "")
    build = 'config_setting(name = "arm", constraint_values = ["@platforms//cpu:aarch64"])\n'
    report = run(tmp_path, {"MODULE.bazel": module, "BUILD.bazel": build})
    (only,) = report.findings
    assert (only.code, only.severity) == ("RR104", "warning") and "Bazel 8" in only.message
    pinned = run(tmp_path / "8", {"MODULE.bazel": module, "BUILD.bazel": build, ".bazelversion": "8.1.0\n"})
    assert [(f.code, f.severity) for f in pinned.findings] == [("RR104", "error")], pinned.format()


PLATFORMS = """platform(name = "wasm", constraint_values = ["@platforms//cpu:wasm32", "@platforms//os:none"])
platform(name = "riscv", constraint_values = ["@platforms//cpu:riscv64", "@platforms//os:linux"])
"""


def test_wasm_triple_maps_like_rules_rust(tmp_path: Path) -> None:
    assert triple_arch_os("wasm32-unknown-unknown") == ("wasm32", "none")
    assert triple_arch_os("wasm32-wasip1") == ("wasm32", "wasi")
    assert triple_arch_os("aarch64-apple-darwin") == ("aarch64", "osx")
    build = PLATFORMS + 'filegroup(name = "w", srcs = [], target_platform = ":wasm")\n'
    assert found(run(tmp_path, {"BUILD.bazel": build})) == []


def test_unserved_platform_is_an_error_where_every_build_uses_it(tmp_path: Path) -> None:
    always = run(tmp_path, {"BUILD.bazel": PLATFORMS, ".bazelrc": "build --platforms=//:riscv\n"})
    assert found(always) == [("RR202", "BUILD.bazel", 2, "error")], always.format()
    config = run(tmp_path / "c", {"BUILD.bazel": PLATFORMS, ".bazelrc": "build:riscv --platforms=//:riscv\n"})
    assert found(config) == [("RR202", "BUILD.bazel", 2, "warning")], config.format()


def test_repeated_warnings_are_collapsed(tmp_path: Path) -> None:
    module = MODULE.replace('bazel_dep(name = "platforms", version = "0.0.10")\n', "")
    build = "".join(
        f'config_setting(name = "c{i}", constraint_values = ["@platforms//cpu:aarch64"])\n' for i in range(6)
    )
    report = run(tmp_path, {"MODULE.bazel": module, "BUILD.bazel": build})
    (only,) = report.findings
    assert (
        only.line == 1 and "also at BUILD.bazel:2, BUILD.bazel:3, BUILD.bazel:4, and 2 more" in only.message
    )


def test_did_you_mean_never_suggests_the_same_name() -> None:
    assert close_match("crates_vendor", ["crates_vendor", "crates_vendors"]) == "crates_vendors"
    assert close_match("crates_vendor", ["crates_vendor"]) == ""

    class Err(Exception):
        pass

    prob = parse_error(Err("error: Module has no symbol `crates_vendor`, did you mean `crates_vendor`?"))
    assert "did you mean" not in prob.message


def test_markdown_python_fences_and_block_order(tmp_path: Path) -> None:
    doc = tmp_path / "guide.md"
    doc.write_text(
        "```python\nprint('plain python is skipped')\nimport os\n```\n\n"
        '```python\nload("@rules_rust//rust:defs.bzl", "rust_library", "rust_test")\n\n'
        'rust_library(name = "lib", srcs = ["lib.rs"])\n```\n\n'
        'Then test it:\n\n```python\nrust_test(name = "lib_test", crate = ":lib")\n```\n'
    )
    report = preflight_markdown(doc, use_buildifier=False)
    assert report.findings == (), report.format()


def test_cargo_workspace_whose_member_is_itself(tmp_path: Path) -> None:
    module = MODULE.replace(
        "crate.from_specs()",
        'crate.from_cargo(cargo_lockfile = "//:Cargo.lock", manifests = ["//:Cargo.toml"])',
    )
    cargo = '[workspace]\nmembers = ["."]\n\n[package]\nname = "app"\n\n[dependencies]\nanyhow = "1"\n'
    build = (
        'filegroup(name = "a", srcs = ["@crates//:anyhow"])\n'
        'filegroup(name = "b", srcs = ["@crates//:anyhowz"])\n'
    )
    report = run(
        tmp_path, {"MODULE.bazel": module, "Cargo.toml": cargo, "Cargo.lock": "", "BUILD.bazel": build}
    )
    assert found(report) == [("RR301", "BUILD.bazel", 2, "error")], report.format()


def test_the_workspace_s_own_module_extensions_are_evaluated(tmp_path: Path) -> None:
    module = MODULE + 'ext = use_extension("//tools:ext.bzl", "ext")\n'
    report = run(tmp_path, {"MODULE.bazel": module, "tools/BUILD.bazel": "", "tools/ext.bzl": "ext = (\n"})
    assert found(report) == [("RR001", "tools/ext.bzl", 1, "error")], report.format()
