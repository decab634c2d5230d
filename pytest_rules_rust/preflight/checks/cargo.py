"""Reading what crate_universe reads: Cargo.toml manifests, their workspace and Cargo.lock.

Each file is read once per run (:class:`CargoFiles`); a file that is not TOML keeps the
parser's message and line, so the checks can report it instead of silently knowing less.
"""

from __future__ import annotations

import glob
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# The underscore spellings are older Cargo's and still accepted.
DEP_TABLES = (
    "dependencies",
    "dev-dependencies",
    "build-dependencies",
    "dev_dependencies",
    "build_dependencies",
)


@dataclass(frozen=True, slots=True)
class TomlFile:
    """One TOML file: its table, or (``data`` None) why it could not be read and on which line."""

    path: Path
    data: dict[str, Any] | None
    text: str = ""
    error: str = ""
    line: int = 1


@dataclass(frozen=True, slots=True)
class Dep:
    """One dependency entry of a manifest: ``key`` is the name it is written under (the hub's
    alias for it), ``package`` the package it resolves to ('' when that cannot be known)."""

    key: str
    package: str
    path: str | None = None
    path_from_root: bool = False
    """``path`` is relative to the workspace root (inherited from ``workspace.dependencies``)."""


def norm(name: str) -> str:
    """A crate name as Cargo compares package names (``-`` and ``_`` alike, any case)."""
    return name.replace("-", "_").lower()


class CargoFiles:
    """The Cargo files of one run, each read and parsed at most once."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self._files: dict[Path, TomlFile] = {}

    def read(self, path: Path) -> TomlFile:
        """``path`` parsed (cached); missing, unreadable, non-UTF-8 and invalid files keep their reason."""
        path = path.resolve()
        if path not in self._files:
            self._files[path] = _read_toml(path)
        return self._files[path]

    def inside(self, path: Path) -> bool:
        """Whether ``path`` lies in the workspace (what preflight may read and report on)."""
        return path.resolve().is_relative_to(self.root)

    def workspace_root(self, manifest: Path) -> TomlFile | None:
        """The Cargo.toml with a ``[workspace]`` table nearest above ``manifest`` (itself included),
        within the Bazel workspace; None when there is none or one on the way cannot be read."""
        for folder in [manifest.parent, *manifest.parent.parents]:
            if not self.inside(folder):
                return None
            candidate = folder / "Cargo.toml"
            if not candidate.is_file():
                continue
            found = self.read(candidate)
            if found.data is None:
                return None
            if isinstance(found.data.get("workspace"), dict):
                return found
        return None

    def members(self, root: TomlFile) -> list[TomlFile]:
        """The root and the member manifests of its Cargo workspace as Cargo counts them
        (``members`` with globs, path dependencies inside the workspace, minus ``exclude``),
        sorted; a member that cannot be parsed is included, its own path dependencies unknown."""
        assert root.data is not None
        ws: dict[str, Any] = root.data["workspace"]
        base = root.path.parent
        excluded = [(base / e).resolve() for e in _str_list(ws.get("exclude"))]
        found: dict[Path, TomlFile] = {}
        todo = [d / "Cargo.toml" for m in _str_list(ws.get("members")) for d in _member_dirs(base, m)]
        todo.append(root.path)
        while todo:
            path = todo.pop().resolve()
            if path in found or not path.is_file() or not path.is_relative_to(base):
                continue  # a path dependency outside the workspace is not a member
            if path != root.path and any(path.is_relative_to(e) for e in excluded):
                continue
            member = self.read(path)
            found[path] = member
            for dep in dependencies(member.data or {}, ws):
                if dep.path is not None:
                    todo.append((base if dep.path_from_root else path.parent) / dep.path / "Cargo.toml")
        return [found[p] for p in sorted(found)]

    def lock_packages(self, path: Path) -> set[str] | None:
        """Normalised names of the packages a Cargo.lock lists; None when it cannot be read or
        lists none (an empty lock file is how a first repin starts).

        Cargo writes each ``[[package]]`` with its ``name`` on the next line: read that way, a
        lock file costs a fraction of a TOML parse (10 ms for 160 packages); one written
        otherwise is parsed.
        """
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return None
        blocks = _PACKAGE.findall(text)
        names: list[str] = _PACKAGE_NAME.findall(text)
        if len(names) != len(blocks):
            packages = (self.read(path).data or {}).get("package")
            listed = packages if isinstance(packages, list) else []
            names = [p["name"] for p in listed if isinstance(p, dict) and isinstance(p.get("name"), str)]
        return {norm(n) for n in names} or None


def dependencies(data: dict[str, Any], workspace: dict[str, Any] | None) -> list[Dep]:
    """Every dependency entry of a manifest: normal, dev and build, also per ``[target.*]``.

    ``dep.workspace = true`` entries take package and path from ``workspace.dependencies``.
    """
    tables = [data.get(s) for s in DEP_TABLES]
    targets = data.get("target")
    for target in targets.values() if isinstance(targets, dict) else ():
        if isinstance(target, dict):
            tables += [target.get(s) for s in DEP_TABLES]
    inherited = (workspace or {}).get("dependencies") or {}
    out: list[Dep] = []
    for table in tables:
        for key, spec in (table if isinstance(table, dict) else {}).items():
            if isinstance(spec, dict) and spec.get("workspace") is True:
                shared = inherited.get(key) if isinstance(inherited, dict) else None
                if shared is None:
                    out.append(Dep(key, ""))
                    continue
                out.append(_dep(key, shared, path_from_root=True))
                continue
            out.append(_dep(key, spec))
    return out


def dep_line(text: str, key: str) -> int:
    """The line of the manifest on which dependency ``key`` is written (1 when not found)."""
    name = r"""["']?""" + re.escape(key) + r"""["']?"""
    header = re.compile(r"^\s*\[[^\]]*dependencies\." + name + r"\s*\]")
    entry = re.compile(r"^\s*" + name + r"\s*[.=]")
    in_deps = False
    for number, line in enumerate(text.splitlines(), 1):
        if header.match(line):
            return number
        if line.lstrip().startswith("["):
            in_deps = line.split("#")[0].strip().rstrip("]").strip().endswith("dependencies")
        elif in_deps and entry.match(line):
            return number
    return 1


def _dep(key: str, spec: Any, path_from_root: bool = False) -> Dep:
    if isinstance(spec, str):
        return Dep(key, key)
    if not isinstance(spec, dict):
        return Dep(key, "")
    package = spec.get("package") if isinstance(spec.get("package"), str) else key
    path = spec.get("path") if isinstance(spec.get("path"), str) else None
    return Dep(key, str(package), path, path_from_root)


def _str_list(value: Any) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else []


def _member_dirs(base: Path, pattern: str) -> list[Path]:
    """Directories a Cargo ``workspace.members`` entry names (a path or a glob; ``"."`` is ``base``)."""
    pattern = pattern.strip()
    if not pattern or pattern.startswith("/"):
        return []
    found = glob.glob(glob.escape(str(base)) + "/" + pattern)
    return sorted(Path(p).resolve() for p in found if Path(p).is_dir())


_PACKAGE = re.compile(r"^\[\[package\]\][ \t]*\r?$", re.MULTILINE)
_PACKAGE_NAME = re.compile(r'^\[\[package\]\][ \t]*\r?\nname = "([^"\\]+)"[ \t]*\r?$', re.MULTILINE)
_AT_LINE = re.compile(r"\(at line (\d+), column \d+\)")


def _read_toml(path: Path) -> TomlFile:
    import tomllib  # only workspaces with crate.from_cargo need it

    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        return TomlFile(path, None, error="is not UTF-8 text")
    except OSError as exc:
        return TomlFile(path, None, error=f"cannot be read ({exc.strerror or exc})")
    try:
        return TomlFile(path, tomllib.loads(text), text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        at = _AT_LINE.search(message)
        line = int(at.group(1)) if at else max(1, text.count("\n") + (not text.endswith("\n")))
        return TomlFile(path, None, text, f"is not valid TOML: {_AT_LINE.sub('', message).strip()}", line)
