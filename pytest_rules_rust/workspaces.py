"""Workspace templates, typed parameters and materialisation.

A template is a directory with a ``rules_rust_template.toml`` manifest that is, as committed, a
complete Bazel module and Cargo workspace for its default parameters. ``materialise()`` copies it
and rewrites the anchored literals (``# rr:param NAME``), whole-file parameters and boolean blocks
(``# rr:begin NAME`` … ``# rr:end NAME``), then parses every Starlark file with starlark-rust and
every TOML file with ``tomllib`` so a broken template fails here, naming file and line.

Templates are found in the extra directories given by the caller (downstream projects), then in
the built-in ``fixture_workspaces/``; the first directory that has a name wins.
"""

from __future__ import annotations

import os
import re
import shutil
import tomllib
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import starlark

from .errors import WorkspaceError, shown
from .template_markers import (
    ANCHOR,
    BLOCK,
    HARNESS_PARAMS,
    SKIP_DIRS,
    agreed_default,
    is_starlark,
    literal_span,
    scan,
)
from .version_ranges import VersionRange
from .workspace_params import (
    CATALOGUE,
    Value,
    check_combination,
    coerce,
    lookup,
    starlark_literal,
    suggest,
    toml_literal,
)

__all__ = ["MANIFEST", "Source", "Template", "Workspace", "is_starlark", "materialise", "resolve_source"]

MANIFEST = "rules_rust_template.toml"
TEMPLATES_ENV = "PYTEST_RULES_RUST_TEMPLATES"
_PACKAGE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Workspace:
    """A materialised workspace: a directory that is both a Bazel module and a Cargo workspace."""

    name: str
    root: Path
    params: Mapping[str, Any] = field(default_factory=dict)
    template: Path | None = None
    defaults: Mapping[str, Any] = field(default_factory=dict)  # the template's, to tell what was changed

    @property
    def changed_params(self) -> dict[str, Any]:
        """The parameters whose value is not the template's default (all of them, defaults unknown)."""
        return {k: v for k, v in self.params.items() if k not in self.defaults or self.defaults[k] != v}


@dataclass(frozen=True, kw_only=True)
class Template:
    """A template directory and what its manifest says about it (thirteen fields: made by keyword)."""

    name: str
    root: Path
    description: str
    parameters: tuple[str, ...]
    defaults: Mapping[str, Value]  # the effective default of every accepted parameter
    labels: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    choices: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # narrower than the catalogue's
    supports: Mapping[str, VersionRange] = field(default_factory=dict)  # e.g. rules_rust_version range
    files: Mapping[str, str] = field(default_factory=dict)
    cargo_binaries: tuple[str, ...] = ()
    cargo_libcs: tuple[str, ...] = ("gnu",)
    cargo_features: tuple[str, ...] = ()
    bazel_targets: tuple[str, ...] = ()


def manifest_table(root: Path, *keys: str) -> dict[str, Any]:
    """A (nested) table of the manifest in a workspace or template ``root``, e.g.
    ``manifest_table(root, "cargo", "smoke")``; empty when the file or the table is absent."""
    path = root / MANIFEST
    try:
        data: Any = tomllib.loads(path.read_text()) if path.is_file() else {}
    except tomllib.TOMLDecodeError as exc:
        raise WorkspaceError(f"{path}: {exc}", hint="fix the TOML syntax") from exc
    for key in keys:
        data = data.get(key, {}) if isinstance(data, dict) else {}
    return dict(data) if isinstance(data, dict) else {}


def builtin_template_dirs() -> list[Path]:
    """Where the shipped templates live: ``$PYTEST_RULES_RUST_TEMPLATES``, the installed package's
    ``data/fixture_workspaces``, or ``fixture_workspaces/`` next to the package in a source checkout."""
    candidates = [Path(p) for p in os.environ.get(TEMPLATES_ENV, "").split(os.pathsep) if p]
    candidates += [_PACKAGE / "data" / "fixture_workspaces", _PACKAGE.parent / "fixture_workspaces"]
    return [c for c in candidates if c.is_dir()]


def user_source(workspace: Workspace) -> Path | None:
    """The directory ``workspace`` was copied from when it is a user's own (a workspace directory or
    a template outside the built-in ones): where a user edits what a check found; else None."""
    source = workspace.template
    if source is None or any(source.is_relative_to(d.resolve()) for d in builtin_template_dirs()):
        return None
    return source


def _table(data: dict[str, Any], key: str, manifest: Path) -> dict[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, dict):
        raise WorkspaceError(f"{manifest}: [{key}] must be a table")
    return value


def _strings(value: object, what: str, manifest: Path) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise WorkspaceError(f"{manifest}: {what} must be a list of strings, got {shown(value)}")
    return tuple(value)


def load_template(root: Path) -> Template:
    """Read and check ``root/rules_rust_template.toml`` (unknown parameters, bad defaults)."""
    manifest = root / MANIFEST
    try:
        data = tomllib.loads(manifest.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise WorkspaceError(f"{manifest}: not valid TOML: {exc}", hint="fix the manifest") from exc
    where = f"the manifest {manifest}"
    params = _strings(data.get("parameters", []), "parameters", manifest)
    for name in params:
        lookup(name, where=where)
    defaults: dict[str, Value] = {name: CATALOGUE[name].default for name in params}
    declared = _table(data, "defaults", manifest)
    for name, value in declared.items():
        lookup(name, params, where=where)
        defaults[name] = coerce(name, value)
    labels: dict[str, dict[str, str]] = {}
    for name, mapping in _table(data, "labels", manifest).items():
        lookup(name, params, where=where)
        if not isinstance(mapping, dict) or not all(isinstance(v, str) for v in mapping.values()):
            raise WorkspaceError(f"{manifest}: [labels.{name}] must map values to label strings")
        labels[name] = dict(mapping)
    choices: dict[str, tuple[str, ...]] = {}
    for name, allowed in _table(data, "choices", manifest).items():
        lookup(name, params, where=where)
        choices[name] = tuple(
            str(coerce(name, item)) for item in _strings(allowed, f"[choices] {name}", manifest)
        )
    files = {str(k): str(v) for k, v in _table(data, "files", manifest).items()}
    for name in files.values():
        lookup(name, params, where=where)
    markers = scan(root, params, labels)
    for name in params:
        written = {**markers.values.get(name, {}), **_whole_file_values(root, files, name)}
        if name not in declared and written:  # the template's own files say what its default is
            defaults[name] = agreed_default(name, written, manifest)
        if name not in markers.named and name not in files.values() and name not in HARNESS_PARAMS:
            raise WorkspaceError(
                f"{manifest}: parameter {name} is declared but no file marks it with `# rr:param {name}`",
                hint=f'mark the literal it sets (e.g. edition = "2021"  # rr:param {name}), name it '
                "in [files], or drop it from parameters",
            )
    supports: dict[str, VersionRange] = {}
    for name, text in _table(data, "supports", manifest).items():
        lookup(name, params, where=where)
        try:
            supports[name] = VersionRange.parse(str(text))
        except ValueError as exc:
            raise WorkspaceError(f"{manifest}: [supports] {name}: {exc}") from exc
        if isinstance(defaults[name], str) and not supports[name].contains(str(defaults[name])):
            origin = "[defaults]" if name in declared else "the value its files mark, else the catalogue's"
            raise WorkspaceError(
                f"{manifest}: the default {name} {defaults[name]} ({origin}) is outside [supports] {text}",
                hint=f'add [defaults] {name} = "..." with a version in {text} to {manifest}',
            )
    cargo = _table(data, "cargo", manifest)
    bazel = _table(data, "bazel", manifest)
    return Template(
        name=root.name,
        root=root.resolve(),
        description=str(data.get("description", "")),
        parameters=params,
        defaults=defaults,
        labels=labels,
        choices=choices,
        supports=supports,
        files=files,
        cargo_binaries=_strings(cargo.get("binaries", []), "[cargo] binaries", manifest),
        cargo_libcs=_strings(cargo.get("libcs", ["gnu"]), "[cargo] libcs", manifest),
        cargo_features=_strings(cargo.get("features", []), "[cargo] features", manifest),
        bazel_targets=_strings(bazel.get("targets", []), "[bazel] targets", manifest),
    )


def _whole_file_values(root: Path, files: Mapping[str, str], name: str) -> dict[str, Value]:
    """The values of ``name`` that whole files ([files], e.g. ``.bazelversion``) hold as written."""
    found: dict[str, Value] = {}
    for rel, param in files.items():
        path = root / rel
        if param == name and path.is_file():
            text = path.read_text(encoding="utf-8", errors="replace").strip()
            if text:
                try:
                    found[rel] = coerce(name, text)
                except WorkspaceError as exc:
                    raise WorkspaceError(
                        f"{path}: not a valid {name}: {exc.message}", hint=exc.hint
                    ) from None
    return found


def list_templates(extra_dirs: Sequence[Path | str] = ()) -> list[Template]:
    """Every template in ``extra_dirs`` then the built-in directories, sorted by name; earlier wins."""
    found: dict[str, Template] = {}
    for base in [Path(d) for d in extra_dirs] + builtin_template_dirs():
        if not base.is_dir():
            raise WorkspaceError(
                f"template directory {base} does not exist", hint="check --rr-template-dir / rr_template_dir"
            )
        for child in sorted(base.iterdir()):
            if (child / MANIFEST).is_file() and child.name not in found:
                found[child.name] = load_template(child)
    return sorted(found.values(), key=lambda t: t.name)


def find_template(name: str, extra_dirs: Sequence[Path | str] = ()) -> Template:
    """The template called ``name``; an unknown name lists the known ones."""
    templates = {t.name: t for t in list_templates(extra_dirs)}
    if name not in templates:
        bare = [Path(d) / name for d in extra_dirs if (Path(d) / name).is_dir()]
        if bare:
            raise WorkspaceError(
                f"workspace {shown(name)}: {bare[0]} has no {MANIFEST}, so it is not a template",
                hint=f"add a {MANIFEST} (description, parameters) to it, or pass its path to use it as it is",
            )
        raise WorkspaceError(
            f"unknown workspace {shown(name)}{suggest(name, templates)}",
            hint=f"known workspaces: {', '.join(templates) or 'none'}; or pass a workspace directory's path",
        )
    return templates[name]


def resolve_params(
    template: Template,
    *,
    call: Mapping[str, object] | None = None,
    session: Mapping[str, object] | None = None,
) -> dict[str, Value]:
    """The parameter values for one materialisation: per-call > session (CLI > ini) > defaults.

    Per-call names must be parameters of this template. Session names (``--rr-set``, ini) must be
    known parameters, but apply only to the templates that take them.
    """
    where = f"workspace {template.name!r}"
    values: dict[str, Value] = dict(template.defaults)
    for name, value in (session or {}).items():
        lookup(name, where="any workspace")
        checked = coerce(name, value, template.defaults.get(name))
        if name in template.parameters:
            values[name] = checked
    for name, value in (call or {}).items():
        lookup(name, template.parameters, where=where)
        values[name] = coerce(name, value, template.defaults.get(name))
    for name, allowed in template.choices.items():
        current = values[name]
        items = [str(v) for v in current] if isinstance(current, list) else [str(current)]
        bad = [v for v in items if v not in allowed]
        if bad:
            raise WorkspaceError(
                f"invalid value {shown(', '.join(bad))} for parameter {name!r}: workspace {template.name!r} "
                f"supports only {', '.join(allowed)}",
                hint=f"see {template.root / 'README.md'} for why",
            )
    for name, supported in template.supports.items():
        value = values[name]
        if isinstance(value, str) and not supported.contains(value):
            raise WorkspaceError(
                f"workspace {template.name!r} supports {name} {supported}, not {value}",
                hint=f"pick a version in that range; {template.root / 'README.md'} says why",
            )
    check_combination(values)
    return values


def _copy_tree(source: Path, dest: Path) -> None:
    if dest.exists() and any(dest.iterdir()):
        raise WorkspaceError(
            f"destination {dest} is not empty", hint="materialise into a new or empty directory"
        )
    dest.mkdir(parents=True, exist_ok=True)

    def ignore(directory: str, names: list[str]) -> set[str]:
        return {n for n in names if n in SKIP_DIRS or n.startswith("bazel-")}

    shutil.copytree(source, dest, symlinks=True, ignore=ignore, dirs_exist_ok=True)


def _is_commented(line: str) -> bool:
    return not line.strip() or line.lstrip().startswith("#")


def _toggle(body: list[str], enable: bool) -> list[str]:
    """Uncomment (``# `` prefix removed, indentation kept) or comment out (``# `` + line) a block."""
    if enable == (not all(_is_commented(line) for line in body)):
        return body  # already in the wanted state (also when re-materialising a materialised tree)
    if not enable:
        return ["# " + line if line.strip() else "#" for line in body]
    out = []
    for line in body:
        stripped = line.lstrip()
        rest = stripped[1:] if stripped.startswith("#") else stripped
        out.append(line[: len(line) - len(stripped)] + (rest[1:] if rest.startswith(" ") else rest))
    return out


def _blocks(lines: list[str], values: Mapping[str, Value], rel: str) -> list[str]:
    out: list[str] = []
    body: list[str] = []
    open_block: tuple[str, int] | None = None
    for number, line in enumerate(lines, 1):
        marker = BLOCK.match(line)
        if not marker:
            (body if open_block else out).append(line)
            continue
        kind, param, condition = marker.groups()
        name = param + ("".join(condition.split()) if condition else "")
        if kind == "begin":
            if open_block:
                raise WorkspaceError(f"{rel}:{number}: rr:begin {name} inside rr:begin {open_block[0]}")
            enabled = _block_enabled(values, param, condition, f"{rel}:{number}")
            open_block, body = (name, number), []
            out.append(line)
        elif open_block is None or open_block[0] != name:
            raise WorkspaceError(f"{rel}:{number}: rr:end {name} without a matching rr:begin {name}")
        else:
            out.extend(_toggle(body, enabled))
            out.append(line)
            open_block = None
    if open_block:
        raise WorkspaceError(f"{rel}:{open_block[1]}: rr:begin {open_block[0]} is never closed")
    return out


def _block_enabled(values: Mapping[str, Value], param: str, condition: str | None, where: str) -> bool:
    """Whether a block is on: a boolean parameter, or a version parameter against ``>=0.55.0``."""
    value = values.get(param)
    if condition is None:
        if not isinstance(value, bool):
            raise WorkspaceError(f"{where}: rr:begin {param} names no boolean parameter of this template")
        return value
    if not isinstance(value, str):
        raise WorkspaceError(
            f"{where}: rr:begin {param}{condition} names no version parameter of this template"
        )
    return VersionRange.parse(condition).contains(value)


def _render_value(template: Template, name: str, value: Value) -> Value:
    mapping = template.labels.get(name)
    if not mapping:
        return value
    items = value if isinstance(value, list) else [value]
    missing = [v for v in items if isinstance(v, str) and v not in mapping]
    if missing:
        raise WorkspaceError(
            f"parameter {name!r}: workspace {template.name!r} has no label for {', '.join(missing)}",
            hint=f"valid values here: {', '.join(mapping)}",
        )
    labels = [mapping[str(v)] for v in items]
    return labels if isinstance(value, list) else labels[0]


def _starlark_block(value: object, indent: str) -> str:
    """Lists of two or more items one per line, as buildifier formats them in BUILD and MODULE files."""
    if isinstance(value, list) and len(value) > 1:
        items = "".join(f"{indent}    {starlark_literal(v)},\n" for v in value)
        return f"[\n{items}{indent}]"
    return starlark_literal(value)


def render_text(text: str, rel: str, template: Template, values: Mapping[str, Value]) -> str:
    """Apply boolean blocks and anchored literals to one file's text."""
    if "rr:" not in text:
        return text
    lines = _blocks(text.split("\n"), values, rel)
    toml = rel.endswith(".toml")
    out: list[str] = []
    for number, line in enumerate(lines, 1):
        anchor = ANCHOR.search(line)
        if not anchor:
            out.append(line)
            continue
        name = anchor.group(1)
        if name not in values:
            raise WorkspaceError(f"{rel}:{number}: rr:param {name} is not a parameter of this template")
        if not (toml or is_starlark(Path(rel))):
            raise WorkspaceError(f"{rel}:{number}: rr:param is only supported in Starlark and TOML files")
        span = literal_span(out, line[: anchor.start()], rel, number, name)
        head, tail = span.head, span.tail
        value = _render_value(template, name, values[name])
        if span.literal.startswith('"') and isinstance(value, list):  # Cargo's rust-version: rust_versions[0]
            value = value[0]
        indent = head[: len(head) - len(head.lstrip())]
        rendered = toml_literal(value) if toml else _starlark_block(value, indent)
        out.append(head + rendered + tail + line[anchor.start() :])
    return "\n".join(out)


def check_syntax(root: Path) -> None:
    """Parse every Starlark file with starlark-rust and every TOML file; name file and line on error."""
    for path in sorted(root.rglob("*")):
        if not path.is_file() or any(part in SKIP_DIRS for part in path.relative_to(root).parts):
            continue
        rel = path.relative_to(root).as_posix()
        if is_starlark(path):
            try:
                starlark.parse(rel, path.read_text(encoding="utf-8"))
            except starlark.StarlarkError as exc:
                text = str(exc).strip()
                where = re.search(r"-->\s*(\S+:\d+:\d+)", text)
                first = text.splitlines()[0].removeprefix("error: ") if text else "syntax error"
                raise WorkspaceError(
                    f"{where.group(1) if where else rel}: Starlark syntax error after rendering: {first}",
                    hint="the template is broken: fix it in the template directory",
                    paths={"workspace": root},
                ) from exc
        elif path.suffix == ".toml" or path.name == "Cargo.lock":
            try:
                tomllib.loads(path.read_text(encoding="utf-8"))
            except tomllib.TOMLDecodeError as exc:
                raise WorkspaceError(
                    f"{rel}: TOML error after rendering: {exc}",
                    hint="the template is broken: fix it in the template directory",
                    paths={"workspace": root},
                ) from exc


def render_tree(root: Path, template: Template, values: Mapping[str, Value]) -> None:
    """Rewrite the files of a copied template in place for ``values``."""
    for rel, name in template.files.items():
        target = root / rel
        target.write_text(f"{values[name]}\n", encoding="utf-8")
    for path in sorted(root.rglob("*")):
        if not path.is_file() or path.is_symlink() or path.name == MANIFEST:
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        rel = path.relative_to(root).as_posix()
        rendered = render_text(text, rel, template, values)
        if rendered != text:
            path.write_text(rendered, encoding="utf-8")
    check_syntax(root)


#: files that make a directory a workspace a bare NAME may name (besides a template's manifest)
_WORKSPACE_MARKS = (MANIFEST, "MODULE.bazel", "Cargo.toml", "WORKSPACE", "WORKSPACE.bazel")


@dataclass(frozen=True)
class Source:
    """What a NAME names: a template, or a user's own workspace directory (``template`` None).

    ``notice`` is set when a bare NAME named both a template and a directory: which one was taken and
    how to name the other.
    """

    path: Path
    template: Template | None
    notice: str = ""

    @property
    def name(self) -> str:
        return self.template.name if self.template is not None else self.path.name

    @property
    def cargo_libcs(self) -> tuple[str, ...]:
        return self.template.cargo_libcs if self.template is not None else ("gnu",)


def is_workspace(directory: Path) -> bool:
    """Whether ``directory`` holds a template manifest, a Bazel module or a Cargo workspace."""
    return directory.is_dir() and any((directory / mark).is_file() for mark in _WORKSPACE_MARKS)


def resolve_source(name_or_path: str | Path, extra_dirs: Sequence[Path | str] = ()) -> Source:
    """The template or workspace directory ``name_or_path`` names.

    A ``Path``, or a string with a path separator or a leading ``.``, is a directory: a template
    directory when it has a manifest, else a workspace used as it is. A bare name is a template's
    name; when no template has it, an existing workspace directory of that name (relative to the
    current directory) is used. When both exist the template wins and ``notice`` says so (pass
    ``./NAME`` for the directory).
    """
    text = str(name_or_path)
    is_path = isinstance(name_or_path, Path) or os.sep in text or text.startswith(".")
    directory = Path(name_or_path)
    if not is_path:
        found = is_workspace(directory)
        templates = {t.name: t for t in list_templates(extra_dirs)}
        if text in templates:
            template = templates[text]
            notice = (
                f"{text!r} names the template {template.root} and the directory ./{text}: using the "
                f"template (pass ./{text} to use the directory)"
                if found
                else ""
            )
            return Source(template.root, template, notice)
        if not found:
            find_template(text, extra_dirs)  # raises: unknown, with the known names and a suggestion
    if not directory.is_dir():
        raise WorkspaceError(
            f"workspace directory {directory} does not exist", hint="give a template name or a directory"
        )
    manifest = (directory / MANIFEST).is_file()
    return Source(directory.resolve(), load_template(directory) if manifest else None)


def materialise(
    name_or_path: str | Path | Source,
    dest: Path,
    params: Mapping[str, object] | None = None,
    extra_dirs: Sequence[Path | str] = (),
    *,
    session_params: Mapping[str, object] | None = None,
) -> Workspace:
    """Copy a template or workspace (:func:`resolve_source` says which NAME names) to ``dest`` and
    apply ``params``.

    A directory without a manifest is a user's own workspace: it is copied as it is and takes no
    parameters. ``session_params`` (from ``--rr-set``/ini) apply to templates that take them and
    are ignored elsewhere; ``params`` must all be parameters of the template.
    """
    dest = Path(dest)
    source = name_or_path if isinstance(name_or_path, Source) else resolve_source(name_or_path, extra_dirs)
    template = source.template
    if template is None:
        if params:
            raise WorkspaceError(
                f"workspace {source.path} has no {MANIFEST}, so it takes no parameters "
                f"(got {', '.join(params)})",
                hint=f"add a {MANIFEST} with a parameters list, or drop the parameters",
            )
        _copy_tree(source.path, dest)
        return Workspace(name=source.name, root=dest.resolve(), params={}, template=source.path)
    values = resolve_params(template, call=params, session=session_params)
    _copy_tree(template.root, dest)
    render_tree(dest, template, values)
    return Workspace(
        name=template.name,
        root=dest.resolve(),
        params=values,
        template=template.root,
        defaults=template.defaults,
    )


class WorkspaceFactory:
    """Materialises workspaces into fresh directories, with session-wide template dirs and parameters.

    ``mktemp(basename)`` returns a new empty directory (pytest's ``tmp_path_factory.mktemp``).
    """

    def __init__(
        self,
        mktemp: Callable[[str], Path],
        *,
        template_dirs: Sequence[Path] = (),
        session_params: Mapping[str, object] | None = None,
    ) -> None:
        self._mktemp = mktemp
        self.template_dirs = tuple(template_dirs)
        self.session_params = dict(session_params or {})
        for name, value in self.session_params.items():  # fail at start-up, not in the first test
            lookup(name, where="any workspace")
            coerce(name, value)

    @classmethod
    def from_settings(cls, settings: Any, mktemp: Callable[[str], Path]) -> WorkspaceFactory:
        """Build from anything with ``template_dirs`` and ``params`` (the plugin's ``Settings``)."""
        return cls(mktemp, template_dirs=tuple(settings.template_dirs), session_params=dict(settings.params))

    def templates(self) -> list[Template]:
        return list_templates(self.template_dirs)

    def __call__(self, name_or_path: str | Path, /, **params: object) -> Workspace:
        label = Path(name_or_path).name or "workspace"
        dest = self._mktemp(re.sub(r"[^A-Za-z0-9_.-]", "_", label)) / label
        source = resolve_source(name_or_path, self.template_dirs)
        if source.notice:
            warnings.warn(source.notice, UserWarning, stacklevel=2)
        return materialise(source, dest, params, session_params=self.session_params)
