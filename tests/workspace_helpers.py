"""Shared helpers for the workspace tests: template discovery, override values, buildifier."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from pytest_rules_rust.workspace_params import CATALOGUE
from pytest_rules_rust.workspaces import Template, list_templates

REPO = Path(__file__).resolve().parent.parent
SIX = ("alloc_bench", "cross", "from_cargo", "from_specs", "musl_jemalloc_oci", "proto")

# A valid, non-default value for every catalogue parameter.
OVERRIDES: dict[str, object] = {
    "bazel_version": "8.0.1",
    "rules_rust_version": "0.54.1",
    "rust_versions": ["1.85.0", "1.86.0"],
    "rust_edition": "2024",
    "llvm_version": "17.0.6",
    "target_triples": ["x86_64-unknown-linux-musl", "aarch64-unknown-linux-musl"],
    "platforms": ["linux/arm64"],
    "registry": "registry.example.com:5443/team/service",
    "sysroot": True,
}
assert set(OVERRIDES) == set(CATALOGUE)
# rules_rust versions with a shipped API model, for templates whose range excludes OVERRIDES'.
KNOWN_VERSIONS = ("0.73.0", "0.63.0", "0.55.0", "0.54.1", "0.46.0")

BUILDIFIER_SKIP = "buildifier is not on PATH: run scripts/provision.sh (npm install -g @bazel/buildifier)"


def templates() -> list[Template]:
    """Every template the package finds (the built-in ones; other helpers' land here as they appear)."""
    return list_templates()


def template_params() -> list[Any]:
    return [pytest.param(t, id=t.name) for t in templates()]


def overrides_for(template: Template) -> dict[str, object]:
    """Non-default values for every parameter the template takes, within its own choices."""
    out: dict[str, object] = {}
    for name in template.parameters:
        value = OVERRIDES[name]
        if value == template.defaults[name]:
            value = CATALOGUE[name].default
        supported = template.supports.get(name)
        if supported and isinstance(value, str) and not supported.contains(value):
            value = next(v for v in KNOWN_VERSIONS if supported.contains(v) and v != template.defaults[name])
        allowed = template.choices.get(name)
        if allowed:
            items = value if isinstance(value, list) else [value]
            if not all(str(v) in allowed for v in items):
                value = next(a for a in allowed if a != template.defaults[name])
        out[name] = value
    if out.get("rust_edition") == "2024" and "rust_versions" not in out:
        out["rust_edition"] = "2018"
    return out


def squash(text: str) -> str:
    """Whitespace-insensitive form (one-line and multi-line lists compare equal)."""
    return re.sub(r"\s+", "", text).replace(",]", "]")


def anchored_statements(text: str) -> dict[str, list[str]]:
    """For each ``# rr:param NAME``: the text of the statement line(s) holding its literal."""
    lines = text.split("\n")
    found: dict[str, list[str]] = {}
    for index, line in enumerate(lines):
        match = re.search(r"#\s*rr:param\s+(\w+)\s*$", line)
        if not match:
            continue
        start = index
        if line.lstrip().startswith("]"):
            while start > 0 and not lines[start].rstrip().endswith("["):
                start -= 1
        found.setdefault(match.group(1), []).append("\n".join(lines[start : index + 1]))
    return found


def block_lines(text: str, name: str) -> list[str]:
    lines = text.split("\n")
    out, inside = [], False
    for line in lines:
        if re.match(rf"^\s*#\s*rr:begin\s+{name}\s*$", line):
            inside = True
        elif re.match(rf"^\s*#\s*rr:end\s+{name}\s*$", line):
            inside = False
        elif inside and line.strip():
            out.append(line)
    return out


def buildifier_check(root: Path) -> subprocess.CompletedProcess[str]:
    exe = shutil.which("buildifier")
    if exe is None:
        pytest.skip(BUILDIFIER_SKIP)
    return subprocess.run(
        [exe, "--mode=check", "--lint=off", "-r", str(root)], capture_output=True, text=True, timeout=120
    )
