"""The Cargo side of every workspace: vendored once per Cargo.lock, then built and tested offline.

``cargo test --locked`` runs on the host against the vendored crates with an empty ``CARGO_HOME`` and
``net.offline``, so nothing but the vendor directory can supply a crate. The vendor directory and the
cargo target directory live in the shared cache, so a warm run only rebuilds the workspace's own crates.
"""

from __future__ import annotations

import os
import platform
import re
import shutil
import subprocess
import tomllib
from collections.abc import Callable
from pathlib import Path

import pytest
import starlark
from workspace_helpers import template_params

from pytest_rules_rust.builders.crates import cargo_offline_args, lockfile_key, vendor_crates
from pytest_rules_rust.cache import Cache
from pytest_rules_rust.errors import BuildError, WorkspaceError
from pytest_rules_rust.workspaces import Template, find_template, materialise

ARCH = platform.machine()
# Workspaces whose binaries terminate on their own: (binary, expected first line of stdout).
RUNNABLE = {
    "from_cargo": ("greet", f"hello from {ARCH}"),
    "from_specs": ("from_specs", f"hello from {ARCH}"),
    "cross": ("hello_cross", f"hello from {ARCH}"),
}


@pytest.fixture(scope="session")
def host_cargo() -> str:
    cargo = shutil.which("cargo")
    if cargo is None:
        pytest.skip("cargo is not on PATH: run scripts/provision.sh (installs cargo-web)")
    return cargo


@pytest.fixture(scope="session")
def vendored(rules_rust_cache: Cache, host_cargo: str) -> Callable[[Template], Path]:
    """Vendor each template's Cargo.lock once per session (and once per machine, via the cache)."""
    done: dict[Path, Path] = {}

    def get(template: Template) -> Path:
        if template.root not in done:
            done[template.root] = vendor_crates(template.root, rules_rust_cache)
        return done[template.root]

    return get


def _cargo(args: list[str], cargo: str, env_home: Path, log: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CARGO_")}
    env["CARGO_HOME"] = str(env_home)
    proc = subprocess.run(["nice", cargo, *args], capture_output=True, text=True, env=env, timeout=1800)
    log.write_text(proc.stdout + proc.stderr)
    return proc


def _build_and_test(
    template: Template, params: dict[str, object], tmp_path: Path, cache: Cache, vendor: Path, cargo: str
) -> None:
    ws = materialise(template.name, tmp_path / "ws", params)
    offline = cargo_offline_args(vendor)
    target = cache.path("cargo-target", "host", template.name)
    features = ["--features", ",".join(template.cargo_features)] if template.cargo_features else []
    common = [
        *offline,
        "--manifest-path",
        str(ws.root / "Cargo.toml"),
        "--target-dir",
        str(target),
        *features,
    ]
    home = tmp_path / "empty-cargo-home"
    home.mkdir()
    with cache.lock(f"cargo-target-host-{template.name}"):
        test = _cargo(["test", "--locked", "--workspace", *common], cargo, home, tmp_path / "test.log")
        assert test.returncode == 0, (
            f"cargo test failed (log {tmp_path / 'test.log'}):\n{test.stderr[-3000:]}"
        )
        build = _cargo(["build", "--locked", "--bins", *common], cargo, home, tmp_path / "build.log")
        assert build.returncode == 0, (
            f"cargo build failed (log {tmp_path / 'build.log'}):\n{build.stderr[-3000:]}"
        )
        passed = sum(int(n) for n in re.findall(r"test result: ok\. (\d+) passed", test.stdout))
        assert passed >= 1, f"no tests ran:\n{test.stdout[-2000:]}"
        assert "FAILED" not in test.stdout
        for binary in template.cargo_binaries:
            assert (target / "debug" / binary).is_file(), (
                f"[cargo] binaries names {binary!r}; cargo did not build it"
            )
        if template.name in RUNNABLE:
            binary, first_line = RUNNABLE[template.name]
            run = subprocess.run([str(target / "debug" / binary)], capture_output=True, text=True, timeout=60)
            assert run.returncode == 0, run.stderr
            assert run.stdout.splitlines()[0] == first_line


@pytest.mark.cargo
@pytest.mark.parametrize("template", template_params())
def test_cargo_side_builds_and_tests_pass_offline(
    template: Template,
    tmp_path: Path,
    rules_rust_cache: Cache,
    vendored: Callable[[Template], Path],
    host_cargo: str,
) -> None:
    _build_and_test(template, {}, tmp_path, rules_rust_cache, vendored(template), host_cargo)


@pytest.mark.cargo
@pytest.mark.parametrize(
    ("name", "params"),
    [
        ("from_cargo", {"rust_edition": "2015"}),
        ("from_cargo", {"rust_edition": "2024", "rust_versions": ["1.85.0"]}),
        ("from_specs", {"rust_edition": "2024", "rust_versions": ["1.85.0"]}),
        ("cross", {"rust_edition": "2018", "sysroot": True}),
    ],
    ids=["from_cargo-2015", "from_cargo-2024", "from_specs-2024", "cross-2018"],
)
def test_cargo_side_builds_with_overridden_parameters(
    name: str,
    params: dict[str, object],
    tmp_path: Path,
    rules_rust_cache: Cache,
    vendored: Callable[[Template], Path],
    host_cargo: str,
) -> None:
    template = find_template(name)
    _build_and_test(template, params, tmp_path, rules_rust_cache, vendored(template), host_cargo)
    editions = {
        str(path.relative_to(tmp_path)): tomllib.loads(path.read_text())["package"]["edition"]
        for path in (tmp_path / "ws").rglob("Cargo.toml")
        if "package" in tomllib.loads(path.read_text())
    }
    assert editions and set(editions.values()) == {params["rust_edition"]}, editions


def test_vendor_is_filled_once_per_lockfile(
    rules_rust_cache: Cache, vendored: Callable[[Template], Path]
) -> None:
    template = find_template("from_specs")
    first = vendored(template)
    again = vendor_crates(template.root, rules_rust_cache)
    assert again == first and (first.parent / ".complete").exists()
    lock = tomllib.loads((template.root / "Cargo.lock").read_text())
    expected = {
        f"{p['name']}-{p['version']}" for p in lock["package"] if p.get("source", "").startswith("registry+")
    }
    assert {d.name for d in first.iterdir() if d.is_dir()} == expected
    assert all((first / name / ".cargo-checksum.json").is_file() for name in expected)


def test_vendor_failure_keeps_the_log(tmp_path: Path, host_cargo: str) -> None:
    ws = tmp_path / "badlock"
    (ws / "src").mkdir(parents=True)
    (ws / "Cargo.toml").write_text('[package]\nname = "badlock"\nversion = "0.1.0"\nedition = "2021"\n')
    (ws / "src" / "main.rs").write_text("fn main() {}\n")
    (ws / "Cargo.lock").write_text('version = 3\n\n[[package]]\nname = "other"\nversion = "0.1.0"\n')
    cache = Cache(tmp_path / "cache")
    with pytest.raises(BuildError) as info:
        vendor_crates(ws, cache)
    assert "cargo vendor failed" in str(info.value) and "--locked" in str(info.value)
    assert info.value.paths["log"].is_file()
    assert not cache.is_complete(lockfile_key(ws))  # a failed fill leaves nothing that looks complete
    with pytest.raises(WorkspaceError, match=r"Cargo\.lock does not exist"):
        vendor_crates(tmp_path / "cache", cache)


def test_offline_args_are_toml_values_and_follow_the_mount_point(tmp_path: Path) -> None:
    odd = tmp_path / 'we"ird\\dir'
    args = cargo_offline_args(odd)
    values = tomllib.loads("\n".join(a.replace("=", " = ", 1) for a in args[1::2]))
    assert values["source"]["crates-io"]["replace-with"] == "rr-vendored"
    assert values["source"]["rr-vendored"]["directory"] == str(odd.resolve())
    assert values["net"] == {"offline": True}
    assert 'source.rr-vendored.directory="/crates"' in cargo_offline_args(odd, mount_point="/crates")


def _crate_specs(module_text: str) -> dict[str, dict[str, object]]:
    specs: dict[str, dict[str, object]] = {}
    prelude = """
def use_extension(bzl, name):
    ignore = lambda **kw: None
    return struct(spec = lambda **kw: _spec(kw), from_specs = ignore, toolchain = ignore)
def module(**kw): pass
def bazel_dep(**kw): pass
def use_repo(*a, **kw): pass
def register_toolchains(*a): pass
"""
    module = starlark.Module()
    module.add_callable("_spec", lambda kw: specs.__setitem__(kw["package"], kw))
    globs = starlark.Globals.extended_by([starlark.LibraryExtension.StructType])
    starlark.eval(module, starlark.parse("prelude", prelude), globs)
    starlark.eval(module, starlark.parse("MODULE.bazel", module_text), globs)
    return specs


def _spec_mismatches(module_text: str, cargo_text: str) -> list[str]:
    specs = _crate_specs(module_text)
    deps = tomllib.loads(cargo_text)["dependencies"]
    problems = [f"{n}: only in MODULE.bazel" for n in set(specs) - set(deps)]
    problems += [f"{n}: only in Cargo.toml" for n in set(deps) - set(specs)]
    for name in set(specs) & set(deps):
        spec, dep = specs[name], deps[name] if isinstance(deps[name], dict) else {"version": deps[name]}
        pairs = {
            "version": (spec.get("version"), dep.get("version")),
            "features": (sorted(spec.get("features", [])), sorted(dep.get("features", []))),  # type: ignore[call-overload]
            "default features": (spec.get("default_features", True), dep.get("default-features", True)),
        }
        problems += [f"{name}: {what} {a!r} != {b!r}" for what, (a, b) in pairs.items() if a != b]
    return sorted(problems)


def test_from_specs_cargo_side_matches_the_crate_specs() -> None:
    root = find_template("from_specs").root
    module, cargo = (root / "MODULE.bazel").read_text(), (root / "Cargo.toml").read_text()
    assert set(_crate_specs(module)) == {"serde", "serde_json", "tokio"}
    assert _spec_mismatches(module, cargo) == []
    lock = tomllib.loads((root / "Cargo.lock").read_text())
    package = next(p for p in lock["package"] if p["name"] == "from_specs")
    assert {d.split(" ")[0] for d in package["dependencies"]} == {"serde", "serde_json", "tokio"}


def test_drift_between_specs_and_cargo_is_detected() -> None:
    root = find_template("from_specs").root
    module, cargo = (root / "MODULE.bazel").read_text(), (root / "Cargo.toml").read_text()
    drifted = module.replace('        "signal",\n', "").replace('version = "1.38"', 'version = "1.40"')
    assert _spec_mismatches(drifted, cargo) == [
        "tokio: features ['macros', 'net', 'rt-multi-thread'] != "
        "['macros', 'net', 'rt-multi-thread', 'signal']",
        "tokio: version '1.40' != '1.38'",
    ]
    assert _spec_mismatches(module, cargo.replace("[dependencies]", '[dependencies]\nanyhow = "1"')) == [
        "anyhow: only in Cargo.toml"
    ]
