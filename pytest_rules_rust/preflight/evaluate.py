"""Evaluate a workspace's Starlark files with starlark-pyo3 into a :class:`~.model.Model`.

Host builtins come from a Starlark prelude (``prelude.py``) whose functions report every call
through one Python hook. Symbols loaded from other repositories are stubs that record their
calls (rules and macros are recorded, not run); the workspace's own ``.bzl`` files are evaluated
through a ``FileLoader``.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import starlark as sl

from . import guard, scope, text
from . import model as m
from .bazelrc import bazel_settings
from .records import build_model
from .tree import Tree, walk

# Bazel's dialect: standard Starlark plus keyword-only parameters (``def f(*, name)``).
DIALECT = sl.Dialect.standard()
DIALECT.enable_keyword_only_arguments = True
_FRAME = re.compile(r"^\s*\* (.+?):(\d+), in (.*)$", re.M)
_NOT_FOUND = re.compile(r"Variable `(\w+)` not found")
_SAME_NAME_HINT = re.compile(r"`(\w+)`, did you mean `\1`\?")
_ERR_POS = re.compile(r"--> (.+?):(\d+):(\d+)")

# Bazel .bzl globals that the prelude does not model; a file using one gets a permissive stub.
BZL_GLOBALS = frozenset(
    [
        "apple_common",
        "android_common",
        "cc_common",
        "coverage_common",
        "java_common",
        "java_proto_common",
        "proto_common_do_not_use",
        "py_internal",
        "testing",
        "set",
        "AnalysisTestResultInfo",
        "AppleDynamicFrameworkInfo",
        "AppleExecutableBinaryInfo",
        "CcSharedLibraryInfo",
        "CcToolchainConfigInfo",
        "CcToolchainInfo",
        "DebugPackageInfo",
        "ExecutionInfo",
        "FeatureFlagInfo",
        "JavaInfo",
        "JavaPluginInfo",
        "ObjcInfo",
        "PackageSpecificationInfo",
        "ProguardSpecProvider",
        "ProtoInfo",
        "PyInfo",
        "PyRuntimeInfo",
        "TemplateVariableInfo",
        "ToolchainInfo",
        "py_common",
        "materializer_rule",
        "exec_transition",
    ]
)


@dataclass
class Rec:
    """One recorded builtin call: kind, payload, call stack (outermost first) and current package."""

    kind: str
    payload: dict[str, Any]
    frames: list[tuple[str, int]]
    package: str

    @property
    def loc(self) -> m.Loc:
        file, line = self.frames[0] if self.frames else ("", 1)
        return m.Loc(file, line)

    @property
    def inner(self) -> m.Loc:
        file, line = self.frames[-1] if self.frames else ("", 1)
        return m.Loc(file, line)


@dataclass(frozen=True)
class StarlarkProblem:
    """A parse or evaluation error split into parts: what, where (``file`` as starlark-pyo3
    names it, "" when the error has no position) and the undefined name, if that was the error."""

    message: str
    loc: m.Loc
    unknown_name: str = ""


def parse_error(exc: Exception) -> StarlarkProblem:
    """Message, file and line of a starlark-pyo3 error."""
    raw = str(exc)
    lines = raw.strip().splitlines()
    first = next((ln for ln in lines if ln.startswith("error:")), lines[0] if lines else raw)
    first = re.sub(r"^error: ", "", first)
    first = re.sub(r"^Parse error: ", "", first)
    first = _SAME_NAME_HINT.sub(r"`\1`", first)
    if len(first) > 160:
        first = first[:150].rsplit(",", 1)[0] + ", …"
    pos = _ERR_POS.search(raw)
    loc = m.Loc(pos.group(1), int(pos.group(2))) if pos else m.Loc("", 1)
    nf = _NOT_FOUND.search(raw)
    return StarlarkProblem(first, loc, nf.group(1) if nf else "")


@dataclass
class Session:
    """State of one evaluation run (a workspace or a Markdown document)."""

    root: Path | None
    fragment: bool = False
    records: list[Rec] = field(default_factory=list)
    findings: list[m.Finding] = field(default_factory=list)
    sources: dict[str, str] = field(default_factory=dict)
    loads: list[m.Load] = field(default_factory=list)
    rebindings: list[m.Binding] = field(default_factory=list)
    incomplete: set[str] = field(default_factory=set)
    package: str = ""
    module_name: str = ""
    files_by_pkg: dict[str, list[str]] = field(default_factory=dict)
    packages: dict[str, str] = field(default_factory=dict)  # package -> BUILD file
    bzl_cache: dict[str, sl.FrozenModule] = field(default_factory=dict)
    failed_bzl: set[str] = field(default_factory=set)
    rule_names: dict[int, str] = field(default_factory=dict)
    rule_string_attrs: dict[int, frozenset[str]] = field(default_factory=dict)
    targets_by_pkg: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    # Markdown mode: values and stubs that earlier blocks bound (name -> Starlark snippet or JSON value).
    doc_env: dict[str, Any] = field(default_factory=dict)
    doc_names: set[str] = field(default_factory=set)
    preludes: dict[str, sl.FrozenModule] = field(default_factory=dict)
    clocks: list[list[float]] = field(default_factory=list)  # per file being evaluated: start, loads' time
    current_source: str = ""

    # ---- hooks called from Starlark -------------------------------------------------------------
    def _rec(self, record_json: str) -> int:
        kind: str
        payload: dict[str, Any]
        stack: str
        kind, payload, stack = json.loads(record_json)
        frames = [(f, int(ln)) for f, ln, _fn in _FRAME.findall(stack) if not f.startswith("<")]
        self.records.append(Rec(kind, payload, frames, self.package))
        idx = len(self.records) - 1
        if kind == "target":
            attrs = dict(payload.get("attrs") or {})
            attrs.update(name=payload.get("name"), kind=payload.get("kind"))
            self.targets_by_pkg.setdefault(self.package, {})[str(payload.get("name"))] = attrs
        elif kind == "rule" and frames:
            file, line = frames[-1]
            src = self.sources.get(file, "").split("\n")
            mt = re.match(r"\s*(\w+)\s*=", src[line - 1]) if 0 < line <= len(src) else None
            self.rule_names[idx] = mt.group(1) if mt else f"rule@{file}:{line}"
            self.rule_string_attrs[idx] = frozenset(str(a) for a in payload.get("string_attrs") or [])
        return idx

    def _glob(self, include: list[str], exclude: list[str]) -> list[str]:
        files = self.files_by_pkg.get(self.package, [])
        inc = [_glob_regex(p) for p in include if isinstance(p, str)]
        exc = [_glob_regex(p) for p in exclude if isinstance(p, str)]
        return [f for f in files if any(r.match(f) for r in inc) and not any(r.match(f) for r in exc)]

    def _existing(self, name: str) -> dict[str, Any] | None:
        return self.targets_by_pkg.get(self.package, {}).get(name)

    def _existing_all(self) -> dict[str, Any]:
        return dict(self.targets_by_pkg.get(self.package, {}))

    def _tags(self) -> list[str]:
        """Tag names an extension proxy offers: every ``.name(`` of the file being evaluated."""
        return sorted(set(re.findall(r"\.\s*(\w+)\s*\(", self.current_source)))

    @staticmethod
    def _retkind(kind: str) -> str:
        base = kind.rsplit(".", 1)[-1] if kind.startswith("selects.") is False else kind
        if kind in scope.RETURNS:
            return scope.RETURNS[kind]
        if base in scope.RETURNS:
            return scope.RETURNS[base]
        return "list" if base.endswith("_deps") else "none"

    # ---- modules -------------------------------------------------------------------------------
    def add_hooks(self, mod: sl.Module) -> None:
        """Bind the Python hooks the prelude calls."""
        mod.add_callable("_rec", self._rec)
        mod.add_callable("_tags", self._tags)
        mod.add_callable("_glob", self._glob)
        mod.add_callable("_pkg", lambda: self.package)
        mod.add_callable("_module_name", lambda: self.module_name)
        mod.add_callable("_existing", self._existing)
        mod.add_callable("_existing_all", self._existing_all)
        mod.add_callable("_retkind", self._retkind)

    def prelude(self, flavour: str) -> sl.FrozenModule:
        """The prelude of ``flavour``, evaluated once per session."""
        if flavour not in self.preludes:
            mod = sl.Module()
            self.add_hooks(mod)
            sl.eval(mod, scope.prelude_ast(flavour), scope.GLOBALS)
            self.preludes[flavour] = mod.freeze()
        return self.preludes[flavour]

    def prelude_module(self, module_id: str) -> sl.FrozenModule | None:
        """The prelude a ``load()`` of ``scope.PRELUDE_ID`` asks for (None for other modules)."""
        for flavour in scope.PRELUDES:
            if module_id == scope.PRELUDE_ID.format(flavour):
                return self.prelude(flavour)
        return None

    def new_module(self, flavour: str) -> sl.Module:
        """A module with the hooks and the whole prelude of ``flavour`` evaluated into it (the slow way,
        for files whose first line cannot take the prelude's ``load()``)."""
        mod = sl.Module()
        self.add_hooks(mod)
        sl.eval(mod, scope.prelude_ast(flavour), scope.GLOBALS)
        return mod

    def eval_snippet(self, mod: sl.Module, snippet: str) -> None:
        """Evaluate stub definitions (see ``scope.stub_snippet``) into ``mod``."""
        loader = sl.FileLoader(lambda mid: self.prelude_module(mid) or self.prelude("all"))
        sl.eval(mod, sl.parse("<prelude>", scope.stub_header() + snippet), scope.GLOBALS, loader)

    def external_module(self, module_id: str, symbols: Iterable[str], source: str) -> sl.FrozenModule:
        """A frozen module whose symbols are recording stubs (for loads from other repositories)."""
        mod = sl.Module()
        snippet = "".join(scope.stub_snippet(s, source) for s in symbols)
        if snippet:
            self.eval_snippet(mod, snippet)
        return mod.freeze()

    # ---- evaluation ----------------------------------------------------------------------------
    def eval_file(
        self, display: str, source: str, flavour: str, package: str, *, allow_stub: Callable[[str], bool]
    ) -> sl.Module | None:
        """Parse and evaluate one file; findings go to ``self.findings``. Returns the module (if it ran).

        A file beyond the limits is not given to the interpreter; an exception or interpreter
        panic while handling it becomes a finding on it. Either way the run goes on.
        """
        self.sources[display] = source
        self.package = package
        refused = guard.shape_problem(display, source)
        if refused is not None:
            self.findings.append(refused)
            self.incomplete.add(package if flavour == "build" else display)
            return None
        saved = self.package
        mod = guard.isolated(
            display,
            "evaluating",
            lambda: self._eval_file(display, source, flavour, package, allow_stub),
            self.crashed,
        )
        self.package = saved
        if mod is None:
            self.incomplete.add(package if flavour == "build" else display)
        return mod

    def crashed(self, finding: m.Finding) -> None:
        """Record a crash finding (once per file)."""
        if not any(f.file == finding.file and f.code == finding.code for f in self.findings):
            self.findings.append(finding)

    def _eval_file(
        self, display: str, source: str, flavour: str, package: str, allow_stub: Callable[[str], bool]
    ) -> sl.Module | None:
        prefix = scope.injected_load(flavour, source)
        try:
            ast = sl.parse(display, (prefix or "") + source, DIALECT)
        except sl.StarlarkError as exc:
            if not prefix:
                self.syntax_finding(display, source, exc)
                self.incomplete.add(package if flavour == "build" else display)
                return None
            try:  # the file itself, without the prelude's load: a syntax error of its own?
                ast = sl.parse(display, source, DIALECT)
            except sl.StarlarkError as own:
                self.syntax_finding(display, source, own)
                self.incomplete.add(package if flavour == "build" else display)
                return None
            prefix = None
        load_syms: dict[str, list[str]] = {}
        for ld in ast.loads():
            if ld.module_id.startswith(scope.PRELUDE_ID[:10]):
                continue
            syms = list(ld.symbols.values())
            load_syms.setdefault(ld.module_id, []).extend(syms)
            line = _load_line(source, ld.module_id)
            self.loads.append(
                m.Load(m.Loc(display, line), ld.module_id, tuple(ld.symbols.keys()), tuple(syms))
            )
        if flavour == "module" or display.endswith(".bzl"):
            for lint in ast.lint():
                if lint.short_name == "duplicate-top-level-assign":
                    self.rebinding(display, lint)

        def load(mid: str) -> sl.FrozenModule:
            found = self.prelude_module(mid)
            if found is not None:
                return found
            return self.load(mid, display, package, load_syms.get(mid, []), source)  # type: ignore[no-any-return]

        loader = sl.FileLoader(load)
        stubs: dict[str, str] = {}
        mod = sl.Module() if prefix is not None else self.new_module(flavour)
        clock = [time.monotonic(), 0.0]  # this file's start, and the time its loads took
        options = sl.EvalOptions(
            check_cancelled=lambda: time.monotonic() - clock[0] - clock[1] > guard.LIMITS.max_eval_seconds
        )
        self.clocks.append(clock)
        try:
            for _attempt in range(60):
                self.package = package
                self.current_source = source
                try:
                    sl.eval_with(options, mod, ast, scope.GLOBALS, loader)
                    return mod
                except sl.StarlarkError as exc:
                    if "Evaluation cancelled" in str(exc):
                        self.findings.append(guard.too_slow(display, parse_error(exc).loc.line))
                        self.incomplete.add(package if flavour == "build" else display)
                        return mod
                    prob = parse_error(exc)
                    name = prob.unknown_name
                    if name and name not in stubs and prob.loc.file == display and allow_stub(name):
                        # Names resolve before anything runs: the module is still untouched. Stub, retry.
                        stubs[name] = self.doc_env.get(name) or scope.stub_snippet(name, source)
                        self.eval_snippet(mod, stubs[name])
                        continue
                    self.eval_finding(display, prob, flavour)
                    self.incomplete.add(package if flavour == "build" else display)
                    return mod
        finally:
            self.clocks.pop()
        return None

    def read(self, rel: str) -> str | None:
        """The text of a workspace file; a finding (and None) when it cannot be read or is too big."""
        assert self.root is not None
        src = guard.read_source(self.root, rel)
        if src.finding is not None:
            self.findings.append(src.finding)
        return src.text

    def load(self, module_id: str, requester: str, package: str, symbols: list[str], source: str) -> Any:
        """FileLoader callback: the workspace's own .bzl files are evaluated, others stubbed.

        A .bzl file that could not be evaluated completely answers every load with stubs for
        exactly the symbols that load asks for, so one broken file yields one finding (on it),
        not one on every file that loads it.
        """
        path = self.main_repo_path(module_id, package)
        if path is None or self.root is None or self.fragment:
            return self.external_module(module_id, symbols, source)
        cached = self.bzl_cache.get(path)
        if cached is not None:
            return cached
        if path in self.failed_bzl:
            return self.external_module(module_id, symbols, source)
        file = self.root / path
        saved = self.package
        if not file.is_file():
            self.findings.append(
                m.Finding(
                    requester,
                    _load_line(source, module_id),
                    "RR103",
                    "error",
                    f"load() of {module_id}: {path} does not exist",
                    "fix the label (//package:file.bzl, relative to the workspace root) or add the file",
                )
            )
            self.failed_bzl.add(path)
            return self.external_module(module_id, symbols, source)
        self.failed_bzl.add(path)  # until it evaluates: a load cycle must not recurse
        bzl_src = self.read(path)
        mod = None
        if bzl_src is not None:
            pkg = path.rsplit("/", 1)[0] if "/" in path else ""
            mod = self.eval_file(path, bzl_src, "build", pkg, allow_stub=lambda n: n in BZL_GLOBALS)
        self.package = saved
        if mod is None or path in self.incomplete:
            return self.external_module(module_id, symbols, source)
        frozen = mod.freeze()
        self.failed_bzl.discard(path)
        self.bzl_cache[path] = frozen
        return frozen

    def main_repo_path(self, module_id: str, package: str) -> str | None:
        """Workspace-relative path of a .bzl label in the main repository, None for other repositories."""
        mid = module_id
        for prefix in ("@//", f"@{self.module_name}//" if self.module_name else "@//"):
            if mid.startswith(prefix):
                mid = mid[len(prefix) - 2 :]
        if mid.startswith("@"):
            return None
        if mid.startswith("//"):
            pkg, _, name = mid[2:].partition(":")
            return f"{pkg}/{name}".strip("/") if name else None
        name = mid[1:] if mid.startswith(":") else mid
        return f"{package}/{name}".strip("/")

    # ---- findings ------------------------------------------------------------------------------
    def syntax_finding(self, display: str, source: str, exc: Exception) -> None:
        prob = parse_error(exc)
        noticed = prob.loc.line  # where the parser gave up
        line, hint = noticed, "fix the syntax; Bazel stops reading the file at this point"
        end = text.offset_after_line(source, noticed)
        opened = text.unclosed_bracket_before(source[:end], noticed)
        message = prob.message
        at_end = text.unclosed_at_end(source) if noticed == 1 else None
        if at_end and at_end[1] > 1:  # starlark-rust puts end-of-file errors at 1:1
            message = f"'{at_end[0]}' opened here is never closed (the file ends first)"
            line, hint = at_end[1], f"close the '{at_end[0]}'"
        elif opened and opened[1] < noticed:
            message = f"'{opened[0]}' opened here is never closed (the parser noticed at line {noticed})"
            line, hint = opened[1], f"close the '{opened[0]}' before the next statement"
        elif "unfinished string" in message:
            hint = "close the string literal on the same line (use triple quotes for multi-line strings)"
        self.findings.append(m.Finding(display, line, "RR001", "error", f"syntax error: {message}", hint))

    def eval_finding(self, display: str, prob: StarlarkProblem, flavour: str) -> None:
        # starlark-pyo3 names the file evaluated from a string "<...>": that is ``display``
        named = bool(prob.loc.file) and not prob.loc.file.startswith("<")
        where = prob.loc if named else m.Loc(display, prob.loc.line)
        if prob.unknown_name:
            sev: m.Severity = "warning" if self.fragment else "error"
            hint = (
                'load it first, e.g. load("@rules_rust//rust:defs.bzl", "rust_binary")'
                if flavour != "module"
                else "MODULE.bazel has no load(); use the built-in functions"
            )
            self.findings.append(
                m.Finding.at(
                    where,
                    "RR002",
                    sev,
                    f"name '{prob.unknown_name}' is used without load() or definition",
                    hint,
                )
            )
        else:
            self.findings.append(
                m.Finding.at(
                    where,
                    "RR003",
                    "warning",
                    f"evaluation stopped: {prob.message}",
                    "preflight could not evaluate the rest of this file; checks on it are limited",
                )
            )

    def rebinding(self, display: str, lint: Any) -> None:
        mt = re.search(r"assignment of `(\w+)`, first defined at .*?:(\d+):", lint.problem)
        if not mt:
            return
        line = lint.resolved_location.span.begin.line + 1
        self.rebindings.append(m.Binding(m.Loc(display, line), mt.group(1), m.Loc(display, int(mt.group(2)))))


def _load_line(source: str, module_id: str) -> int:
    idx = source.find(module_id)
    return source.count("\n", 0, idx) + 1 if idx >= 0 else 1


_GLOB_CACHE: dict[str, re.Pattern[str]] = {}


def _glob_regex(pattern: str) -> re.Pattern[str]:
    """Bazel glob pattern → regex (``**`` spans directories, ``*`` and ``?`` do not)."""
    if pattern in _GLOB_CACHE:
        return _GLOB_CACHE[pattern]
    out = []
    parts = pattern.split("/")
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        if part == "**":
            out.append(".*" if last else "(?:.*/)?")
            continue
        seg = "".join("[^/]*" if c == "*" else "[^/]" if c == "?" else re.escape(c) for c in part)
        out.append(seg if last else seg + "/")
    rx = re.compile("".join(out) + r"\Z")
    _GLOB_CACHE[pattern] = rx
    return rx


def evaluate_workspace(root: Path, tree: Tree | None = None) -> m.Model:
    """Evaluate what Bazel reads: MODULE.bazel (and its includes), WORKSPACE(.bzlmod), every BUILD
    file, and the .bzl files those load (transitively). A .bzl file nothing loads is not read.

    ``tree`` is the workspace's listing when the caller has it already (see ``tree.walk``).
    """
    tree = tree or walk(root)
    s = Session(root, files_by_pkg=tree.files_by_pkg, packages=tree.packages)
    if (root / "MODULE.bazel").is_file():
        src = s.read("MODULE.bazel")
        if src is not None:
            name_m = re.search(r"module\(\s*[^)]*?name\s*=\s*\"([^\"]+)\"", src, re.S)
            s.module_name = name_m.group(1) if name_m else ""
            s.eval_file("MODULE.bazel", src, "module", "", allow_stub=lambda n: False)
        done = {"MODULE.bazel"}
        for rec in list(s.records):
            if rec.kind == "include":
                path = s.main_repo_path(str(rec.payload["label"]), "")
                if path and path not in done and (root / path).is_file():
                    done.add(path)
                    inc = s.read(path)
                    if inc is not None:
                        s.eval_file(path, inc, "module", "", allow_stub=lambda n: False)
    for rec in [r for r in s.records if r.kind == "use_extension"]:
        # The workspace's own module extensions are .bzl files Bazel evaluates for MODULE.bazel.
        bzl = str(rec.payload.get("bzl") or "")
        path = s.main_repo_path(bzl, "")
        if path is not None and (root / path).is_file():  # not there: maybe a partial copy; not our call
            s.load(
                bzl, rec.loc.file, "", [str(rec.payload.get("name") or "")], s.sources.get(rec.loc.file, "")
            )
    for ws in ("WORKSPACE.bzlmod", "WORKSPACE", "WORKSPACE.bazel"):
        if (root / ws).is_file():
            s.package = "//external"
            ws_src = s.read(ws)
            if ws_src is not None:
                s.eval_file(ws, ws_src, "build", "//external", allow_stub=lambda n: True)
            break
    for pkg, build in sorted(tree.packages.items()):
        build_src = s.read(build)
        if build_src is None:
            s.incomplete.add(pkg)
            continue
        s.eval_file(build, build_src, "build", pkg, allow_stub=lambda n: False)
    return build_model(s, str(root), bazel_settings(root), tree.all_files)
