"""Classes of problem a user meets first: the label forms rules_rust's own examples write, .bazelrc
flags, a path inside a workspace, the report as pytest shows it, locations that open.

Each test writes a small workspace (real Starlark, real files) the way users write them and checks
the catch and its neighbours that must stay quiet.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from test_preflight_classes import MODULE, PLATFORMS, found, run

from pytest_rules_rust.cli import main
from pytest_rules_rust.preflight import PreflightReport, preflight, preflight_workspace, workspace_of
from pytest_rules_rust.preflight.checks.platforms import KNOWN_TRIPLES, triple_advice, triple_arch_os
from pytest_rules_rust.preflight.text import a_or_an

CORPUS = Path(__file__).resolve().parent.parent.parent / "shared" / "corpus"


@pytest.fixture(autouse=True)
def own_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The command line caches results: give each test its own cache directory."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("PYTEST_RULES_RUST_CACHE", str(cache))
    return cache


def test_hub_package_short_form_names_a_crate(tmp_path: Path) -> None:
    # ``@crates//serde`` is ``@crates//serde:serde``: the crate serde, like ``@crates//:serde``
    build = (
        'filegroup(name = "a", srcs = ["@crates//serde", "@crates//streams", "@crates//serde_extra",'
        ' "@crates//serde__serde_bin", "@crates//:serde", "@crates//serde:serde"])\n'
        'filegroup(name = "b", srcs = ["@crates//tokyo"])\n'
        'filegroup(name = "c", srcs = ["@crates//:tokyo"])\n'
        'filegroup(name = "d", srcs = ["@crates//some/package:file", "@crates//some/tokyo"])\n'
    )
    report = run(tmp_path, {"BUILD.bazel": build})
    assert found(report) == [("RR301", "BUILD.bazel", 2, "error"), ("RR301", "BUILD.bazel", 3, "error")]
    short = report.findings[0]
    assert "'tokyo'" in short.message and "did you mean @crates//tokio" not in short.hint


def test_hub_short_form_in_a_corpus_example(tmp_path: Path) -> None:
    """rules_rust's hello_world writes ``@crates_in_workspace//anyhow``; an unknown crate in that
    form is RR301 exactly like ``//:name``."""
    source = CORPUS / "rules_rust_examples" / "hello_world"
    if not source.is_dir():
        pytest.skip(f"the shared corpus is not at {source} on this machine")

    ws = tmp_path / "hello_world"
    shutil.copytree(source, ws)
    build = ws / "BUILD.bazel"
    text = build.read_text()
    assert '"@crates_in_workspace//anyhow",' in text
    build.write_text(
        text.replace(
            '"@crates_in_workspace//anyhow",',
            '"@crates_in_workspace//anyhow",\n        "@crates_in_workspace//serde",\n'
            '        "@crates_in_workspace//:serde",',
            1,
        )
    )
    report = preflight_workspace(ws, use_buildifier=False)
    crates = [(f.code, f.severity, "serde" in f.message) for f in report.findings if f.code == "RR301"]
    assert crates == [("RR301", "error", True)] * 2, report.format()


def test_missing_bazelrc_platform_fails_every_build_or_one_config(tmp_path: Path) -> None:
    rc = (
        "build --platforms=//:riscv46\n"
        "build:arm --platforms=//plat:arm64\n"
        "common:wasm --platforms=//:wasm\n"  # exists: quiet
        "build --platforms=@nowhere//:p\n"
        "build:x --platforms=@nowhere//:p\n"
        "query --platforms=//:also_missing\n"  # not a build: quiet
    )
    report = run(tmp_path, {"BUILD.bazel": PLATFORMS.replace('"riscv"', '"riscv64"'), ".bazelrc": rc})
    rc_findings = [(f.code, f.line, f.severity) for f in report.findings if f.file == ".bazelrc"]
    assert rc_findings == [
        ("RR102", 1, "error"),
        ("RR101", 2, "warning"),
        ("RR104", 4, "error"),
        ("RR104", 5, "warning"),
    ], report.format()
    assert "did you mean :riscv64" in report.findings[0].hint
    assert "--config=arm" in report.findings[1].message
    # the same label in a BUILD platform attribute is the same catch
    build = run(tmp_path / "b", {"BUILD.bazel": 'filegroup(name = "f", target_platform = "//:riscv46")\n'})
    assert [(f.code, f.severity) for f in build.findings] == [("RR102", "error")], build.format()


def test_bazelrc_platform_that_is_not_a_platform(tmp_path: Path) -> None:
    build = PLATFORMS + 'config_setting(name = "riscv_setting", values = {"cpu": "riscv64"})\n'
    build += 'alias(name = "default", actual = ":riscv")\n'
    rc = "build --platforms=//:riscv_setting\nbuild:a --platforms=//:default\n"
    rc += "build:b --platforms=//:riscv_setting\n"
    report = run(tmp_path, {"BUILD.bazel": build, ".bazelrc": rc})
    rc_findings = [(f.code, f.line, f.severity) for f in report.findings if f.file == ".bazelrc"]
    assert rc_findings == [("RR203", 1, "error"), ("RR203", 3, "warning")], report.format()
    first = report.findings[0]
    assert "is a config_setting, not a platform()" in first.message and first.hint == "did you mean :riscv?"


def test_bazelrc_host_and_execution_platforms_resolve_too(tmp_path: Path) -> None:
    rc = (
        "build --host_platform=//:rsicv\n"
        "build --extra_execution_platforms=//:wasm,//:gone\n"
        "build:remote --extra_execution_platforms=//:all\n"  # a pattern: quiet
        "build --host_platform=//:riscv\n"  # exists; not a target platform, so no RR202 either
    )
    report = run(tmp_path, {"BUILD.bazel": PLATFORMS, ".bazelrc": rc})
    assert [(f.code, f.line, f.severity) for f in report.findings] == [
        ("RR102", 1, "error"),
        ("RR102", 2, "error"),
    ], report.format()
    assert report.findings[0].message.startswith("--host_platform in .bazelrc: //:rsicv")
    assert "'gone'" in report.findings[1].message


def test_bazelrc_imports_are_read_with_their_own_lines(tmp_path: Path) -> None:
    rc = "try-import %workspace%/user.bazelrc\nimport %workspace%/tools/ci.bazelrc\n"
    rc += "build:w --platforms=//:wasm\n"
    files = {
        "BUILD.bazel": PLATFORMS,
        ".bazelrc": rc,
        "tools/ci.bazelrc": "# CI\nbuild:ci --platforms=//:riscv46\nimport %workspace%/.bazelrc\n",
        "tools/BUILD.bazel": "",
    }
    report = run(tmp_path, files)
    rc_findings = [(f.code, f.file, f.line, f.severity) for f in report.findings if "bazelrc" in f.file]
    assert rc_findings == [("RR102", "tools/ci.bazelrc", 2, "warning")], report.format()
    assert "--config=ci" in report.findings[0].message


def test_bazelrc_platform_typo_in_a_corpus_example(tmp_path: Path) -> None:
    """cross_compile_nix sets ``build --platforms=//bazel/platforms:missing`` (a sentinel platform
    that exists); misspelt, every build of it fails."""
    source = CORPUS / "rules_rust_examples" / "cross_compile_nix"
    if not source.is_dir():
        pytest.skip(f"the shared corpus is not at {source} on this machine")
    ws = tmp_path / "nix"
    shutil.copytree(source, ws)
    assert preflight_workspace(ws, use_buildifier=False).errors == ()
    rc = ws / ".bazelrc"
    lines = rc.read_text().splitlines()
    number = lines.index("build --platforms=//bazel/platforms:missing") + 1
    lines[number - 1] = "build --platforms=//bazel/platforms:misssing"
    rc.write_text("\n".join(lines) + "\n")
    report = preflight_workspace(ws, use_buildifier=False)
    assert [(f.code, f.file, f.line) for f in report.errors] == [("RR102", ".bazelrc", number)], (
        report.format()
    )
    assert "did you mean :missing?" in report.errors[0].hint


def test_bazelrc_platform_in_a_package_with_macros_is_a_warning(tmp_path: Path) -> None:
    build = (
        'load("@rules_rust//rust:defs.bzl", "rust_binary")\n'
        'load("@bazel_skylib//rules:build_test.bzl", "build_test")\n\n'
        'build_test(name = "smoke", targets = [])\n'
        'platform(name = "arm", constraint_values = ["@platforms//cpu:aarch64", "@platforms//os:linux"])\n'
    )
    module = MODULE + 'bazel_dep(name = "bazel_skylib", version = "1.7.1")\n'
    rc = "build --platforms=//:nope\nbuild --platforms=//:smoke_arm\nbuild:a --platforms=//:arm\n"
    report = run(tmp_path, {"MODULE.bazel": module, "BUILD.bazel": build, ".bazelrc": rc})
    rc_findings = [(f.code, f.line, f.severity) for f in report.findings if f.file == ".bazelrc"]
    # a macro might create //:nope (warned), smoke_arm is named after the macro call (quiet)
    assert rc_findings == [("RR102", 1, "warning")], report.format()


def test_cpu_typo_gets_no_triple_advice(tmp_path: Path) -> None:
    build = (
        'platform(name = "arm", constraint_values = ["@platforms//cpu:arch64", "@platforms//os:linux"])\n'
        'platform(name = "rv", constraint_values = ["@platforms//cpu:riscv64", "@platforms//os:linux"])\n'
        'platform(name = "x", constraint_values = ["@platforms//cpu:x86_64", "@platforms//os:windows"])\n'
        'filegroup(name = "f", srcs = [], target_platforms = [":arm", ":rv", ":x"])\n'
    )
    report = run(tmp_path, {"BUILD.bazel": build})
    assert found(report) == [
        ("RR201", "BUILD.bazel", 1, "error"),
        ("RR202", "BUILD.bazel", 2, "error"),
        ("RR202", "BUILD.bazel", 3, "error"),
    ], report.format()
    assert "did you mean @platforms//cpu:aarch64" in report.findings[0].hint
    assert report.findings[1].hint.startswith('add "riscv64gc-unknown-linux-gnu" (or its musl variant)')
    assert report.findings[2].hint.startswith('add "x86_64-pc-windows-msvc" to')
    assert " a a" not in report.format() and " a x" not in report.format()


def test_advised_triples_map_back_to_their_platform() -> None:
    for (cpu, os_), triple in KNOWN_TRIPLES.items():
        assert triple_arch_os(triple) == (cpu, os_), triple
    assert "Rust triple for sparc64/netbsd" in triple_advice("sparc64", "netbsd")


def test_report_reads_in_an_assertion(tmp_path: Path) -> None:
    report = run(tmp_path, {"BUILD.bazel": 'alias(name = "a", actual = "//gone:x")\n'})
    assert str(report) == report.format()
    head = "<PreflightReport: 1 error, 0 warnings: "
    assert repr(report).startswith(head)
    listed = repr(report).removeprefix(head)
    assert listed.startswith("BUILD.bazel:1 RR101 attribute actual") and listed.endswith(">")
    assert "\n" not in repr(report) and "hint" not in repr(report)
    with pytest.raises(AssertionError) as failed:
        assert report.ok, report  # pytest shows the message object by its repr
    assert "BUILD.bazel:1 RR101" in str(failed.value)
    assert repr(PreflightReport()) == "<PreflightReport: 0 errors, 0 warnings>"
    many = PreflightReport(report.findings * 12)
    assert repr(many).endswith("; and 2 more>") and repr(many).count("RR101") == 10
    assert report.format().endswith(f"(paths relative to {tmp_path / 'ws'})")


def _workspace(tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    for rel, content in {
        "MODULE.bazel": 'module(name = "ws")\n',
        "BUILD.bazel": 'filegroup(name = "top", srcs = ["//lib:lib"])\n',
        "lib/BUILD.bazel": 'filegroup(name = "lib", srcs = ["//:top", "//lib/deep:gone"])\n',
        "lib/defs.bzl": "X = 1\n",
        "lib/src/a.txt": "",
    }.items():
        (ws / rel).parent.mkdir(parents=True, exist_ok=True)
        (ws / rel).write_text(content)
    return ws


def test_a_path_inside_a_workspace_checks_the_workspace(tmp_path: Path) -> None:
    ws = _workspace(tmp_path)
    expected = [("RR101", "lib/BUILD.bazel", 1, "error")]  # //lib/deep: the one real finding
    for inside in (ws / "lib", ws / "lib" / "src", ws / "MODULE.bazel", ws / "lib" / "BUILD.bazel"):
        assert workspace_of(inside) == (ws, "MODULE.bazel")
        report = preflight(inside, use_buildifier=False)
        assert found(report) == expected, (inside, report.format())
    assert workspace_of(ws / "lib" / "defs.bzl") == (ws, "MODULE.bazel")
    for cargo in ("Cargo.toml", "lib/Cargo.toml", "Cargo.lock"):  # a Cargo file is not a document
        (ws / cargo).write_text("")
        assert workspace_of(ws / cargo) == (ws, "MODULE.bazel")
        assert found(preflight(ws / cargo, use_buildifier=False)) == expected
    # a directory of BUILD files in no workspace is checked as it is
    loose = tmp_path / "loose"
    (loose / "BUILD").parent.mkdir()
    (loose / "BUILD").write_text('filegroup(name = "x")\n')
    assert workspace_of(loose) == (loose, "")


def test_cli_says_which_workspace_it_checks(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    ws = _workspace(tmp_path)
    assert main(["preflight", str(ws / "lib"), "--no-buildifier"]) == 1
    out, err = capsys.readouterr()
    assert f"preflight: checking the workspace at {ws} (the directory holding MODULE.bazel)" in err
    assert "RR101" in out and out.rstrip().endswith(f"(paths relative to {ws})")
    monkeypatch.chdir(ws / "lib")
    assert main(["preflight", "../MODULE.bazel", "--json", "--no-buildifier"]) == 1
    out, err = capsys.readouterr()
    assert err == ""
    assert [f["file"] for f in json.loads(out)["findings"]] == ["lib/BUILD.bazel"]


def test_document_findings_name_the_path_as_given(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "guide.md").write_text('text\n```starlark\nx = "1.0\n```\n')
    assert main(["preflight", str(docs / "guide.md"), "--no-buildifier"]) == 1
    out = capsys.readouterr().out
    assert out.startswith(f"{docs / 'guide.md'}:3: error RR001")
    assert "relative to" not in out
    monkeypatch.chdir(tmp_path)
    assert main(["preflight", os.path.join("docs", "guide.md"), "--json", "--no-buildifier"]) == 1
    (finding,) = json.loads(capsys.readouterr().out)["findings"]
    assert (finding["file"], finding["line"]) == ("docs/guide.md", 3)


def test_messages_take_the_article_their_word_needs(tmp_path: Path) -> None:
    words = ("aarch64", "int", "rust_library", "x86_64", "s390x", "Alias", "riscv64", "")
    assert [a_or_an(w) for w in words] == [
        "an aarch64",
        "an int",
        "a rust_library",
        "an x86_64",
        "an s390x",
        "an Alias",
        "a riscv64",
        "a ",
    ]
    module = MODULE + 'register_toolchains("//:exported")\n'
    build = 'exports_files(["x"])\nenvironment(name = "exported")\n'
    report = run(tmp_path, {"MODULE.bazel": module, "BUILD.bazel": build})
    messages = [f.message for f in report.findings if f.code == "RR401"]
    assert messages == ["register_toolchains('//:exported') names an environment, not a toolchain()"], (
        report.format()
    )


def test_an_edited_imported_rc_file_is_not_answered_from_the_cache(tmp_path: Path) -> None:
    """The run cache keys on the rc files .bazelrc imports, also in hidden directories."""
    root = tmp_path / "ws"
    files = {
        "MODULE.bazel": MODULE,
        "BUILD.bazel": PLATFORMS,
        ".bazelrc": "import %workspace%/.ci/ci.bazelrc\n",
        ".ci/ci.bazelrc": "build --platforms=//:wasm\n",
    }
    for rel, content in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(content)
    assert preflight_workspace(root, use_buildifier=False, cache=True).errors == ()
    (root / ".ci/ci.bazelrc").write_text("build --platforms=//:wasm_typo\n")
    report = preflight_workspace(root, use_buildifier=False, cache=True)
    assert [(f.code, f.file, f.line) for f in report.errors] == [("RR102", ".ci/ci.bazelrc", 1)]
