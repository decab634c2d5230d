"""The API model of one Bazel module version, as read from its own Starlark source.

An :class:`ApiModel` lists the module's ``.bzl`` files with what each exports (rules with their
attributes and declared outputs, macros with their parameters and the targets they create, module
extensions with their tag classes), the module's packages with their targets and toolchain types,
and where it came from. Models are stored as JSON (``to_json`` / ``from_json``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any, TypeVar

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
            "rules": {k: _record_json(r, attrs=_attrs_json) for k, r in sorted(self.rules.items())},
            "macros": {k: _record_json(m) for k, m in sorted(self.macros.items())},
            "extensions": {k: _record_json(e, tags=_tags_json) for k, e in sorted(self.extensions.items())},
            "packages": {k: _record_json(p) for k, p in sorted(self.packages.items())},
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ApiModel:
        """The inverse of :meth:`to_json`."""
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
            rules={k: _record(Rule, v, attrs=_attrs) for k, v in data.get("rules", {}).items()},
            macros={k: _record(Macro, v) for k, v in data.get("macros", {}).items()},
            extensions={k: _record(Extension, v, tags=_tags) for k, v in data.get("extensions", {}).items()},
            packages={k: _record(Package, v) for k, v in data.get("packages", {}).items()},
        )


# --- the records' JSON: their fields by name, tuples as lists, attributes as [type, mandatory] ---
_R = TypeVar("_R", Rule, Macro, Extension, Package)


def _record_json(
    record: Rule | Macro | Extension | Package, **encode: Callable[[Any], Any]
) -> dict[str, Any]:
    """A record's JSON object: every field by name, ``encode[field]`` where given."""
    return {f.name: encode.get(f.name, _json_value)(getattr(record, f.name)) for f in fields(record)}


def _record(cls: type[_R], data: Mapping[str, Any], **decode: Callable[[Any], Any]) -> _R:
    """The inverse of :func:`_record_json`; a field the object lacks keeps its default."""
    return cls(**{f.name: decode.get(f.name, _value)(data[f.name]) for f in fields(cls) if f.name in data})


def _json_value(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else dict(value) if isinstance(value, Mapping) else value


def _value(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def _attrs_json(attrs: Mapping[str, Attr]) -> dict[str, list[Any]]:
    return {k: [v.type, v.mandatory] for k, v in sorted(attrs.items())}


def _attrs(data: Mapping[str, Any]) -> dict[str, Attr]:
    return {k: Attr(str(v[0]), bool(v[1])) for k, v in data.items()}


def _tags_json(tags: Mapping[str, TagClass]) -> dict[str, dict[str, list[Any]]]:
    return {t: _attrs_json(tc.attrs) for t, tc in sorted(tags.items())}


def _tags(data: Mapping[str, Any]) -> dict[str, TagClass]:
    return {t: TagClass(_attrs(a)) for t, a in data.items()}
