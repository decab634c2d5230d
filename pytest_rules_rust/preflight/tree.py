"""The files of a workspace: packages (directories with a BUILD file), .bzl files, all files.

Bazel's rules for what belongs to the workspace: ``bazel-*`` output links, VCS and tool
directories, Cargo ``target`` directories (they hold ``CACHEDIR.TAG``) and ``.bazelignore``'d
directories are not part of it. Symlinked directories are not followed (so a link loop is harmless).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

_SKIP_DIRS = {".git", "node_modules", ".venv", "__pycache__"}


@dataclass(frozen=True)
class Tree:
    """Files of a workspace: package dirs (with their BUILD file), .bzl files, and all files per package."""

    packages: dict[str, str]
    bzl_files: list[str]
    files_by_pkg: dict[str, list[str]]
    all_files: frozenset[str]


def walk(root: Path) -> Tree:
    """List a workspace, skipping bazel-* links, VCS and Cargo target dirs and .bazelignore'd dirs."""
    try:
        listed = (root / ".bazelignore").read_text(encoding="utf-8", errors="replace")
    except OSError:
        listed = ""
    ignored = {ln.strip().strip("/") for ln in listed.splitlines() if ln.strip() and not ln.startswith("#")}
    packages: dict[str, str] = {}
    bzl: list[str] = []
    dir_files: dict[str, list[str]] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        rel = os.path.relpath(dirpath, root)
        rel = "" if rel == "." else rel.replace(os.sep, "/")
        dirnames[:] = sorted(
            d
            for d in dirnames
            if not d.startswith(("bazel-", "."))
            and d not in _SKIP_DIRS
            and f"{rel}/{d}".strip("/") not in ignored
            and not os.path.exists(os.path.join(dirpath, d, "CACHEDIR.TAG"))
        )
        dir_files[rel] = filenames
        for build in ("BUILD.bazel", "BUILD"):
            if build in filenames and os.path.isfile(os.path.join(dirpath, build)):
                packages[rel] = f"{rel}/{build}".strip("/")
                break
        bzl += [f"{rel}/{f}".strip("/") for f in filenames if f.endswith(".bzl")]
    files_by_pkg: dict[str, list[str]] = {}
    all_files: set[str] = set()
    for rel, names in dir_files.items():
        owner = rel
        while owner not in packages and owner:
            owner = owner.rsplit("/", 1)[0] if "/" in owner else ""
        if owner not in packages:
            owner = "\0none"
        for name in names:
            path = f"{rel}/{name}".strip("/")
            all_files.add(path)
            inner = path[len(owner) + 1 :] if owner else path
            files_by_pkg.setdefault(owner, []).append(inner)
    return Tree(packages, sorted(bzl), files_by_pkg, frozenset(all_files))


def starlark_files(tree: Tree) -> list[str]:
    """MODULE.bazel, WORKSPACE files, BUILD files and .bzl files of ``tree`` (what buildifier lints)."""
    top = [
        f for f in ("MODULE.bazel", "WORKSPACE", "WORKSPACE.bazel", "WORKSPACE.bzlmod") if f in tree.all_files
    ]
    return sorted(set(top) | set(tree.packages.values()) | set(tree.bzl_files))


def fingerprint(root: Path, tree: Tree, extra: Iterable[str] = ()) -> list[str]:
    """Path, size and modification time of every file of the workspace, and what Bazel reads beside
    them (.bazelrc, .bazelversion, ``extra`` such as the rc files .bazelrc imports): unchanged
    fingerprint, unchanged preflight result."""
    out = []
    for rel in sorted(tree.all_files | {".bazelrc", ".bazelversion", ".bazelignore", *extra}):
        try:
            st = os.stat(os.path.join(root, rel))
        except OSError:
            out.append(f"{rel}:-")
            continue
        out.append(f"{rel}:{st.st_size}:{st.st_mtime_ns}")
    return out
