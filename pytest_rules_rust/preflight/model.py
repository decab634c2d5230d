"""Values passed between the preflight stages: the evaluated model and the findings.

The evaluator (``evaluate.py``) turns Starlark files into a :class:`Model`; each check
(``checks/*.py``) reads the model and yields :class:`Finding` values. Everything is frozen.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Severity = Literal["error", "warning", "info"]


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem: where it is (file relative to the workspace root, 1-based line), what and what to do."""

    file: str
    line: int
    code: str
    severity: Severity
    message: str
    hint: str = ""

    @classmethod
    def at(cls, loc: Loc, code: str, severity: Severity, message: str, hint: str = "") -> Finding:
        """The finding about what stands at ``loc``."""
        return cls(loc.file, loc.line, code, severity, message, hint)

    def to_json(self) -> dict[str, Any]:
        """The JSON object the CLI prints for this finding (its fields, in order)."""
        return asdict(self)

    def __str__(self) -> str:
        text = f"{self.file}:{self.line}: {self.severity} {self.code}: {self.message}"
        return f"{text}\n    hint: {self.hint}" if self.hint else text


@dataclass(frozen=True, repr=False)
class PreflightReport:
    """All findings of one preflight run, sorted by file and line.

    ``str(report)`` is :meth:`format`; ``repr(report)`` is one line, the counts and then the
    errors without hints, which is what pytest prints for ``assert report.ok, report``.
    """

    findings: tuple[Finding, ...] = ()
    root: str = ""
    kind: Literal["workspace", "document"] = "workspace"
    """What was checked: a workspace (finding paths are relative to ``root``) or a document."""

    @property
    def errors(self) -> tuple[Finding, ...]:
        """The findings with severity ``error`` (any of them makes the run fail)."""
        return tuple(f for f in self.findings if f.severity == "error")

    @property
    def warnings(self) -> tuple[Finding, ...]:
        """The findings with severity ``warning``."""
        return tuple(f for f in self.findings if f.severity == "warning")

    @property
    def ok(self) -> bool:
        """True when there is no error finding."""
        return not self.errors

    def codes(self) -> list[str]:
        """The codes of all findings, in order (handy in tests)."""
        return [f.code for f in self.findings]

    def format(self) -> str:
        """Human-readable listing, one finding per line (plus its hint); the last line counts them
        and, for a workspace, names the root their paths are relative to."""
        if not self.findings:
            return "preflight: no findings"
        lines = [str(f) for f in self.findings]
        root = os.path.abspath(self.root) if self.root else ""
        relative = f" (paths relative to {root})" if root and self.kind == "workspace" else ""
        lines.append(f"preflight: {len(self.errors)} error(s), {len(self.warnings)} warning(s){relative}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.format()

    def __repr__(self) -> str:
        # One line: pytest shows an assert's message object by its repr (cut to 240 characters
        # unless -vv), and in its "where" lines; the counts come first, then the errors (what
        # ``ok`` is about; else the other findings), each as file:line code message.
        errors, warnings = len(self.errors), len(self.warnings)
        other = len(self.findings) - errors - warnings
        counts = [_count(errors, "error"), _count(warnings, "warning")]
        counts += [_count(other, "note")] if other else []
        shown = self.errors or self.findings
        listed = [f"{f.file}:{f.line} {f.code} {f.message}" for f in shown[:10]]
        listed += [f"and {len(shown) - 10} more"] if len(shown) > 10 else []
        return f"<PreflightReport: {', '.join(counts)}{': ' if listed else ''}{'; '.join(listed)}>"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


@dataclass(frozen=True, slots=True)
class Loc:
    """A position in a workspace file (path relative to the root, 1-based line)."""

    file: str
    line: int


@dataclass(frozen=True, slots=True)
class RcPlatform:
    """A platform label on a .bazelrc line: ``flag`` is ``platforms`` (the target platform),
    ``host_platform`` or ``extra_execution_platforms``; ``config`` names the ``build:<config>``
    it is under ("" on a plain ``build``/``common`` line, which every build uses)."""

    loc: Loc
    label: str
    config: str = ""
    flag: str = "platforms"


@dataclass(frozen=True, slots=True)
class Load:
    """A ``load()`` statement: the .bzl label, the names it binds and, in the same order, the
    names they have in the loaded file."""

    loc: Loc
    module: str
    symbols: tuple[str, ...]
    remotes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class BazelDep:
    """A ``bazel_dep`` of MODULE.bazel; ``dev`` for ``dev_dependency = True``."""

    loc: Loc
    name: str
    version: str
    repo_name: str
    dev: bool


@dataclass(frozen=True, slots=True)
class Extension:
    """One ``use_extension`` call; ``var`` is the name it was bound to (when seen)."""

    id: int
    loc: Loc
    bzl: str
    name: str
    var: str = ""
    dev: bool = False


@dataclass(frozen=True, slots=True)
class Tag:
    """A tag (``ext_proxy.tag(...)``) of the extension whose id is ``ext``."""

    loc: Loc
    ext: int
    tag: str
    attrs: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class UseRepo:
    """A ``use_repo`` call: the repositories it imports from the extension whose id is ``ext``."""

    loc: Loc
    ext: int
    repos: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Registration:
    """``register_toolchains`` / ``register_execution_platforms`` label."""

    loc: Loc
    kind: str
    label: str


@dataclass(frozen=True, slots=True)
class Override:
    """A ``*_override`` call of MODULE.bazel; ``kind`` is the function's name."""

    loc: Loc
    kind: str
    module_name: str
    attrs: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class RepoDecl:
    """A repository declared by ``use_repo_rule`` or in ``WORKSPACE(.bzlmod)``."""

    loc: Loc
    name: str
    kind: str


@dataclass(frozen=True, slots=True)
class Target:
    """A rule or macro call in a BUILD file.

    ``origin``: ``native`` (Bazel built-in), ``rule`` (a ``rule()`` from the workspace's own .bzl),
    ``external`` (a symbol loaded from another repository: recorded, not run, may be a macro that
    creates further targets the model cannot see) or ``macro`` (a symbolic ``macro()``).
    """

    loc: Loc
    package: str
    name: str
    kind: str
    origin: str
    attrs: Mapping[str, Any]
    string_attrs: frozenset[str] = frozenset()
    """Attributes the rule declares as non-label types (known for the workspace's own rules)."""


@dataclass(frozen=True, slots=True)
class Select:
    """A ``select()`` in a BUILD file of ``package``, with its keys."""

    loc: Loc
    package: str
    keys: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Glob:
    """A ``glob()`` in a BUILD file of ``package`` and how many files it matched."""

    loc: Loc
    package: str
    include: tuple[str, ...]
    exclude: tuple[str, ...]
    matches: int
    allow_empty: bool | None


@dataclass(frozen=True, slots=True)
class Package:
    """A BUILD file. ``complete`` is False when its evaluation stopped early."""

    name: str
    build_file: str
    complete: bool = True


@dataclass(frozen=True, slots=True)
class Binding:
    """A top-level name bound twice in one MODULE.bazel/.bzl file (Bazel rejects it)."""

    loc: Loc
    name: str
    first: Loc


@dataclass(frozen=True, slots=True)
class Model:
    """Everything preflight learned about a workspace (or a Markdown document)."""

    root: str
    module_name: str = ""
    module_repo_name: str = ""
    bazel_deps: tuple[BazelDep, ...] = ()
    extensions: tuple[Extension, ...] = ()
    tags: tuple[Tag, ...] = ()
    use_repos: tuple[UseRepo, ...] = ()
    registrations: tuple[Registration, ...] = ()
    overrides: tuple[Override, ...] = ()
    repo_decls: tuple[RepoDecl, ...] = ()
    packages: tuple[Package, ...] = ()
    targets: tuple[Target, ...] = ()
    selects: tuple[Select, ...] = ()
    globs: tuple[Glob, ...] = ()
    loads: tuple[Load, ...] = ()
    rebindings: tuple[Binding, ...] = ()
    package_calls: tuple[Loc, ...] = ()
    workspace_file_has_macros: bool = False
    bazelrc_platforms: tuple[RcPlatform, ...] = ()
    """Platform labels of .bazelrc flags, for every build and for named configs."""
    bazelrc_enable_workspace: bool | None = None
    """``--[no]enable_workspace`` in .bazelrc (None: not set, Bazel's default applies)."""
    bazel_version: str = ""
    all_files: frozenset[str] = frozenset()
    blocks: tuple[tuple[int, int], ...] = ()
    """Markdown mode: the (first, last) line of every Starlark block."""
    files: Mapping[str, str] = field(default_factory=dict)
    fragment: bool = False
    """True in Markdown mode: blocks are excerpts, so completeness cannot be assumed."""
    findings: tuple[Finding, ...] = ()
    """Findings raised while evaluating (syntax errors, unknown names)."""

    def ext(self, ext_id: int) -> Extension | None:
        """The extension with this id."""
        for e in self.extensions:
            if e.id == ext_id:
                return e
        return None

    def tags_of(self, bzl_suffix: str, name: str) -> list[Tag]:
        """Tags of every extension whose .bzl label ends with ``bzl_suffix`` and is named ``name``."""
        ids = {e.id for e in self.extensions if e.bzl.endswith(bzl_suffix) and e.name == name}
        return [t for t in self.tags if t.ext in ids]
