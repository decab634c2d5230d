"""Preflight: catch a workspace's configuration mistakes statically, with file and line.

``preflight_workspace(root)`` evaluates MODULE.bazel, BUILD files and the workspace's own .bzl
files with starlark-pyo3 into a model and runs the checks (``checks.CODES`` lists them);
``preflight_markdown(path)`` does the same for the Starlark blocks of a document.
buildifier, when on PATH, adds its lint warnings as a second opinion.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Protocol

from ..errors import PreflightError, UsageError
from . import tree
from .model import Finding, Model, PreflightReport
from .tree import Tree

if TYPE_CHECKING:  # at run time these come from __getattr__ below, when first used
    from .checks import CODES
    from .markdown import preflight_markdown

# The interpreter and the checks are imported when a run needs them, so that a run answered
# from the cache (and ``--help``) does not pay for loading them; buildifier, the results cache
# (with its file lock) and the API model store are imported by the first run, not by the
# pytest plugin's import of this package.
__all__ = [
    "CODES",
    "Finding",
    "Model",
    "PreflightReport",
    "preflight",
    "preflight_markdown",
    "preflight_workspace",
    "require_clean",
    "workspace_of",
]


def __getattr__(name: str) -> object:
    if name == "CODES":
        from .checks import CODES

        return CODES
    if name == "preflight_markdown":
        from .markdown import preflight_markdown

        return preflight_markdown
    raise AttributeError(name)


_MARKERS = ("MODULE.bazel", "WORKSPACE", "WORKSPACE.bazel", "BUILD", "BUILD.bazel")


def preflight_workspace(
    root: Path | str, *, use_buildifier: bool = True, cache: bool = False
) -> PreflightReport:
    """Evaluate and check the Bazel workspace at ``root`` (a directory with MODULE.bazel or BUILD files).

    buildifier (when ``use_buildifier``) lints every Starlark file beside the evaluation, on the
    other cores. With ``cache``, a run over files that have not changed since the last run is
    answered from the shared cache directory, and buildifier's per-file results are reused.
    """
    from . import buildifier, results_cache
    from .bazelrc import rc_files

    root = Path(root)
    if not root.is_dir():
        raise UsageError(
            f"preflight: {root} is not a directory",
            hint="pass a workspace directory (with MODULE.bazel) or a Markdown file",
        )
    if not any((root / name).is_file() for name in _MARKERS):
        raise UsageError(
            f"preflight: {root} is not a Bazel workspace (no MODULE.bazel, WORKSPACE or BUILD file in it)",
            hint="pass the workspace's root directory (the one with MODULE.bazel) or a Markdown file",
        )
    store = results_cache.ResultsCache.default() if cache else results_cache.ResultsCache(None)
    listing = tree.walk(root)
    run_key = results_cache.key(
        "workspace",
        str(use_buildifier),
        tree.fingerprint(root, listing, rc_files(root)),
        fetched_modules(root),
    )
    hit = store.get(run_key)
    if isinstance(hit, list):
        try:
            return make_report([Finding(**f) for f in hit], str(root))
        except TypeError:
            pass  # an entry of another shape: run again
    files = tree.starlark_files(listing)
    lint = buildifier.start(root, files, store if cache else None) if use_buildifier else None
    findings, evaluated = evaluate_and_check(root, listing)
    if lint is not None:
        findings += lint.finish(evaluated)  # not on files nothing loads (dead or generated .bzl)
    store.put(run_key, [f.to_json() for f in findings])
    return make_report(findings, str(root))


def fetched_modules(root: Path) -> list[str]:
    """Where the API checks find models besides the shipped ones (Bazel's output bases and
    repository caches, the models kept in the cache directory), as modification times: a fetch
    there can change a run's result without any workspace file changing."""
    from ..cache import default_cache_dir
    from .api import store

    places = [base / "external" for base in store.output_bases(root)]
    places += [*store.repository_caches(), default_cache_dir() / "api_models"]
    places += [p for p in (default_cache_dir() / "api_models").glob("*") if p.is_dir()]
    out = []
    for place in places:
        try:
            out.append(f"{place}:{place.stat().st_mtime_ns}")
        except OSError:
            out.append(f"{place}:-")
    return out


def evaluate_and_check(root: Path, listing: Tree) -> tuple[list[Finding], list[str]]:
    """Findings of the evaluation and the checks, and the files that were evaluated.

    Runs on a thread with a large stack: the interpreter recurses on nesting.
    """
    from . import guard
    from .checks import run_checks
    from .evaluate import evaluate_workspace

    def run() -> tuple[list[Finding], list[str]]:
        model = evaluate_workspace(root, listing)
        return run_checks(model), sorted(model.files)

    return guard.run_with_big_stack(run)


class _HasRoot(Protocol):
    @property
    def root(self) -> Path: ...


def require_clean(
    report: PreflightReport, consequence: str = "", *, source: Path | None = None
) -> PreflightReport:
    """``report`` itself when it has no error findings; else ``PreflightError`` listing them.

    ``consequence`` follows the count in the message (e.g. "the build was not started"). ``source``
    is the directory the checked workspace was copied from, when a user owns it: the one to edit.
    The error's one-line ``reason`` (a matrix cell) is the count and the first finding with its
    hint, without paths.
    """
    if not report.errors:
        return report
    errors = report.errors
    listing = "\n".join(f"  {finding}" for finding in errors)
    then = f"; {consequence}" if consequence else ""
    origin = f" (a copy of {source}: edit the files there)" if source is not None else ""
    first = errors[0]
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    more += f"; hint: {first.hint}" if first.hint else ""  # past a table's width: JSON shows it
    paths = {"workspace": Path(report.root)} | ({"source": source} if source is not None else {})
    raise PreflightError(
        f"preflight found {len(errors)} error(s) in {report.root}{origin}{then}:\n{listing}",
        hint="fix the findings (each names file and line), or run "
        f"`pytest-rules-rust preflight {source or report.root}` for the full report",
        paths=paths,
        reason=f"preflight found {len(errors)} error(s): {first.file}:{first.line} {first.code} "
        f"{first.message}{more}",
    )


def make_report(
    findings: list[Finding], root: str, kind: Literal["workspace", "document"] = "workspace"
) -> PreflightReport:
    """Sort findings by file, line and code into a report; repeated warnings are collapsed."""
    order = {"error": 0, "warning": 1, "info": 2}
    ordered = sorted(findings, key=lambda f: (f.file, f.line, order[f.severity], f.code))
    return PreflightReport(tuple(collapse(ordered)), root, kind)


def collapse(findings: list[Finding]) -> list[Finding]:
    """One finding per repeated warning (same code and message): the first, naming where else it is.

    Errors are kept one by one: each is a place the build fails.
    """
    groups: dict[tuple[str, str], list[Finding]] = {}
    for f in findings:
        if f.severity != "error":
            groups.setdefault((f.code, f.message), []).append(f)
    out: list[Finding] = []
    for f in findings:
        group = groups.get((f.code, f.message)) if f.severity != "error" else None
        if group is None or len(group) == 1:
            out.append(f)
        elif group[0] is f:
            places = ", ".join(f"{g.file}:{g.line}" for g in group[1:4])
            more = f", and {len(group) - 4} more" if len(group) > 4 else ""
            message = f"{f.message} (also at {places}{more})"
            out.append(Finding(f.file, f.line, f.code, f.severity, message, f.hint))
    return out


# Files that end Bazel's walk up to the workspace root, and the files that are Bazel's own.
_BOUNDARIES = ("MODULE.bazel", "REPO.bazel", "WORKSPACE.bazel", "WORKSPACE")
_BAZEL_FILES = frozenset(
    {
        *_BOUNDARIES,
        "WORKSPACE.bzlmod",
        "BUILD",
        "BUILD.bazel",
        "MODULE.bazel.lock",
        ".bazelrc",
        ".bazelversion",
        # a workspace's Cargo files name it as well as its Bazel files do (never a document to scan)
        "Cargo.toml",
        "Cargo.lock",
        "rules_rust_template.toml",
    }
)


def workspace_of(path: Path) -> tuple[Path, str]:
    """The directory preflight checks for ``path`` and the boundary file that makes it the root.

    Like Bazel, a Bazel file (MODULE.bazel, BUILD, a .bzl, ...), a Cargo.toml or Cargo.lock, or a
    directory inside a workspace means the workspace: the nearest directory at or above it with
    MODULE.bazel, REPO.bazel or WORKSPACE(.bazel). Anything else is returned as it is, with ``""``
    (a document, or a directory of BUILD files in no workspace).
    """
    bazel_file = _is_file(path) and (path.name in _BAZEL_FILES or path.suffix == ".bzl")
    if not bazel_file and not _is_dir(path):
        return path, ""
    start = path.parent if bazel_file else path
    for here in (start, *start.absolute().parents):
        for name in _BOUNDARIES:
            if _is_file(here / name):
                return here, name
    return start, ""


def _is_file(path: Path) -> bool:
    try:
        return path.is_file()
    except OSError:  # a directory this user may not read: not a boundary
        return False


def _is_dir(path: Path) -> bool:
    try:
        return path.is_dir()
    except OSError:
        return False


def preflight(
    target: _HasRoot | Path | str, *, use_buildifier: bool = True, cache: bool = False
) -> PreflightReport:
    """A workspace (anything with a ``.root``, such as a materialised ``Workspace``), a workspace
    directory, or a Markdown (any text) file, whichever ``target`` is.

    A directory inside a workspace, or a Bazel or Cargo file (MODULE.bazel, BUILD, a .bzl,
    Cargo.toml), checks the whole workspace it belongs to (see :func:`workspace_of`).
    """
    # A Path has a ``root`` attribute too (its anchor): paths first.
    path = Path(target) if isinstance(target, str | os.PathLike) else Path(target.root)
    path, _boundary = workspace_of(path)
    if path.is_dir():
        return preflight_workspace(path, use_buildifier=use_buildifier, cache=cache)
    if path.is_file():
        from .markdown import preflight_markdown

        return preflight_markdown(path, use_buildifier=use_buildifier)
    raise UsageError(
        f"preflight: {path} does not exist", hint="pass a workspace directory or a Markdown file"
    )
