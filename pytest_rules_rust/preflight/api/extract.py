"""Read a Bazel module's source tree into an :class:`~.schema.ApiModel`.

Every ``.bzl`` file is evaluated with starlark-pyo3 under a prelude whose ``rule()``,
``attr.*``, ``module_extension()``, ``tag_class()``, ``repository_rule()`` and ``macro()`` record
what they are given; ``load()`` of the module's own files evaluates them, loads from other
repositories get recording stubs. What evaluation cannot tell (which exports are macros, their
parameters, the targets they create, a BUILD file's targets) is read from the syntax tree
(``syntax.py``). A file whose evaluation stops early keeps its export list and whatever it had
defined by then.

``python -m pytest_rules_rust.preflight.api extract SRC`` runs this from the command line.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import starlark as sl

from ..scope import struct_of_chains
from . import syntax
from .bzl_prelude import PRELUDE
from .schema import ApiModel, Attr, BzlFile, Extension, Macro, Package, Rule, TagClass
from .store import module_identity

SKIP_DIRS = frozenset({"examples", "e2e", "test", "tests", "docs", "doc", ".git", "node_modules", ".github"})
_GLOBALS = sl.Globals.extended_by(
    [sl.LibraryExtension.StructType, sl.LibraryExtension.CallStack, sl.LibraryExtension.Json]
)
_DIALECT = sl.Dialect.extended()  # keyword-only arguments, as Bazel allows
_FRAME = re.compile(r"^\s*\* (.+?):(\d+), in (.*)$", re.M)
_NOT_FOUND = re.compile(r"Variable `(\w+)` not found")
_PRELUDE_AST: list[sl.AstModule] = []


@dataclass(frozen=True)
class Record:
    """One recorded ``rule()``/``tag_class()``/… call: what it was given and where."""

    kind: str
    payload: dict[str, Any]
    file: str
    line: int


@dataclass
class Extraction:
    """State of one extraction run over a tree."""

    root: Path
    module: str
    packages: dict[str, str]  # package → BUILD file path (relative)
    records: list[Record] = field(default_factory=list)
    frozen: dict[str, sl.FrozenModule] = field(default_factory=dict)
    complete: dict[str, bool] = field(default_factory=dict)
    described: dict[str, dict[str, Any]] = field(default_factory=dict)  # bzl path → name → kind/id
    constants: dict[str, dict[str, Any]] = field(default_factory=dict)  # bzl path → name → small value
    trees: dict[str, Any] = field(default_factory=dict)  # bzl path → Python ast (or None)
    errors: dict[str, str] = field(default_factory=dict)  # bzl path → why its evaluation stopped

    # ---- hooks ---------------------------------------------------------------------------------
    def _def(self, kind: str, payload: dict[str, Any], stack: str) -> int:
        frames = [(f, int(ln)) for f, ln, _fn in _FRAME.findall(stack) if not f.startswith("<")]
        file, line = frames[-1] if frames else ("", 0)
        self.records.append(Record(kind, payload, file, line))
        return len(self.records) - 1

    # ---- labels --------------------------------------------------------------------------------
    def bzl_key(self, path: str) -> str:
        """``pkg:rel/file.bzl`` for a tree-relative path, as a label names it."""
        parent = path.rsplit("/", 1)[0] if "/" in path else ""
        pkg = parent
        while pkg and pkg not in self.packages:
            pkg = pkg.rsplit("/", 1)[0] if "/" in pkg else ""
        rel = path[len(pkg) + 1 :] if pkg else path
        return f"{pkg}:{rel}"

    def resolve(self, label: str, requester: str) -> str | None:
        """Tree-relative path of a .bzl label in this module, None for another repository."""
        lab = label
        for prefix in (f"@{self.module}//", f"@@{self.module}//", "@//", "@@//"):
            if lab.startswith(prefix):
                lab = "//" + lab[len(prefix) :]
        if lab.startswith("@"):
            return None
        if lab.startswith("//"):
            pkg, _, name = lab[2:].partition(":")
            if not name:
                return None
            return f"{pkg}/{name}".strip("/")
        key = self.bzl_key(requester)
        pkg = key.split(":", 1)[0]
        return f"{pkg}/{lab.lstrip(':')}".strip("/")

    # ---- evaluation ----------------------------------------------------------------------------
    def new_module(self) -> sl.Module:
        mod = sl.Module()
        mod.add_callable("_def", self._def)
        if not _PRELUDE_AST:
            _PRELUDE_AST.append(sl.parse("<prelude>", PRELUDE))
        sl.eval(mod, _PRELUDE_AST[0], _GLOBALS)
        return mod

    def stub_module(self, symbols: dict[str, str], source: str) -> sl.FrozenModule:
        """Stand-ins for symbols loaded from another repository (local name → remote name)."""
        mod = self.new_module()
        snippet = "".join(stub_snippet(local, source, remote) for local, remote in symbols.items())
        if snippet:
            sl.eval(mod, sl.parse("<stub>", snippet), _GLOBALS)
        return mod.freeze()

    def load_bzl(self, path: str) -> sl.FrozenModule | None:
        """Evaluate (once) the tree's .bzl file at ``path``; None when it does not exist."""
        if path in self.frozen:
            return self.frozen[path]
        file = self.root / path
        if not file.is_file():
            return None
        source = file.read_text(encoding="utf-8", errors="replace")
        self.trees[path] = syntax.parse(source)
        mod, ok = self.eval_source(path, source)
        self.complete[path] = ok
        self.described[path] = self.describe(mod, path)
        self.frozen[path] = mod.freeze()
        return self.frozen[path]

    def eval_source(self, path: str, source: str) -> tuple[sl.Module, bool]:
        try:
            ast = sl.parse(path, source.expandtabs(4), _DIALECT)
        except sl.StarlarkError as exc:
            self.errors[path] = str(exc).strip().splitlines()[0]
            return self.new_module(), False
        wanted: dict[str, dict[str, str]] = {}
        for ld in ast.loads():
            wanted.setdefault(ld.module_id, {}).update(ld.symbols)

        def loader(module_id: str) -> sl.FrozenModule:
            target = self.resolve(module_id, path)
            frozen = self.load_bzl(target) if target else None
            return frozen if frozen is not None else self.stub_module(wanted.get(module_id, {}), source)

        mod = self.new_module()
        stubs: set[str] = set()
        for _attempt in range(40):
            try:
                sl.eval(mod, ast, _GLOBALS, sl.FileLoader(loader))
                return mod, True
            except sl.StarlarkError as exc:
                missing = _NOT_FOUND.search(str(exc))
                if missing and missing.group(1) not in stubs:
                    stubs.add(missing.group(1))  # names resolve before anything runs: stub it, retry
                    sl.eval(mod, sl.parse("<stub>", stub_snippet(missing.group(1), source)), _GLOBALS)
                    continue
                self.errors[path] = " ".join(str(exc).split())[:300]
                return mod, False
        return mod, False

    def describe(self, mod: sl.Module, path: str) -> dict[str, Any]:
        """Exported name → rule/extension record id, or a kind string, for what the module bound."""
        tree = self.trees.get(path)
        # Loaded names are file-local in Bazel: only what the file itself binds is exported.
        bound = syntax.bindings(tree) if tree is not None else []
        loaded_only = {b.name for b in bound if b.how == "load"} - {b.name for b in bound if b.how != "load"}
        names = [b.name for b in bound if b.name not in loaded_only]
        out: dict[str, Any] = {}
        for name in dict.fromkeys(n for n in names if not n.startswith("_")):
            try:
                sl.eval(mod, sl.parse("<describe>", f"rr_describe_out = _rr_kind({name})\n"), _GLOBALS)
                out[name] = mod["rr_describe_out"]
            except (sl.StarlarkError, KeyError, TypeError, ValueError):
                out[name] = None  # not bound: evaluation stopped before it
                continue
            if out[name] == "value" and name.isupper():
                value = _constant(mod, name)
                if value is not None:
                    self.constants.setdefault(path, {})[name] = value
        return out


def _constant(mod: sl.Module, name: str) -> Any:
    """The value of an upper-case constant when it is small plain data (strings, lists, dicts)."""
    try:
        value = mod[name]
    except (sl.StarlarkError, KeyError, TypeError, ValueError):
        return None

    def plain(v: Any) -> bool:
        if isinstance(v, str | bool | int):
            return True
        if isinstance(v, list):
            return all(plain(x) for x in v)
        if isinstance(v, dict):
            return all(isinstance(k, str) and plain(x) for k, x in v.items())
        return False

    if value is None or not plain(value) or len(json.dumps(value)) > 4000:
        return None
    return value


def stub_snippet(name: str, source: str, bind: str = "") -> str:
    """Starlark binding ``bind`` (default ``name``) to a stand-in shaped after how ``source`` uses
    ``name``: attribute chains (``bazel_features.globals.x``) become nested structs, calls return
    their first argument (or None)."""
    target = bind or name
    chains = re.findall(rf"(?<![\w.]){re.escape(name)}((?:\.\w+)+)", source)
    if chains:
        return f"{target} = {struct_of_chains(name, chains, lambda _path: '_rr_any')}\n"
    if name.isupper():
        n = re.escape(name)
        as_dict = re.search(rf"\|\s*{n}\b|\b{n}\s*\||\*\*{n}\b|\b{n}\.(?:items|keys|values)\(", source)
        return f"{target} = {{}}\n" if as_dict else f"{target} = []\n"
    if name.startswith("use_") and "toolchain" in name:
        return f"def {target}(*a, **k):\n    return []\n"
    return f"{target} = _rr_any\n"


def walk(root: Path) -> tuple[dict[str, str], list[str], list[str]]:
    """Packages (dir → BUILD file), .bzl files and left-out directories of a module tree."""
    packages: dict[str, str] = {}
    bzl: list[str] = []
    left_out: list[str] = []
    for dirpath, dirnames, filenames in os.walk(root):
        rel = os.path.relpath(dirpath, root)
        rel = "" if rel == "." else rel.replace(os.sep, "/")
        keep = []
        for d in sorted(dirnames):
            sub = f"{rel}/{d}".strip("/")
            nested = (Path(dirpath) / d / "MODULE.bazel").is_file()
            if d in SKIP_DIRS or nested or d.startswith(("bazel-", ".")):
                left_out.append(sub)
            else:
                keep.append(d)
        dirnames[:] = keep
        for build in ("BUILD.bazel", "BUILD"):
            if build in filenames:
                packages[rel] = f"{rel}/{build}".strip("/")
                break
        bzl += [f"{rel}/{f}".strip("/") for f in sorted(filenames) if f.endswith(".bzl")]
    return packages, bzl, left_out


def digest(root: Path, files: list[str]) -> str:
    """sha256 over the Starlark files read, so a model can be traced to its exact input."""
    h = hashlib.sha256()
    for rel in sorted(files):
        h.update(rel.encode() + b"\0" + (root / rel).read_bytes() + b"\0")
    return h.hexdigest()[:16]


def extract(root: Path, *, module: str = "", version: str = "", origin: str = "") -> ApiModel:
    """The API model of the module whose source tree is ``root``.

    ``module``/``version`` default to the tree's ``module()``; ``origin`` (a tag or commit) is
    recorded with a digest of the files read.
    """
    root = Path(root)
    found_name, found_version = module_identity(root)
    module = module or found_name or root.name
    version = version or found_version
    packages, bzl_files, left_out = walk(root)
    ex = Extraction(root, module, packages)
    for path in bzl_files:
        ex.load_bzl(path)
    files = (
        bzl_files + list(packages.values()) + (["MODULE.bazel"] if (root / "MODULE.bazel").is_file() else [])
    )
    source = f"{origin or 'tree ' + root.name}; starlark sha256 {digest(root, files)}"
    return assemble(ex, bzl_files, module, version, source, tuple(left_out))


def assemble(
    ex: Extraction, bzl_files: list[str], module: str, version: str, source: str, left_out: tuple[str, ...]
) -> ApiModel:
    """Turn the recorded definitions and the syntax trees into the frozen model."""
    rules: dict[str, Rule] = {}
    extensions: dict[str, Extension] = {}
    macros: dict[str, Macro] = {}
    bzl: dict[str, BzlFile] = {}
    symbols: dict[str, dict[str, str]] = {}
    rule_keys: dict[int, str] = {}

    def rule_key(rid: int, export: str) -> tuple[str, str]:
        rec = ex.records[rid]
        key = rule_keys.setdefault(rid, f"{ex.bzl_key(rec.file)}%{export}")
        if rec.kind == "extension":
            if key not in extensions:
                tags = {
                    t: TagClass(_attrs(ex.records[tid].payload["attrs"]) if tid >= 0 else {})
                    for t, tid in rec.payload["tags"].items()
                }
                repos = syntax.literal_repos(ex.trees.get(rec.file), str(rec.payload.get("impl", "")))
                extensions[key] = Extension(export, ex.bzl_key(rec.file), tags, repos)
            return "extension", key
        if rec.kind == "symbolic_macro":
            if key not in macros:
                attrs = rec.payload["attrs"]
                params = {k: bool(v[1]) for k, v in attrs.items()} | {"name": True}
                macros[key] = Macro(export, ex.bzl_key(rec.file), params, bool(rec.payload["open"]))
            return "macro", key
        if key not in rules:
            p = rec.payload
            rules[key] = Rule(
                export,
                ex.bzl_key(rec.file),
                _attrs(p["attrs"]),
                tuple(p.get("outputs", ())),
                bool(p.get("executable")),
                bool(p.get("test")),
            )
        return ("repository_rule" if rec.kind == "repository_rule" else "rule"), key

    for path in bzl_files:
        key = ex.bzl_key(path)
        exports: dict[str, str] = {}
        refs: dict[str, str] = {}
        for name, what in ex.described.get(path, {}).items():
            if isinstance(what, int) and 0 <= what < len(ex.records):
                kind, ref = rule_key(what, name)
                if kind == "extension" and ex.records[what].kind != "extension":
                    kind = "value"
                exports[name], refs[name] = kind, ref
                continue
            found = follow_function(ex, path, name)
            if found is not None:
                macro_key, fn, fn_path = found
                if macro_key not in macros:
                    params, kwargs = syntax.signature(fn)
                    creates, known = syntax.created_names(fn)
                    macros[macro_key] = Macro(name, ex.bzl_key(fn_path), params, kwargs, creates, known)
                exports[name], refs[name] = "macro", macro_key
            elif what == "function":
                exports[name] = "function"
            elif isinstance(what, str):
                exports[name] = what
            else:
                exports[name] = "value"
        tree = ex.trees.get(path)
        notice = syntax.deprecation(tree) if tree is not None else ""
        bzl[key] = BzlFile(exports, ex.complete.get(path, False), notice)
        symbols[key] = refs
    pkgs: dict[str, Package] = {}
    for pkg, build in sorted(ex.packages.items()):
        read = syntax.build_targets((ex.root / build).read_text(encoding="utf-8", errors="replace"))
        pkgs[pkg] = Package(tuple(read[0]), tuple(read[1]), read[2]) if read else Package(open=True)
    values = {ex.bzl_key(path): v for path, v in sorted(ex.constants.items())}
    return ApiModel(module, version, source, bzl, rules, macros, extensions, pkgs, left_out, symbols, values)


def follow_function(ex: Extraction, path: str, name: str, depth: int = 0) -> tuple[str, Any, str] | None:
    """Where the function exported as ``name`` from ``path`` is defined: (key, def node, file)."""
    tree = ex.trees.get(path)
    if tree is None or depth > 8:
        return None
    fns = syntax.functions(tree)
    for b in reversed(syntax.bindings(tree)):
        if b.name != name:
            continue
        if b.how == "def" and name in fns:
            return f"{ex.bzl_key(path)}%{name}", fns[name], path
        if b.how == "assign" and b.alias_of:
            return follow_function(ex, path, b.alias_of, depth + 1)
        if b.how == "load":
            target = ex.resolve(b.label, path)
            if target and target in ex.trees:
                return follow_function(ex, target, b.remote, depth + 1)
        return None
    return None


def _attrs(raw: dict[str, Any]) -> dict[str, Attr]:
    """Public attributes only: a BUILD file cannot set one whose name starts with ``_``."""
    return {str(k): Attr(str(v[0]), bool(v[1])) for k, v in raw.items() if not str(k).startswith("_")}
