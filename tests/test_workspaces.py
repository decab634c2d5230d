"""Materialisation: every template with defaults and overrides, safe rendering, bad input, factory."""

from __future__ import annotations

import shutil
import tomllib
from pathlib import Path

import pytest
import starlark
from workspace_helpers import (
    OVERRIDES,
    SIX,
    anchored_statements,
    block_lines,
    buildifier_check,
    overrides_for,
    squash,
    template_params,
    templates,
)

from pytest_rules_rust.errors import WorkspaceError
from pytest_rules_rust.workspace_params import CATALOGUE, coerce, starlark_literal, toml_literal
from pytest_rules_rust.workspaces import (
    MANIFEST,
    Template,
    WorkspaceFactory,
    find_template,
    list_templates,
    materialise,
    render_text,
)


def _files(root: Path) -> dict[str, Path]:
    """The files of a workspace, without build outputs (``target/``, ``bazel-*``) a template may hold."""
    out = {}
    for path in sorted(root.rglob("*")):
        parts = path.relative_to(root).parts
        if path.is_file() and not any(p in ("target", ".git") or p.startswith("bazel-") for p in parts):
            out[path.relative_to(root).as_posix()] = path
    return out


def test_catalogue_defaults_are_the_versions_the_document_pins() -> None:
    defaults = {name: p.default for name, p in CATALOGUE.items()}
    assert defaults["rules_rust_version"] == "0.46.0"
    assert defaults["rust_versions"] == ["1.79.0"]
    assert defaults["rust_edition"] == "2021"
    assert defaults["bazel_version"] == "7.4.1"
    assert defaults["llvm_version"] == "16.0.0"
    assert defaults["sysroot"] is False


def test_my_templates_are_found() -> None:
    names = {t.name for t in templates()}
    assert {"from_cargo", "from_specs", "cross"} <= names
    assert names <= set(SIX), f"unexpected templates: {names - set(SIX)}"


@pytest.mark.parametrize("template", template_params())
def test_defaults_reproduce_the_committed_workspace(template: Template, tmp_path: Path) -> None:
    ws = materialise(template.name, tmp_path / "ws")
    assert ws.params == dict(template.defaults)
    src, out = _files(template.root), _files(ws.root)
    assert set(out) == set(src)
    for rel, path in out.items():
        if path.suffix in (".rs", ".lock", ".proto", ".md"):
            assert path.read_bytes() == src[rel].read_bytes(), rel
        else:
            assert squash(path.read_text(errors="replace")) == squash(src[rel].read_text(errors="replace")), (
                rel
            )
    assert (ws.root / ".bazelversion").read_text().strip() == template.defaults.get("bazel_version", "7.4.1")


@pytest.mark.parametrize("template", template_params())
def test_committed_boolean_blocks_match_the_defaults(template: Template) -> None:
    for rel, path in _files(template.root).items():
        if "rr:begin" not in path.read_text(errors="replace"):
            continue
        for name, default in template.defaults.items():
            lines = block_lines(path.read_text(), name)
            if lines:
                enabled = any(not line.lstrip().startswith("#") for line in lines)
                assert enabled == default, (
                    f"{rel}: block {name} is {'on' if enabled else 'off'}, default {default}"
                )


@pytest.mark.parametrize("template", template_params())
def test_overrides_reach_every_anchor(template: Template, tmp_path: Path) -> None:
    values = overrides_for(template)
    ws = materialise(template.name, tmp_path / "ws", values)
    seen: set[str] = set()
    for rel, path in _files(ws.root).items():
        text = path.read_text(errors="replace")
        for name, statements in anchored_statements(text).items():
            seen.add(name)
            value = values[name]
            mapped = template.labels.get(name, {})
            items = value if isinstance(value, list) else [value]
            items = [mapped.get(str(i), i) for i in items]
            literal = toml_literal if rel.endswith(".toml") else starlark_literal
            for statement in statements:
                if isinstance(value, list) and '"' in statement and "[" not in statement:
                    assert literal(items[0]) in statement, (rel, statement)  # e.g. Cargo rust-version
                else:
                    for item in items:
                        assert literal(item) in statement, (rel, name, statement)
        for name, value in values.items():
            lines = block_lines(text, name) if isinstance(value, bool) else []
            if lines:
                assert any(not line.lstrip().startswith("#") for line in lines) == value, (rel, name)
    for rel, name in template.files.items():
        assert (ws.root / rel).read_text() == f"{values[name]}\n"
    assert ws.params == {**template.defaults, **values}


@pytest.mark.parametrize("template", template_params())
def test_every_parameter_is_used_somewhere(template: Template) -> None:
    used: set[str] = set(template.files.values())
    for path in _files(template.root).values():
        text = path.read_text(errors="replace")
        used |= set(anchored_statements(text))
        used |= {n for n in template.parameters if block_lines(text, n)}
    assert set(template.parameters) <= used, f"parameters never rendered: {set(template.parameters) - used}"


@pytest.mark.parametrize("overridden", [False, True], ids=["defaults", "overrides"])
@pytest.mark.parametrize("template", template_params())
def test_rendered_starlark_passes_buildifier(template: Template, overridden: bool, tmp_path: Path) -> None:
    ws = materialise(template.name, tmp_path / "ws", overrides_for(template) if overridden else {})
    result = buildifier_check(ws.root)
    assert result.returncode == 0, result.stdout + result.stderr


def test_cross_sysroot_variant_enables_and_registers_both_sysroot_toolchains(tmp_path: Path) -> None:
    ws = materialise("cross", tmp_path / "ws", {"sysroot": True, "llvm_version": "17.0.6"})
    text = (ws.root / "MODULE.bazel").read_text()
    assert (
        'http_archive = use_repo_rule("@bazel_tools//tools/build_defs/repo:http.bzl", "http_archive")' in text
    )
    calls: list[tuple[str, dict[str, object]]] = []
    prelude = """
def _ext(name):
    def tag(t):
        return lambda **kw: _rec(name + "." + t, kw)
    return struct(**{t: tag(t) for t in ["toolchain", "sysroot"]})
def use_extension(bzl, name):
    return _ext(name)
def use_repo_rule(bzl, name):
    return lambda **kw: _rec(name, kw)
def module(**kw): pass
def bazel_dep(**kw): pass
def use_repo(*a, **kw): pass
def register_toolchains(*labels): _rec("register_toolchains", {"labels": list(labels)})
"""
    module = starlark.Module()
    module.add_callable("_rec", lambda kind, kw: calls.append((kind, kw)))
    globs = starlark.Globals.extended_by([starlark.LibraryExtension.StructType])
    starlark.eval(module, starlark.parse("prelude", prelude), globs)
    starlark.eval(module, starlark.parse("MODULE.bazel", text), globs)
    sysroots = {kw["name"]: kw for kind, kw in calls if kind == "llvm.sysroot"}
    assert sysroots["llvm_toolchain_aarch64_with_sysroot"]["targets"] == ["linux-aarch64"]
    assert sysroots["llvm_toolchain_x86_with_sysroot"]["targets"] == ["linux-x86_64"]
    registered = [label for kind, kw in calls if kind == "register_toolchains" for label in kw["labels"]]  # type: ignore[attr-defined]
    assert registered.index("@llvm_toolchain_aarch64_with_sysroot//:all") < registered.index(
        "@llvm_toolchain//:all"
    )
    assert "@llvm_toolchain_x86_with_sysroot//:all" in registered
    toolchains = [kw for kind, kw in calls if kind == "llvm.toolchain"]
    assert {kw["llvm_version"] for kw in toolchains} == {"17.0.6"} and len(toolchains) == 3
    archives = {kw["name"] for kind, kw in calls if kind == "http_archive"}
    assert archives == {"org_chromium_sysroot_linux_x64", "org_chromium_sysroot_linux_aarch64"}


def test_rematerialising_a_materialised_tree_round_trips(tmp_path: Path) -> None:
    on = materialise(
        "cross", tmp_path / "on", {"sysroot": True, "target_triples": ["x86_64-unknown-linux-gnu"]}
    )
    off = materialise(
        on.root, tmp_path / "off", {"sysroot": False, "target_triples": OVERRIDES["target_triples"]}
    )
    back = materialise(
        off.root, tmp_path / "back", {"target_triples": find_template("cross").defaults["target_triples"]}
    )
    for rel, path in _files(find_template("cross").root).items():
        assert (back.root / rel).read_bytes() == path.read_bytes(), rel


# --- safe rendering -----------------------------------------------------------------------------

PAYLOADS = [
    '1.0"',
    "1.0\n",
    '")\nload("@evil//:x.bzl", "y")\n#',
    "1.0\\",
    'a\\"b',
    "\r\t\x00\x1b",
    "'''\"\"\"",
]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_literals_round_trip_through_real_parsers(payload: str) -> None:
    module = starlark.Module()
    value = starlark.eval(
        module, starlark.parse("x.bzl", starlark_literal(payload)), starlark.Globals.standard()
    )
    assert value == payload
    assert tomllib.loads("x = " + toml_literal(payload))["x"] == payload
    assert tomllib.loads("x = " + toml_literal([payload, "b"]))["x"] == [payload, "b"]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_an_unvalidated_value_still_cannot_inject_code(payload: str) -> None:
    template = find_template("from_cargo")
    text = (template.root / "MODULE.bazel").read_text()
    values = {**template.defaults, "rules_rust_version": payload, "rust_versions": [payload, "x"]}
    rendered = render_text(text, "MODULE.bazel", template, values)
    ast = starlark.parse("MODULE.bazel", rendered)
    assert "load" not in [ld.module_id for ld in ast.loads()]
    assert len(rendered.splitlines()) == len(text.splitlines()) + 3  # only the list grew to 4 lines
    toml_text = (template.root / "Cargo.toml").read_text()
    cargo = tomllib.loads(render_text(toml_text, "Cargo.toml", template, {**values, "rust_edition": payload}))
    assert cargo["package"]["edition"] == payload
    assert set(cargo) == set(tomllib.loads(toml_text))


STRING_PARAMS = [n for n, p in CATALOGUE.items() if p.kind in ("str", "list")]


@pytest.mark.parametrize("payload", PAYLOADS)
@pytest.mark.parametrize("name", STRING_PARAMS)
def test_validation_rejects_injection_in_every_string_parameter(name: str, payload: str) -> None:
    value: object = [payload] if CATALOGUE[name].kind == "list" else payload
    with pytest.raises(WorkspaceError) as info:
        coerce(name, value)
    assert repr(name) in str(info.value)
    with pytest.raises(WorkspaceError, match=name):
        coerce(name, f"{CATALOGUE[name].default!s}{payload}" if CATALOGUE[name].kind == "str" else payload)


# --- bad input ----------------------------------------------------------------------------------


def test_unknown_workspace_suggests_the_nearest(tmp_path: Path) -> None:
    with pytest.raises(WorkspaceError) as info:
        materialise("from_carg", tmp_path / "ws")
    assert "unknown workspace 'from_carg'" in str(info.value)
    assert "did you mean 'from_cargo'" in str(info.value)
    assert "from_specs" in str(info.value)  # the valid choices are listed
    assert not (tmp_path / "ws").exists()


def test_unknown_parameter_suggests_the_nearest(tmp_path: Path) -> None:
    with pytest.raises(WorkspaceError) as info:
        materialise("from_cargo", tmp_path / "ws", {"rust_edtion": "2018"})
    assert "'rust_edtion'" in str(info.value) and "did you mean 'rust_edition'" in str(info.value)
    assert "rust_versions" in str(info.value)


def test_parameter_of_another_workspace_is_refused(tmp_path: Path) -> None:
    with pytest.raises(WorkspaceError, match=r"'llvm_version' is not taken by workspace 'from_cargo'"):
        materialise("from_cargo", tmp_path / "ws", {"llvm_version": "17.0.6"})


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("bazel_version", "latest", "a version like 7.4.1"),
        ("rules_rust_version", "0.46", "a version like 0.46.0"),
        ("llvm_version", "16", "a version like 16.0.0"),
        ("rust_versions", ["1.79"], "1.79.0 or nightly/2024-06-01"),
        ("rust_versions", [], "empty"),
        ("rust_versions", "1.79.0,1.79.0", "twice"),
        ("target_triples", ["x86_64-linux-gnu"], "unknown-linux"),
        ("target_triples", ["arch64-unknown-linux-gnu"], "aarch64"),
        ("target_triples", ["x86_64-apple-darwin"], "linux triples"),
        ("rust_edition", "2020", "2015, 2018, 2021, 2024"),
        ("rust_edition", 2021, "2015, 2018, 2021, 2024"),
        ("platforms", ["linux/riscv64"], "linux/amd64, linux/arm64"),
        ("platforms", "linux/amd64,windows/amd64", "linux/amd64, linux/arm64"),
        ("registry", "localhost:5000/Musl", "OCI repository"),
        ("registry", "localhost:5000/musl:latest", "without tag"),
        ("registry", "localhost:5000/musl@sha256:abc", "without tag or digest"),
        ("sysroot", "maybe", "true or false"),
    ],
)
def test_invalid_values_name_the_parameter_and_the_format(name: str, value: object, expected: str) -> None:
    with pytest.raises(WorkspaceError) as info:
        coerce(name, value)
    message = str(info.value)
    assert f"parameter {name!r}" in message and repr(value) in message and expected in message


def test_edition_2024_needs_rust_1_85(tmp_path: Path) -> None:
    with pytest.raises(WorkspaceError, match=r"'rust_edition' = '2024' needs Rust 1.85 or newer.*1.79.0"):
        materialise("from_cargo", tmp_path / "a", {"rust_edition": "2024"})
    ws = materialise("from_cargo", tmp_path / "b", {"rust_edition": "2024", "rust_versions": "1.85.0"})
    assert 'rust-version = "1.85.0"' in (ws.root / "Cargo.toml").read_text()


def test_workspace_choices_narrow_the_catalogue(tmp_path: Path) -> None:
    with pytest.raises(WorkspaceError, match=r"'rust_edition': workspace 'from_specs' supports only 2018"):
        materialise("from_specs", tmp_path / "ws", {"rust_edition": "2015"})


def test_strings_are_read_like_the_command_line() -> None:
    assert coerce("rust_versions", " 1.79.0 , nightly/2024-06-01 ") == ["1.79.0", "nightly/2024-06-01"]
    assert coerce("sysroot", "TRUE") is True and coerce("sysroot", "false") is False
    assert coerce("platforms", ("linux/arm64",)) == ["linux/arm64"]


def test_destination_must_be_empty(tmp_path: Path) -> None:
    (tmp_path / "ws").mkdir()
    (tmp_path / "ws" / "keep.txt").write_text("mine")
    with pytest.raises(WorkspaceError, match="not empty"):
        materialise("cross", tmp_path / "ws")
    assert (tmp_path / "ws" / "keep.txt").read_text() == "mine"


# --- broken templates ---------------------------------------------------------------------------


def _copy_template(name: str, dest: Path) -> Path:
    shutil.copytree(find_template(name).root, dest, ignore=shutil.ignore_patterns("target"))
    return dest


def test_broken_starlark_names_file_and_line(tmp_path: Path) -> None:
    root = _copy_template("from_specs", tmp_path / "tpl")
    module = root / "MODULE.bazel"
    module.write_text(
        module.read_text().replace(
            'package = "serde",\n    version = "1.0",', 'package = "serde",\n    version = "1.0,'
        )
    )
    line = next(i for i, text in enumerate(module.read_text().split("\n"), 1) if 'version = "1.0,' in text)
    with pytest.raises(WorkspaceError) as info:
        materialise(root, tmp_path / "ws")
    assert str(info.value).startswith(f"MODULE.bazel:{line}:15: Starlark syntax error after rendering: ")
    assert "unfinished string literal" in str(info.value)


def test_anchor_without_literal_names_file_and_line(tmp_path: Path) -> None:
    root = _copy_template("from_cargo", tmp_path / "tpl")
    module = root / "MODULE.bazel"
    lines = module.read_text().split("\n")
    number = next(i for i, line in enumerate(lines) if "rr:param rust_edition" in line)
    lines[number] = "RUST_EDITION = EDITION  # rr:param rust_edition"
    module.write_text("\n".join(lines))
    with pytest.raises(WorkspaceError, match=rf"MODULE.bazel:{number + 1}: rr:param rust_edition"):
        materialise(root, tmp_path / "ws")


def test_unclosed_block_and_broken_toml_are_reported(tmp_path: Path) -> None:
    root = _copy_template("cross", tmp_path / "tpl")
    module = root / "MODULE.bazel"
    module.write_text(module.read_text().replace("# rr:end sysroot", ""))
    with pytest.raises(WorkspaceError, match=r"MODULE.bazel:\d+: rr:begin sysroot is never closed"):
        materialise(root, tmp_path / "ws")
    root = _copy_template("cross", tmp_path / "tpl2")
    (root / "hello_cross" / "Cargo.toml").write_text('[package\nname = "x"\n')
    with pytest.raises(WorkspaceError, match=r"hello_cross/Cargo.toml: TOML error.*line 1"):
        materialise(root, tmp_path / "ws2")


def test_manifest_with_unknown_parameter_is_reported(tmp_path: Path) -> None:
    root = _copy_template("cross", tmp_path / "tpl")
    manifest = root / MANIFEST
    manifest.write_text(manifest.read_text().replace('"sysroot"]', '"sysrot"]'))
    with pytest.raises(WorkspaceError, match=r"unknown parameter 'sysrot' \(did you mean 'sysroot'\?\)"):
        materialise(root, tmp_path / "ws")


# --- user workspaces and extra template directories ----------------------------------------------


def test_a_users_workspace_is_copied_as_it_is(tmp_path: Path) -> None:
    mine = tmp_path / "mine"
    (mine / "src").mkdir(parents=True)
    (mine / "MODULE.bazel").write_text('bazel_dep(name = "rules_rust", version = "0.50.0")  # rr:param x\n')
    (mine / "src" / "main.rs").write_text("fn main() {}\n")
    ws = materialise(mine, tmp_path / "ws")
    assert ws.params == {} and ws.name == "mine"
    assert (ws.root / "MODULE.bazel").read_text() == (mine / "MODULE.bazel").read_text()
    assert (ws.root / "src" / "main.rs").exists()
    with pytest.raises(WorkspaceError, match="takes no parameters"):
        materialise(mine, tmp_path / "ws2", {"rust_edition": "2018"})
    with pytest.raises(WorkspaceError, match="does not exist"):
        materialise(tmp_path / "missing", tmp_path / "ws3")


def test_extra_template_dirs_come_first_and_add_templates(tmp_path: Path) -> None:
    extra = tmp_path / "templates"
    _copy_template("from_cargo", extra / "from_cargo")
    _copy_template("cross", extra / "my_cross")
    manifest = extra / "from_cargo" / MANIFEST
    manifest.write_text(manifest.read_text().replace('description = "', 'description = "DOWNSTREAM '))
    found = {t.name: t for t in list_templates([extra])}
    assert found["from_cargo"].description.startswith("DOWNSTREAM")
    assert "my_cross" in found and "from_specs" in found
    ws = materialise("my_cross", tmp_path / "ws", {"sysroot": True}, extra_dirs=[extra])
    assert ws.template == (extra / "my_cross").resolve()
    with pytest.raises(WorkspaceError, match="does not exist"):
        list_templates([tmp_path / "nope"])


# --- the factory ---------------------------------------------------------------------------------


def test_factory_precedence_call_over_session_over_defaults(tmp_path_factory: pytest.TempPathFactory) -> None:
    factory = WorkspaceFactory(
        lambda name: tmp_path_factory.mktemp(name),
        session_params={"llvm_version": "18.1.8", "rust_edition": "2018"},
    )
    cross = factory("cross", rust_edition="2021")
    assert cross.params["llvm_version"] == "18.1.8" and cross.params["rust_edition"] == "2021"
    plain = factory("from_cargo")  # takes no llvm_version: the session value does not apply
    assert "llvm_version" not in plain.params and plain.params["rust_edition"] == "2018"
    assert cross.root != plain.root and cross.root.is_dir()
    with pytest.raises(WorkspaceError, match="did you mean 'llvm_version'"):
        WorkspaceFactory(lambda name: tmp_path_factory.mktemp(name), session_params={"llvm_versoin": "1"})
    with pytest.raises(WorkspaceError, match="'registry'"):
        WorkspaceFactory(lambda name: tmp_path_factory.mktemp(name), session_params={"registry": 'x"y'})


@pytest.mark.parametrize("name", ["cross", "musl_jemalloc_oci"])
def test_a_bad_value_hint_names_this_workspaces_default(tmp_path: Path, name: str) -> None:
    template = find_template(name)
    for param in ("sysroot", "rules_rust_version"):
        if param not in template.parameters:
            continue
        with pytest.raises(WorkspaceError) as caught:
            materialise(name, tmp_path / param, params={param: "maybe-not"})
        default = template.defaults[param]
        shown = str(default).lower() if isinstance(default, bool) else str(default)
        assert caught.value.hint.endswith(f"(this workspace's default: {shown})"), caught.value.hint
