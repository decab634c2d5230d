"""Shared lookups for the checks: visible repositories, targets by label, where a string sits."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from .. import text
from ..labels import Label, parse_label
from ..model import Finding, Loc, Model, Severity, Target

if TYPE_CHECKING:
    from .cargo import CargoFiles

ALWAYS_VISIBLE = frozenset({"bazel_tools", "local_config_platform", "local_config_cc"})
# Repositories Bazel 7 still resolves for the main module without a bazel_dep, through the
# WORKSPACE fallback (its built-in WORKSPACE suffix declares them); Bazel 8 turns that off by default.
WORKSPACE_FALLBACK = frozenset(
    {"platforms", "rules_cc", "rules_java", "rules_proto", "rules_python", "rules_license", "rules_shell"}
)
CONFIG_KINDS = frozenset({"config_setting", "constraint_value", "alias", "platform"})
REPO_RULE_KINDS = ("_archive", "_repository", "http_file", "http_jar")
# Rules (not macros) from other repositories: a call creates exactly the target it names.
PLAIN_RULES = frozenset(
    {
        "rust_binary",
        "rust_library",
        "rust_test",
        "rust_proc_macro",
        "rust_shared_library",
        "rust_static_library",
        "rust_library_group",
        "rust_doc",
        "rust_doc_test",
        "rust_clippy",
        "rustfmt_test",
    }
)


def is_manual(target: Target) -> bool:
    """True for a target tagged ``manual`` (``bazel build //...`` skips it)."""
    tags = target.attrs.get("tags")
    return isinstance(tags, list) and "manual" in tags


def close_match(word: str, options: Iterable[str], cutoff: float = 0.6) -> str:
    """The most similar option ('' when none is close); a plural/contained stem also counts."""
    opts = [o for o in options if o != word]
    hits = difflib.get_close_matches(word, opts, n=1, cutoff=cutoff)
    if hits:
        return hits[0]
    stem = word.rstrip("s")
    for o in opts:
        if len(stem) >= 3 and (stem in o or o.rstrip("s") in word) and len(o) >= 3:
            return o
    return ""


@dataclass
class Ctx:
    """A model plus indexes the checks share."""

    model: Model
    extra: list[Finding] = field(default_factory=list)

    @cached_property
    def visible_repos(self) -> dict[str, Loc | None]:
        """Repository names visible from the main module (None location for built-ins)."""
        mo = self.model
        out: dict[str, Loc | None] = {name: None for name in ALWAYS_VISIBLE}
        for name in (mo.module_name, mo.module_repo_name):
            if name:
                out[name] = None
        for dep in mo.bazel_deps:
            out[dep.repo_name or dep.name] = dep.loc
        for ur in mo.use_repos:
            for repo in ur.repos:
                out[repo] = ur.loc
        for decl in mo.repo_decls:
            out[decl.name] = decl.loc
        if mo.fragment:
            for t in mo.targets:
                if t.origin == "external" and t.kind.endswith(REPO_RULE_KINDS):
                    out[t.name] = t.loc
        return out

    @cached_property
    def has_module(self) -> bool:
        broken = any(f.code == "RR001" and f.file.endswith("MODULE.bazel") for f in self.model.findings)
        if broken:
            return False  # the module was not read completely: visibility is unknown
        return "MODULE.bazel" in self.model.files or (self.model.fragment and bool(self.model.bazel_deps))

    @cached_property
    def cargo(self) -> CargoFiles:
        """The Cargo files the checks read (Cargo.toml, Cargo.lock), each parsed once per run."""
        from .cargo import CargoFiles  # only modules that use crate.from_cargo need it

        return CargoFiles(Path(self.model.root))

    @cached_property
    def targets(self) -> dict[tuple[str, str], Target]:
        return {(t.package, t.name): t for t in self.model.targets}

    @cached_property
    def packages(self) -> dict[str, bool]:
        """Package name -> evaluated completely."""
        return {p.name: p.complete for p in self.model.packages}

    @cached_property
    def open_packages(self) -> dict[str, list[str]]:
        """Package -> names of its external macro calls (targets the model cannot see may hide there)."""
        out: dict[str, list[str]] = {}
        for t in self.model.targets:
            if t.origin in ("external", "macro") and t.kind not in PLAIN_RULES:
                out.setdefault(t.package, []).append(t.name)
        return out

    @cached_property
    def outputs(self) -> dict[str, set[str]]:
        """Declared output file names per package (``out``/``outs``/``output`` attributes)."""
        out: dict[str, set[str]] = {}
        for t in self.model.targets:
            for key, val in t.attrs.items():
                if key in ("out", "outs", "output", "outputs") or key.endswith(("_out", "_output")):
                    vals = val if isinstance(val, list) else [val]
                    out.setdefault(t.package, set()).update(str(v) for v in vals if isinstance(v, str))
        return out

    def loc_of(self, loc: Loc, value: str) -> Loc:
        """Where the string literal ``value`` stands at or after ``loc`` (the call), else ``loc``."""
        return Loc(loc.file, text.find_string_line(self.model.files.get(loc.file, ""), value, loc.line))

    def severity(self, certain: bool = True) -> Severity:
        """Errors in workspaces; Markdown excerpts cannot be complete, so there it is a warning."""
        return "error" if certain and not self.model.fragment else "warning"

    @cached_property
    def workspace_fallback(self) -> bool | None:
        """Whether Bazel resolves WORKSPACE repositories for this workspace: True/False when
        .bazelrc or .bazelversion decide it, None when it depends on the Bazel version used."""
        mo = self.model
        if mo.bazelrc_enable_workspace is not None:
            return mo.bazelrc_enable_workspace
        major = mo.bazel_version.split(".")[0]
        if major.isdigit():
            return int(major) < 8
        return None

    def block_of(self, line: int) -> tuple[int, int]:
        for first, last in self.model.blocks:
            if first <= line <= last:
                return first, last
        return (0, 0)

    def parse(self, value: str, package: str) -> Label | None:
        lab = parse_label(value, package)
        if lab and lab.external and lab.repo in (self.model.module_name, self.model.module_repo_name):
            return Label("", lab.package, lab.name, False, False, lab.wildcard)
        return lab

    def target_exists(self, package: str, name: str) -> bool | None:
        """True / False, or None when the model cannot know (incomplete package, macros may create it)."""
        if (package, name) in self.targets:
            return True
        path = f"{package}/{name}".strip("/")
        if path in self.model.all_files or name in self.outputs.get(package, set()):
            return True
        if any(f.startswith(path + "/") for f in self.model.all_files):
            return True  # a directory: files inside it are addressable as pkg:dir/file
        if not self.packages.get(package, True):
            return None
        hidden = self.open_packages.get(package, [])
        if hidden:
            return None
        return False
