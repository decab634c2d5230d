"""buildifier as a second opinion: its lint warnings become findings with its own codes.

Codes are ``BF:<category>`` (buildifier's warning names, see its WARNINGS.md); only the
categories in :data:`ASKED` are asked for, and generated files (``@generated``, "DO NOT EDIT"
near the top) are not linted. When buildifier is not on PATH, one ``RR700`` info finding says
so; that never fails a run.

For a workspace, buildifier runs over all Starlark files (it takes many files and reports JSON)
on the cores the evaluation leaves, while preflight evaluates the workspace, and its per-file
results are cached by content hash (:func:`start`).
"""

from __future__ import annotations

import functools
import json
import os
import platform
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from . import results_cache
from .model import Finding
from .results_cache import ResultsCache

# The categories asked for: those where Bazel fails or the code does something else than it
# says (removed or deprecated APIs, dead or ineffective code, values that are never set). Style
# (docstrings, naming, sorting, load order) is left to the project's own buildifier run, and so
# are the native-rule autoload warnings, which depend on the Bazel version. Naming the categories
# keeps the run small, about a third of buildifier's default lint, and keeps it the same when a
# newer buildifier adds categories.
ASKED = frozenset(
    {
        # APIs that Bazel removed or will remove
        "attr-cfg",
        "attr-license",
        "attr-non-empty",
        "attr-output-default",
        "attr-single-file",
        "ctx-actions",
        "ctx-args",
        "depset-items",
        "depset-iteration",
        "depset-union",
        "dict-concatenation",
        "filetype",
        "git-repository",
        "http-archive",
        "integer-division",
        "native-build",
        "native-package",
        "output-group",
        "package-name",
        "repository-name",
        "string-iteration",
        # code that does not do what it says
        "build-args-kwargs",
        "constant-glob",
        "duplicated-name",
        "keyword-positional-params",
        "load",
        "no-effect",
        "package-on-top",
        "positional-args",
        "redefined-variable",
        "return-value",
        "rule-impl-return",
        "uninitialized",
        "unreachable",
        "unused-variable",
    }
)
# A Markdown block is a fragment: what it loads or defines is used by later blocks.
FRAGMENT_ASKED = ASKED - {"load", "unused-variable", "uninitialized", "rule-impl-return", "package-on-top"}
_SYNTAX = re.compile(r"^(.*?):(\d+):(\d+): (.*)$", re.M)
BASE_ARGS = ("--mode=check", "--lint=warn", "--format=json")
LINT_ARGS = (*BASE_ARGS, "--warnings=" + ",".join(sorted(ASKED)))
# "Generated, do not edit" near the top: crate_universe's vendored BUILD files, Go's and others'
# convention. Their lint is not something the workspace's authors can act on.
_GENERATED = re.compile(rb"@generated|DO NOT (?:EDIT|MODIFY)")
_HEAD = 1024
_CHUNK_MIN = 64  # files per extra process: below that, one process is faster than two


@functools.cache
def find_buildifier() -> str | None:
    """Path of buildifier: ``$BUILDIFIER`` or the one on PATH.

    npm's ``buildifier`` is a node wrapper that costs ~0.3 s per call; the native binary next to
    it is used instead when present.
    """
    env = os.environ.get("BUILDIFIER")
    found = env if env and Path(env).is_file() else shutil.which("buildifier")
    if found and Path(found).resolve().suffix == ".js":
        arch = {"x86_64": "amd64", "aarch64": "arm64"}.get(platform.machine(), platform.machine())
        native = Path(found).resolve().parent / f"buildifier-{platform.system().lower()}_{arch}"
        if native.is_file() and os.access(native, os.X_OK):
            return str(native)
    return found


def missing_finding(file: str) -> Finding:
    return Finding(
        file,
        1,
        "RR700",
        "info",
        "buildifier is not on PATH; its lint was skipped",
        "npm install -g @bazel/buildifier (or set BUILDIFIER=/path/to/buildifier)",
    )


def run(
    paths: Sequence[str], cwd: Path, exe: str
) -> tuple[dict[str, list[dict[str, object]]], dict[str, tuple[int, str]]]:
    """Lint warnings per file and syntax errors per file (line, message) from one buildifier process."""
    proc = subprocess.run(
        [exe, *BASE_ARGS, *paths],
        cwd=cwd,
        capture_output=True,
        text=True,
        errors="replace",
        timeout=120,
        check=False,
    )
    return parse_output(proc.stdout, proc.stderr)


def parse_output(
    stdout: str, stderr: str
) -> tuple[dict[str, list[dict[str, object]]], dict[str, tuple[int, str]]]:
    """Warnings per file (from the JSON on stdout) and syntax errors per file (from stderr)."""
    warnings: dict[str, list[dict[str, object]]] = {}
    try:
        data = json.loads(stdout or "{}")
    except json.JSONDecodeError:
        data = {}
    for entry in data.get("files", []) if isinstance(data, dict) else []:
        if isinstance(entry, dict) and isinstance(entry.get("filename"), str):
            warnings[entry["filename"]] = list(entry.get("warnings") or [])
    errors = {mt.group(1): (int(mt.group(2)), mt.group(4)) for mt in _SYNTAX.finditer(stderr)}
    return warnings, errors


def _to_findings(
    display: dict[str, str],
    warnings: dict[str, list[dict[str, object]]],
    errors: dict[str, tuple[int, str]],
    asked: frozenset[str],
    offset: dict[str, int],
) -> list[Finding]:
    out: list[Finding] = []
    for name, shown in display.items():
        for w in warnings.get(name, []):
            cat = str(w.get("category"))
            if cat not in asked:
                continue
            start = w.get("start")
            line = int(start["line"]) if isinstance(start, dict) else 1
            msg = str(w.get("message", "")).split("\n")[0]
            out.append(
                Finding(
                    shown,
                    line + offset.get(name, 0),
                    f"BF:{cat}",
                    "warning",
                    f"buildifier: {msg}",
                    str(w.get("url", "")),
                )
            )
        if name in errors:
            line, msg = errors[name]
            out.append(
                Finding(
                    shown,
                    line + offset.get(name, 0),
                    "RR701",
                    "warning",
                    f"buildifier cannot parse this: {msg}",
                    "fix the syntax",
                )
            )
    return out


def lint_files(root: Path, files: Sequence[str], cache: ResultsCache | None = None) -> list[Finding]:
    """buildifier over workspace files (paths relative to ``root``)."""
    return start(root, files, cache).finish(files)


@dataclass
class RunningLint:
    """buildifier processes started by :func:`start`; :meth:`finish` collects their findings."""

    root: Path
    exe: str | None
    cached: dict[str, list[dict[str, object]]]
    keys: dict[str, str]
    procs: list[subprocess.Popen[str]] = field(default_factory=list)
    cache: ResultsCache | None = None

    def finish(self, keep: Iterable[str]) -> list[Finding]:
        """Findings for the files in ``keep`` (the ones preflight evaluated); stores new results."""
        keep = set(keep)
        if self.exe is None:
            anchor = "MODULE.bazel" if "MODULE.bazel" in keep else (min(keep) if keep else ".")
            return [missing_finding(anchor)]
        results = dict(self.cached)
        for proc in self.procs:
            names = list(proc.args[1 + len(LINT_ARGS) :])  # type: ignore[index]
            try:
                out, err = proc.communicate(timeout=120)
            except subprocess.TimeoutExpired:
                proc.kill()
                out, err = proc.communicate()
            if "unexpected warning" in err and not out.strip():  # an older buildifier: ask for its defaults
                retry = subprocess.run(
                    [self.exe, *BASE_ARGS, *names], cwd=self.root, capture_output=True, text=True, check=False
                )
                out, err = retry.stdout, retry.stderr
            warnings, errors = parse_output(out, err)
            for name in names:
                entry: list[dict[str, object]] = list(warnings.get(name, []))
                if name in errors:
                    entry.append(
                        {"category": "rr-syntax", "line": errors[name][0], "message": errors[name][1]}
                    )
                results[name] = entry
                if self.cache is not None and proc.returncode in (0, 4) and name in self.keys:
                    self.cache.put(self.keys[name], entry)
        shown = {f: f for f in sorted(keep) if f in results}
        warn = {f: [w for w in results[f] if w.get("category") != "rr-syntax"] for f in shown}
        errs = {
            f: (int(str(w.get("line", 1))), str(w.get("message", "")))
            for f in shown
            for w in results[f]
            if w.get("category") == "rr-syntax"
        }
        return _to_findings(shown, warn, errs, ASKED, {})


def start(root: Path, files: Sequence[str], cache: ResultsCache | None = None) -> RunningLint:
    """Start buildifier over ``files`` (relative to ``root``) in the background, one process per
    core the evaluation leaves free; files whose content buildifier has seen before are answered
    from ``cache``, and generated files are left out."""
    exe = find_buildifier()
    if exe is None:
        return RunningLint(root, None, {}, {})
    cached: dict[str, list[dict[str, object]]] = {}
    keys: dict[str, str] = {}
    todo: list[str] = []
    ident = _identity(exe)
    for name in files:
        try:
            data = (root / name).read_bytes()
        except OSError:
            continue
        if _GENERATED.search(data, 0, _HEAD):
            continue
        if cache is not None:
            keys[name] = results_cache.key("buildifier", ident, *LINT_ARGS, name, data)
            hit = cache.get(keys[name])
            if isinstance(hit, list):
                cached[name] = hit
                continue
        todo.append(name)
    lint = RunningLint(root, exe, cached, keys, cache=cache)
    if todo:
        # one core is evaluating the workspace meanwhile
        n = max(1, min((os.cpu_count() or 1) - 1, len(todo) // _CHUNK_MIN))
        for i in range(n):
            chunk = todo[i::n]
            lint.procs.append(
                subprocess.Popen(
                    [exe, *LINT_ARGS, *chunk],
                    cwd=root,
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                    errors="replace",
                    # a short-lived run: collecting garbage less often saves a fifth of its time
                    env={"GOGC": "400", **os.environ},
                )
            )
    return lint


def _identity(exe: str) -> str:
    try:
        st = os.stat(exe)
    except OSError:
        return exe
    return f"{exe}:{st.st_size}:{st.st_mtime_ns}"


def lint_blocks(display: str, blocks: Sequence[tuple[int, str]]) -> list[Finding]:
    """buildifier over Markdown blocks ((first line, text) pairs); lines are mapped back to the document."""
    exe = find_buildifier()
    if exe is None:
        return [missing_finding(display)]
    if not blocks:
        return []
    with tempfile.TemporaryDirectory(prefix="rr-buildifier-") as tmp:
        names: dict[str, str] = {}
        offset: dict[str, int] = {}
        for first, body in blocks:
            name = f"block_{first}.bzl"
            Path(tmp, name).write_text(body)
            names[name] = display
            offset[name] = first - 1
        warnings, errors = run(sorted(names), Path(tmp), exe)
        return _to_findings(names, warnings, errors, FRAGMENT_ASKED, offset)
