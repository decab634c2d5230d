"""Preflight: catch a workspace's configuration mistakes statically, with file and line.

``preflight_workspace(root)`` evaluates MODULE.bazel, BUILD files and the workspace's own .bzl
files with starlark-pyo3 into a model and runs the checks (``checks.CODES`` lists them);
``preflight_markdown(path)`` does the same for the Starlark blocks of a document.
buildifier, when on PATH, adds its lint warnings as a second opinion.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Protocol

from ..errors import PreflightError, UsageError
from . import buildifier
from .checks import CODES, run_checks
from .evaluate import evaluate_workspace
from .markdown import preflight_markdown
from .model import Finding, Model, PreflightReport

__all__ = [
    "CODES",
    "Finding",
    "Model",
    "PreflightReport",
    "preflight",
    "preflight_markdown",
    "preflight_workspace",
    "require_clean",
]


def preflight_workspace(root: Path | str, *, use_buildifier: bool = True) -> PreflightReport:
    """Evaluate and check the Bazel workspace at ``root`` (a directory with MODULE.bazel or BUILD files)."""
    root = Path(root)
    if not root.is_dir():
        raise UsageError(
            f"preflight: {root} is not a directory",
            hint="pass a workspace directory (with MODULE.bazel) or a Markdown file",
        )
    markers = ("MODULE.bazel", "WORKSPACE", "WORKSPACE.bazel", "BUILD", "BUILD.bazel")
    if not any((root / name).is_file() for name in markers):
        raise UsageError(
            f"preflight: {root} is not a Bazel workspace (no MODULE.bazel, WORKSPACE or BUILD file in it)",
            hint="pass the workspace's root directory (the one with MODULE.bazel) or a Markdown file",
        )
    model = evaluate_workspace(root)
    findings = run_checks(model)
    if use_buildifier:
        findings += buildifier.lint_files(root, sorted(model.files))
    return make_report(findings, str(root))


class _HasRoot(Protocol):
    @property
    def root(self) -> Path: ...


def require_clean(report: PreflightReport) -> PreflightReport:
    """``report`` itself when it has no error findings; else ``PreflightError`` listing them."""
    if report.errors:
        listing = "\n".join(f"  {finding}" for finding in report.errors)
        raise PreflightError(
            f"preflight found {len(report.errors)} error(s) in {report.root}:\n{listing}",
            hint="fix the findings (each names file and line), or run "
            f"`pytest-rules-rust preflight {report.root}` for the full report",
            paths={"workspace": Path(report.root)},
        )
    return report


def make_report(findings: list[Finding], root: str) -> PreflightReport:
    """Sort findings by file, line and code into a report; repeated warnings are collapsed."""
    order = {"error": 0, "warning": 1, "info": 2}
    ordered = sorted(findings, key=lambda f: (f.file, f.line, order[f.severity], f.code))
    return PreflightReport(tuple(collapse(ordered)), root)


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


def preflight(target: _HasRoot | Path | str, *, use_buildifier: bool = True) -> PreflightReport:
    """A workspace (anything with a ``.root``, such as a materialised ``Workspace``), a workspace
    directory, or a Markdown (any text) file, whichever ``target`` is."""
    # A Path has a ``root`` attribute too (its anchor): paths first.
    path = Path(target) if isinstance(target, str | os.PathLike) else Path(target.root)
    if path.is_dir():
        return preflight_workspace(path, use_buildifier=use_buildifier)
    if path.is_file():
        return preflight_markdown(path, use_buildifier=use_buildifier)
    raise UsageError(
        f"preflight: {path} does not exist", hint="pass a workspace directory or a Markdown file"
    )
