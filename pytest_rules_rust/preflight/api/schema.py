"""The API model of one Bazel module version, as read from its own Starlark source.

An :class:`ApiModel` lists the module's ``.bzl`` files with what each exports (rules with their
attributes and declared outputs, macros with their parameters and the targets they create, module
extensions with their tag classes), the module's packages with their targets and toolchain types,
and where it came from. Models are stored as JSON (``to_json`` / ``from_json``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

FORMAT = 1  # bump when the JSON layout changes; older files are re-extracted or ignored


@dataclass(frozen=True)
class Attr:
    """One attribute of a rule or tag class: ``type`` is the ``attr.<type>`` function's name."""

    type: str
    mandatory: bool = False


@dataclass(frozen=True)
class Rule:
    """A ``rule()`` (or ``repository_rule``): its attributes and predeclared outputs.

    ``outputs`` are implicit output patterns (``%{name}.tar``); attributes of type ``output`` /
    ``output_list`` name further outputs when a target sets them.
    """

    name: str
    file: str
    attrs: Mapping[str, Attr]
    outputs: tuple[str, ...] = ()
    executable: bool = False
    test: bool = False


@dataclass(frozen=True)
class Macro:
    """A Starlark function exported from a .bzl file.

    ``params`` are its named parameters (``mandatory`` when they have no default); ``kwargs`` is
    True when it takes ``**kwargs`` (so any attribute may be forwarded). ``creates`` are the
    target names it makes besides ``name``, as ``{name}`` patterns, when they can be read;
    ``creates_known`` is False when it may create targets that cannot be read statically.
    """

    name: str
    file: str
    params: Mapping[str, bool]
    kwargs: bool = False
    creates: tuple[str, ...] = ()
    creates_known: bool = False


@dataclass(frozen=True)
class TagClass:
    attrs: Mapping[str, Attr]


@dataclass(frozen=True)
class Extension:
    """A ``module_extension()``: its tag classes and the repositories it is seen to create."""

    name: str
    file: str
    tags: Mapping[str, TagClass]
    repos: tuple[str, ...] = ()


@dataclass(frozen=True)
class BzlFile:
    """A .bzl file: exported name → kind (``rule``, ``macro``, ``extension``, ``provider``,
    ``aspect``, ``value``, ``function``); ``complete`` is False when evaluation stopped early (the
    export list, read from the syntax tree, is still complete)."""

    exports: Mapping[str, str]
    complete: bool = True
    deprecated: str = ""  # the file's own deprecation notice (docstring or top-level print), if any


@dataclass(frozen=True)
class Package:
    """A package (directory with a BUILD file): the target names it declares literally.

    ``open`` is True when it also calls macros or computes names, so it may hold more targets.
    """

    targets: tuple[str, ...] = ()
    toolchain_types: tuple[str, ...] = ()
    open: bool = False


@dataclass(frozen=True)
class ApiModel:
    """The API of one module version (see module docstring)."""

    module: str
    version: str
    source: str  # where it was read from: a tag/commit and a content digest
    bzl: Mapping[str, BzlFile]  # "rust:defs.bzl" (package:file) → exports
    rules: Mapping[str, Rule] = field(default_factory=dict)  # "rust/private:rust.bzl%rust_binary"
    macros: Mapping[str, Macro] = field(default_factory=dict)
    extensions: Mapping[str, Extension] = field(default_factory=dict)
    packages: Mapping[str, Package] = field(default_factory=dict)
    unmodelled: tuple[str, ...] = ()  # top-level directories left out (tests, examples, docs)
    symbols: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    """bzl key → exported name → key of its rule/macro/extension in the tables above."""
    values: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    """bzl key → exported constant → its value, for small string/list/dict constants
    (``DEFAULT_TOOLCHAIN_TRIPLES``)."""

    def export(self, bzl: str, name: str) -> tuple[str, Rule | Macro | Extension | None]:
        """Kind and definition of ``name`` exported by ``bzl`` (``("", None)`` when not exported)."""
        f = self.bzl.get(bzl)
        if f is None or name not in f.exports:
            return "", None
        kind = f.exports[name]
        key = self.symbols.get(bzl, {}).get(name, "")
        if kind in ("rule", "repository_rule"):
            return kind, self.rules.get(key)
        if kind == "macro":
            return kind, self.macros.get(key)
        if kind == "extension":
            return kind, self.extensions.get(key)
        return kind, None

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (attributes as ``[type, mandatory]`` pairs to stay small)."""

        def attrs(a: Mapping[str, Attr]) -> dict[str, list[Any]]:
            return {k: [v.type, v.mandatory] for k, v in sorted(a.items())}

        return {
            "format": FORMAT,
            "module": self.module,
            "version": self.version,
            "source": self.source,
            "unmodelled": list(self.unmodelled),
            "bzl": {
                k: {"exports": dict(sorted(f.exports.items())), "complete": f.complete}
                | ({"deprecated": f.deprecated} if f.deprecated else {})
                for k, f in sorted(self.bzl.items())
            },
            "symbols": {k: dict(sorted(v.items())) for k, v in sorted(self.symbols.items()) if v},
            "values": {k: dict(sorted(v.items())) for k, v in sorted(self.values.items()) if v},
            "rules": {
                k: {
                    "name": r.name,
                    "file": r.file,
                    "attrs": attrs(r.attrs),
                    "outputs": list(r.outputs),
                    "executable": r.executable,
                    "test": r.test,
                }
                for k, r in sorted(self.rules.items())
            },
            "macros": {
                k: {
                    "name": m.name,
                    "file": m.file,
                    "params": dict(m.params),
                    "kwargs": m.kwargs,
                    "creates": list(m.creates),
                    "creates_known": m.creates_known,
                }
                for k, m in sorted(self.macros.items())
            },
            "extensions": {
                k: {
                    "name": e.name,
                    "file": e.file,
                    "tags": {t: attrs(tc.attrs) for t, tc in sorted(e.tags.items())},
                    "repos": list(e.repos),
                }
                for k, e in sorted(self.extensions.items())
            },
            "packages": {
                k: {"targets": list(p.targets), "toolchain_types": list(p.toolchain_types), "open": p.open}
                for k, p in sorted(self.packages.items())
            },
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ApiModel:
        """The inverse of :meth:`to_json`."""

        def attrs(a: Mapping[str, Any]) -> dict[str, Attr]:
            return {k: Attr(str(v[0]), bool(v[1])) for k, v in a.items()}

        return cls(
            module=str(data["module"]),
            version=str(data["version"]),
            source=str(data.get("source", "")),
            unmodelled=tuple(data.get("unmodelled", ())),
            bzl={
                k: BzlFile(dict(v["exports"]), bool(v.get("complete", True)), str(v.get("deprecated", "")))
                for k, v in data["bzl"].items()
            },
            symbols={k: dict(v) for k, v in data.get("symbols", {}).items()},
            values={k: dict(v) for k, v in data.get("values", {}).items()},
            rules={
                k: Rule(
                    v["name"],
                    v["file"],
                    attrs(v["attrs"]),
                    tuple(v.get("outputs", ())),
                    bool(v.get("executable")),
                    bool(v.get("test")),
                )
                for k, v in data.get("rules", {}).items()
            },
            macros={
                k: Macro(
                    v["name"],
                    v["file"],
                    {p: bool(req) for p, req in v["params"].items()},
                    bool(v.get("kwargs")),
                    tuple(v.get("creates", ())),
                    bool(v.get("creates_known")),
                )
                for k, v in data.get("macros", {}).items()
            },
            extensions={
                k: Extension(
                    v["name"],
                    v["file"],
                    {t: TagClass(attrs(a)) for t, a in v["tags"].items()},
                    tuple(v.get("repos", ())),
                )
                for k, v in data.get("extensions", {}).items()
            },
            packages={
                k: Package(tuple(v["targets"]), tuple(v["toolchain_types"]), bool(v["open"]))
                for k, v in data.get("packages", {}).items()
            },
        )
