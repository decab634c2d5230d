"""buildifier as a second opinion: its lint warnings become findings with its own codes.

Codes are ``BF:<category>`` (buildifier's warning names, see its WARNINGS.md). Style-only
categories (docstrings, sorting) are dropped. When buildifier is not on PATH, one ``RR700`` info
finding says so; that never fails a run.
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
from collections.abc import Sequence
from pathlib import Path

from .model import Finding

QUIET = frozenset(
    {
        "module-docstring",
        "function-docstring",
        "function-docstring-header",
        "function-docstring-args",
        "function-docstring-return",
        "unsorted-dict-items",
        "bzl-visibility",
        "print",
        "name-conventions",
        "provider-params",
        "unnamed-macro",
        "native-cc",
        "native-java",
        "native-py",
        "native-sh",
        "native-proto",
        "native-android",
        "out-of-order-load",
        "same-origin-load",
        "load-on-top",
    }
)
FRAGMENT_QUIET = QUIET | {
    "unused-variable",
    "load",
    "uninitialized",
    "rule-impl-return",
    "package-on-top",
    "unused-load",
    "module-docstring",
}
_SYNTAX = re.compile(r"^(.*?):(\d+):(\d+): (.*)$", re.M)


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
        [exe, "--mode=check", "--lint=warn", "--format=json", *paths],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    warnings: dict[str, list[dict[str, object]]] = {}
    try:
        data = json.loads(proc.stdout or "{}")
    except json.JSONDecodeError:
        data = {}
    for entry in data.get("files", []):
        warnings[entry["filename"]] = list(entry.get("warnings") or [])
    errors = {mt.group(1): (int(mt.group(2)), mt.group(4)) for mt in _SYNTAX.finditer(proc.stderr)}
    return warnings, errors


def _to_findings(
    display: dict[str, str],
    warnings: dict[str, list[dict[str, object]]],
    errors: dict[str, tuple[int, str]],
    quiet: frozenset[str],
    offset: dict[str, int],
) -> list[Finding]:
    out: list[Finding] = []
    for name, shown in display.items():
        for w in warnings.get(name, []):
            cat = str(w.get("category"))
            if cat in quiet:
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


def lint_files(root: Path, files: Sequence[str]) -> list[Finding]:
    """buildifier over workspace files (paths relative to ``root``)."""
    exe = find_buildifier()
    if exe is None:
        return [missing_finding("MODULE.bazel" if "MODULE.bazel" in files else (files[0] if files else "."))]
    files = [f for f in files if (root / f).is_file()]
    if not files:
        return []
    warnings, errors = run(files, root, exe)
    return _to_findings({f: f for f in files}, warnings, errors, QUIET, {})


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
        return _to_findings(names, warnings, errors, FRAGMENT_QUIET, offset)
