"""crate.from_cargo's Cargo files: what crate_universe refuses is found, what it accepts is not.

Each test writes a small Cargo workspace the way real ones are laid out (a root with
``[workspace]``, members by glob, workspace-inherited and renamed dependencies, path
dependencies) and varies one thing. The planted cases in tests/data/preflight/cases show one
defect each; these show the neighbours that must stay quiet.
"""

from __future__ import annotations

from pathlib import Path

from pytest_rules_rust.preflight import PreflightReport, preflight_workspace


def module(pin: str = "0.46.0", manifests: str = '"//:Cargo.toml", "//apps/a:Cargo.toml"') -> str:
    bzl = "extension.bzl" if pin < "0.5" else "extensions.bzl"  # renamed in 0.55.0
    return f"""module(name = "ws")

bazel_dep(name = "rules_rust", version = "{pin}")

crate = use_extension("@rules_rust//crate_universe:{bzl}", "crate")
crate.from_cargo(
    name = "crates",
    cargo_lockfile = "//:Cargo.lock",
    manifests = [{manifests}],
)
use_repo(crate, "crates")
"""


ROOT = """[package]
name = "ws"
version = "0.1.0"

[workspace]
members = ["apps/*"]

[workspace.dependencies]
json = { package = "serde_json", version = "1" }

[dependencies]
cfg-if = "1"
"""

MEMBER = """[package]
name = "a"
version = "0.1.0"

[dependencies]
json.workspace = true
"""


def lock(*names: str) -> str:
    return "version = 3\n" + "".join(f'\n[[package]]\nname = "{n}"\nversion = "1.0.0"\n' for n in names)


def run(tmp_path: Path, files: dict[str, str]) -> PreflightReport:
    base = {
        "MODULE.bazel": module(),
        "BUILD.bazel": "",
        "apps/a/BUILD.bazel": "",
        "Cargo.toml": ROOT,
        "apps/a/Cargo.toml": MEMBER,
        "Cargo.lock": lock("ws", "a", "cfg-if", "serde_json"),
    }
    for rel, content in {**base, **files}.items():
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content.encode() if isinstance(content, str) else content)
    return preflight_workspace(tmp_path, use_buildifier=False)


def found(report: PreflightReport) -> list[tuple[str, str, int]]:
    return [(f.code, f.file, f.line) for f in report.findings]


def test_the_base_workspace_is_clean(tmp_path: Path) -> None:
    build = 'filegroup(name = "x", srcs = ["@crates//:cfg-if", "@crates//:json"])\n'
    assert found(run(tmp_path, {"BUILD.bazel": build})) == []


def test_renamed_dependency_is_known_by_its_key_and_the_package_name_points_there(tmp_path: Path) -> None:
    build = (
        'filegroup(name = "x", srcs = ["@crates//:json", "@crates//:serde_json-1.0.0", '
        '"@crates//:cfg-if-1.0.0"])\n'
        'filegroup(name = "y", srcs = ["@crates//:serde_json"])\n'
    )
    report = run(tmp_path, {"BUILD.bazel": build})
    assert found(report) == [("RR301", "BUILD.bazel", 2)], report.format()
    assert "did you mean @crates//:json?" in report.findings[0].hint


def test_spelling_of_the_package_short_form_is_checked_too(tmp_path: Path) -> None:
    report = run(tmp_path, {"BUILD.bazel": 'filegroup(name = "x", srcs = ["@crates//cfg_if"])\n'})
    assert found(report) == [("RR301", "BUILD.bazel", 1)], report.format()
    assert "did you mean @crates//cfg-if?" in report.findings[0].hint


def test_crates_an_unparsable_manifest_mentions_are_not_called_missing(tmp_path: Path) -> None:
    broken = MEMBER + '\n[dev-dependencies]\nrand-core = { version = "0.6"\n'
    build = 'filegroup(name = "x", srcs = ["@crates//:rand_core", "@crates//:itoa"])\n'
    report = run(tmp_path, {"apps/a/Cargo.toml": broken, "BUILD.bazel": build})
    assert found(report) == [("RR301", "BUILD.bazel", 1), ("RR302", "apps/a/Cargo.toml", 9)], report.format()
    assert "'itoa'" in report.findings[0].message


def test_an_unparsable_workspace_root_leaves_the_hub_unknown(tmp_path: Path) -> None:
    """Its members (and their crates) cannot be listed: no crate is called missing, and the
    root is still reported."""
    broken = ROOT.replace('version = "0.1.0"', 'version = "0.1.0')
    build = 'filegroup(name = "x", srcs = ["@crates//:itoa"])\n'
    report = run(tmp_path, {"Cargo.toml": broken, "BUILD.bazel": build})
    assert found(report) == [("RR302", "Cargo.toml", 3)], report.format()


def test_a_manifest_that_is_not_utf8_is_reported(tmp_path: Path) -> None:
    report = run(tmp_path, {"apps/a/Cargo.toml": MEMBER + "# caf\xe9\n"})
    assert found(report) == [], report.format()  # UTF-8 with an accent is fine
    bad = tmp_path / "apps/a/Cargo.toml"
    bad.write_bytes(MEMBER.encode() + b"# caf\xe9\n")
    report = preflight_workspace(tmp_path, use_buildifier=False)
    assert found(report) == [("RR302", "apps/a/Cargo.toml", 1)], report.format()


def test_untracked_member_root_and_the_versions_that_accept_them(tmp_path: Path) -> None:
    pong = {
        "apps/pong/Cargo.toml": '[package]\nname = "pong"\nversion = "0.1.0"\n',
        "apps/pong/BUILD.bazel": "",
    }
    report = run(tmp_path / "old", pong)
    assert found(report) == [("RR303", "MODULE.bazel", 6)], report.format()
    assert '"//apps/pong:Cargo.toml"' in report.findings[0].hint

    excluded = {"Cargo.toml": ROOT.replace('["apps/*"]', '["apps/*"]\nexclude = ["apps/pong"]'), **pong}
    assert found(run(tmp_path / "excluded", excluded)) == []
    assert found(run(tmp_path / "new", {**pong, "MODULE.bazel": module(pin="0.73.0")})) == []

    only_member = {"MODULE.bazel": module(manifests='"//apps/a:Cargo.toml"')}
    report = run(tmp_path / "no_root", only_member)
    assert found(report) == [("RR303", "MODULE.bazel", 6)], report.format()
    assert '"//:Cargo.toml"' in report.findings[0].hint


def test_path_dependency_inside_the_workspace_is_a_member(tmp_path: Path) -> None:
    files = {
        "Cargo.toml": ROOT.replace('["apps/*"]', '["apps/a"]') + 'util = { path = "libs/util" }\n',
        "libs/util/Cargo.toml": '[package]\nname = "util"\nversion = "0.1.0"\n',
        "Cargo.lock": lock("ws", "a", "cfg-if", "serde_json", "util"),
    }
    report = run(tmp_path, files)
    assert found(report) == [("RR303", "MODULE.bazel", 6)], report.format()
    assert '"//:libs/util/Cargo.toml"' in report.findings[0].hint  # libs/util has no BUILD file


def test_stale_lock_finds_inherited_renamed_and_dev_dependencies(tmp_path: Path) -> None:
    member = MEMBER + '\n[dev-dependencies]\nitoa = "1"\n\n[build-dependencies.cc]\nversion = "1"\n'
    report = run(tmp_path, {"apps/a/Cargo.toml": member, "Cargo.lock": lock("ws", "a", "cfg-if")})
    assert found(report) == [
        ("RR304", "apps/a/Cargo.toml", 6),  # json = serde_json, from [workspace.dependencies]
        ("RR304", "apps/a/Cargo.toml", 9),
        ("RR304", "apps/a/Cargo.toml", 11),
    ], report.format()
    assert "serde_json" in report.findings[0].message
    assert "CARGO_BAZEL_REPIN=1" in report.findings[0].hint


def test_an_empty_lock_file_waiting_for_its_first_repin_is_not_stale(tmp_path: Path) -> None:
    assert found(run(tmp_path, {"Cargo.lock": ""})) == []


def test_a_lock_file_not_in_cargos_own_layout_is_parsed(tmp_path: Path) -> None:
    """Cargo puts ``name`` first in each [[package]]; a lock written otherwise is read as TOML."""
    reordered = "".join(f'[[package]]\nversion = "1.0.0"\nname = "{n}"\n\n' for n in ("ws", "a", "cfg-if"))
    report = run(tmp_path, {"Cargo.lock": reordered})
    assert found(report) == [("RR304", "apps/a/Cargo.toml", 6)], report.format()  # serde_json
