"""The API extractor on a small module written here, and on rules_rust's real Starlark (corpus)."""

from __future__ import annotations

import gzip
import json
import tarfile
from pathlib import Path

import pytest

from pytest_rules_rust.preflight.api import store
from pytest_rules_rust.preflight.api.extract import extract
from pytest_rules_rust.preflight.api.schema import ApiModel, Extension, Macro, Rule
from pytest_rules_rust.preflight.api.store import read_model, write_model

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
NO_CORPUS = "../shared/corpus is not beside this checkout (it holds rules_rust's real Starlark)"

DEFS = '''"""Public rules of a small module."""

load("@bazel_skylib//lib:paths.bzl", "paths")
load("//private:impl.bzl", _thing = "thing", _thing_macro = "thing_macro")

thing = _thing
thing_macro = _thing_macro
'''
IMPL = """
load("@other//:features.bzl", "bazel_features")

_COMMON = {
    "srcs": attr.label_list(allow_files = True),
    "_tool": attr.label(default = "//tools:x"),
}

thing = rule(
    implementation = lambda ctx: None,
    attrs = _COMMON | {
        "mode": attr.string(mandatory = True),
        "out": attr.output(),
    },
    outputs = {"tar": "%{name}.tar"},
    executable = bazel_features.globals.something != None,
)

def thing_macro(name, srcs, level = 1, **kwargs):
    thing(name = name + "_inner", srcs = srcs, mode = "x", **kwargs)
    native.genrule(name = "_{}_gen".format(name), outs = [name + ".txt"], cmd = "")
"""
EXT = """
_tc = tag_class(attrs = {"version": attr.string(mandatory = True), "flags": attr.string_list()})

def _helper(n):
    some_repo(name = "thing_helper_repo")

def _impl(mctx):
    some_repo(name = "thing_repo")
    _helper(1)
    for mod in mctx.modules:
        some_repo(name = mod.name)

thing_ext = module_extension(implementation = _impl, tag_classes = {"toolchain": _tc})
"""
OLD = '''"""Deprecated, use `:defs.bzl`."""

load(":defs.bzl", _thing = "thing")

thing = _thing
'''


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "mymod"
    files = {
        "MODULE.bazel": 'module(name = "mymod", version = "1.2.3")\n',
        "BUILD.bazel": 'toolchain_type(name = "toolchain_type")\nexports_files(["defs.bzl"])\n',
        "defs.bzl": DEFS,
        "old.bzl": OLD,
        "extensions.bzl": EXT,
        "private/BUILD.bazel": "",
        "private/impl.bzl": IMPL,
        "tests/BUILD.bazel": 'filegroup(name = "t")\n',
        "nested/MODULE.bazel": 'module(name = "nested")\n',
        "nested/defs.bzl": "x = 1\n",
    }
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


def test_extract_reads_rules_macros_extensions_and_packages(tree: Path) -> None:
    model = extract(tree, origin="test tree")
    assert (model.module, model.version) == ("mymod", "1.2.3")
    assert model.bzl[":defs.bzl"].exports == {"thing": "rule", "thing_macro": "macro"}  # not `paths`
    kind, rule = model.export(":defs.bzl", "thing")
    assert kind == "rule" and isinstance(rule, Rule)
    assert set(rule.attrs) == {"srcs", "mode", "out"}  # `_tool` is private
    assert rule.attrs["mode"].mandatory and rule.attrs["mode"].type == "string"
    assert rule.attrs["out"].type == "output"
    assert rule.outputs == ("%{name}.tar",)
    _, macro = model.export(":defs.bzl", "thing_macro")
    assert isinstance(macro, Macro)
    assert macro.params == {"name": True, "srcs": True, "level": False} and macro.kwargs
    assert set(macro.creates) == {"{name}_inner", "_{name}_gen", "{name}.txt"} and macro.creates_known
    _, ext = model.export(":extensions.bzl", "thing_ext")
    assert isinstance(ext, Extension)
    assert ext.tags["toolchain"].attrs["version"].mandatory
    assert ext.tags["toolchain"].attrs["flags"].type == "string_list"
    assert ext.repos == ("thing_helper_repo", "thing_repo")  # the computed name cannot be read
    assert model.packages[""].toolchain_types == ("toolchain_type",)
    assert "defs.bzl" in model.packages[""].targets
    assert set(model.unmodelled) == {"tests", "nested"}  # test dirs and nested modules are left out
    assert model.bzl[":old.bzl"].deprecated.startswith("Deprecated, use `:defs.bzl`")
    assert model.source.startswith("test tree; starlark sha256 ")


def test_model_round_trips_through_its_file(tree: Path, tmp_path: Path) -> None:
    model = extract(tree)
    path = write_model(model, tmp_path / "m.json.gz")
    assert read_model(path) == model
    assert json.loads(gzip.decompress(path.read_bytes()))["format"] == 1


def test_fetched_module_is_read_from_an_output_base(
    tree: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    base = tmp_path / "output_base"
    (base / "external").mkdir(parents=True)
    (base / "external" / "mymod+").symlink_to(tree)
    monkeypatch.setenv(store.OUTPUT_BASE_ENV, str(base))
    monkeypatch.setenv("PYTEST_RULES_RUST_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    store.resolve.cache_clear()
    got = store.resolve("mymod", "1.2.3")
    assert got.model is not None and got.origin == f"fetched {base / 'external' / 'mymod+'}"
    assert (tmp_path / "cache" / "api_models" / "mymod" / "1.2.3.json.gz").is_file()
    assert store.resolve("mymod", "9.9.9").model is None
    store.resolve.cache_clear()


def test_fetched_module_is_read_from_the_repository_cache(
    tree: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    entry = tmp_path / "xdg" / "bazel" / "_bazel_me" / "cache" / "repos" / "v1" / "content_addressable"
    entry = entry / "sha256" / ("ab" * 32)
    entry.mkdir(parents=True)
    with tarfile.open(entry / "file", "w:gz") as tar:
        tar.add(tree, arcname="mymod-1.2.3")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("PYTEST_RULES_RUST_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv(store.OUTPUT_BASE_ENV, raising=False)
    store.resolve.cache_clear()
    got = store.resolve("mymod", "1.2.3")
    assert got.model is not None and "repository cache" in got.origin
    assert got.model.export(":defs.bzl", "thing")[0] == "rule"
    store.resolve.cache_clear()


# ---- rules_rust's real Starlark ---------------------------------------------------------------
def _corpus_trees() -> list[tuple[str, str, Path]]:
    if not CORPUS.is_dir():
        return []
    out = [("rules_rust", p.name, p) for p in sorted((CORPUS / "rules_rust_versions").iterdir())]
    out += [
        ("rules_rust_prost", p.name, p / "extensions" / "prost")
        for p in sorted((CORPUS / "rules_rust_versions").iterdir())
        if (p / "extensions" / "prost" / "MODULE.bazel").is_file()
    ]
    out += [
        (p.parent.name, p.name, p)
        for p in sorted((CORPUS / "bazel_modules").glob("*/*"))
        if any(p.rglob("*.bzl"))
    ]
    return out


@pytest.mark.skipif(not CORPUS.is_dir(), reason=NO_CORPUS)
@pytest.mark.parametrize(
    "module,version,path", _corpus_trees(), ids=lambda x: str(x) if isinstance(x, str) else ""
)
def test_shipped_model_is_what_the_extractor_reads_from_the_source(
    module: str, version: str, path: Path
) -> None:
    """The shipped data files are the extractor's output for these trees, not written by hand."""
    fresh = extract(path, module=module, version=version)
    shipped = store.shipped(module, version)
    assert shipped is not None, f"no shipped model for {module} {version}"
    assert fresh.to_json() | {"source": ""} == shipped.to_json() | {"source": ""}
    assert fresh.source.split("sha256 ")[1] == shipped.source.split("sha256 ")[1]
    assert all(f.complete for f in fresh.bzl.values()), [k for k, f in fresh.bzl.items() if not f.complete]


def _model(module: str, version: str) -> ApiModel:
    model = store.shipped(module, version)
    assert model is not None
    return model


def test_shipped_models_hold_the_facts_the_source_shows() -> None:
    """What the issue found by reading rules_rust, rules_oci and toolchains_llvm at their tags."""
    for version, has_prost in (("0.46.0", True), ("0.54.1", True), ("0.55.0", False), ("0.73.0", False)):
        assert ("proto/prost:defs.bzl" in _model("rules_rust", version).bzl) is has_prost
    old_crate = _model("rules_rust", "0.46.0").export("crate_universe:extension.bzl", "crate")[1]
    assert isinstance(old_crate, Extension)
    assert not {"lockfile", "cargo_lockfile"} & set(old_crate.tags["from_specs"].attrs)
    assert old_crate.tags["from_cargo"].attrs["manifests"].type == "label_list"
    rust_046 = _model("rules_rust", "0.46.0").export("rust:extensions.bzl", "rust")[1]
    assert isinstance(rust_046, Extension)
    assert "repository_set" not in rust_046.tags
    assert rust_046.tags["toolchain"].attrs["extra_target_triples"].type == "string_list"
    rust_063 = _model("rules_rust", "0.63.0").export("rust:extensions.bzl", "rust")[1]
    assert isinstance(rust_063, Extension)
    assert rust_063.tags["repository_set"].attrs["target_compatible_with"].type == "label_list"
    assert _model("rules_rust", "0.73.0").bzl["crate_universe:extension.bzl"].deprecated
    rust_073 = _model("rules_rust", "0.73.0").export("rust:extensions.bzl", "rust")[1]
    assert isinstance(rust_073, Extension) and rust_073.repos == ("rust_toolchains",)
    defaults = _model("rules_rust", "0.46.0").values["rust:repositories.bzl"]["DEFAULT_TOOLCHAIN_TRIPLES"]
    assert defaults["x86_64-unknown-linux-gnu"] == "rust_linux_x86_64"
    index = _model("rules_oci", "1.7.6").export("oci:defs.bzl", "oci_image_index")
    assert index[0] == "rule" and isinstance(index[1], Rule) and index[1].outputs == ()
    image = _model("rules_oci", "1.7.6").export("oci:defs.bzl", "oci_image")[1]
    assert isinstance(image, Macro) and {"{name}.digest", "{name}.json.sha256"} <= set(image.creates)
    llvm = _model("toolchains_llvm", "1.0.0").export("toolchain/extensions:llvm.bzl", "llvm")[1]
    assert isinstance(llvm, Extension) and {"toolchain", "sysroot"} <= set(llvm.tags)
    assert _model("rules_rust_prost", "0.73.0").packages[""].toolchain_types == ("toolchain_type",)


def test_doctor_says_which_versions_are_covered(
    tree: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pytest_rules_rust.doctor import check_api_models

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv(store.OUTPUT_BASE_ENV, raising=False)
    shipped, fetched = check_api_models()
    assert "rules_rust 0.46.0, 0.54.1, 0.55.0, 0.63.0, 0.73.0" in shipped.detail
    assert "rules_oci 1.7.6" in shipped.detail and "none beyond" in fetched.detail
    fake = tmp_path / "rr"
    (fake / "rust").mkdir(parents=True)
    (fake / "MODULE.bazel").write_text('module(name = "rules_rust", version = "0.99.0")\n')
    base = tmp_path / "xdg" / "bazel" / "_bazel_me" / "0123abcd" / "external"
    base.mkdir(parents=True)
    (base / "rules_rust+").symlink_to(fake)
    assert "rules_rust 0.99.0" in check_api_models()[1].detail
