"""One cell of the run's matrix, and the one place that makes cells from builds.

A :class:`MatrixEntry` is workspace (with the parameters it changed from its template's defaults,
e.g. ``rules_rust_version=0.63.0``) × platform × builder × libc × profile with status, duration,
binary size, and the binaries' glibc floor and hardening summary. :func:`entry_from_result`,
:func:`entry_from_error` and :func:`entry_from_image` turn a build's outcome into one; entries
travel from the test that made them (possibly on an xdist worker) to the controller in the test
report's ``user_properties``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import KW_ONLY, asdict, dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal

from ..workspace_params import render_plain

if TYPE_CHECKING:
    from ..builders.base import Artifact, BuildRequest, BuildResult
    from ..errors import RulesRustError
    from ..inspect.elf import BinaryInfo

SCHEMA_VERSION = 2  # 2: entries carry ``params``
PROPERTY = "rules_rust_matrix"
Status = Literal["built", "ran", "failed", "skipped"]
COLUMNS = (
    "workspace", "platform", "builder", "libc", "profile", "status", "duration", "binary size",
    "glibc floor", "hardening",
)  # fmt: skip


@dataclass(frozen=True)
class MatrixEntry:
    """One cell: workspace, platform and builder name it; everything else is given by keyword."""

    workspace: str
    platform: str
    builder: str
    _: KW_ONLY
    libc: str = "gnu"
    profile: str = "debug"
    status: Status = "built"
    duration_s: float | None = None
    binary_size: int | None = None
    reason: str = ""
    log: str | None = None
    glibc_floor: str | None = None  # the highest GLIBC_ version the cell's binaries need
    hardening: str = ""  # checksec-style summary per binary ("PIE, full RELRO, NX, …")
    # the workspace parameters that differ from its template's defaults, as the command line spells them
    params: Mapping[str, str] = field(default_factory=dict)

    @property
    def label(self) -> str:
        """The workspace as the tables show it: ``cross [rules_rust_version=0.63.0]``."""
        if not self.params:
            return self.workspace
        return f"{self.workspace} [{', '.join(f'{k}={v}' for k, v in sorted(self.params.items()))}]"

    @property
    def key(self) -> tuple[str, str, str, str, str]:
        return (self.label, self.platform, self.builder, self.libc, self.profile)

    def to_json(self) -> dict[str, Any]:
        return asdict(self) | {"params": dict(sorted(self.params.items()))}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> MatrixEntry:
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})


def entry_for(request: BuildRequest, builder: str, **fields: Any) -> MatrixEntry:
    """The matrix cell of one build request, with ``fields`` (status, duration_s, ...) filled in."""
    params = {k: render_plain(v) for k, v in request.workspace.changed_params.items()}
    return MatrixEntry(
        request.workspace.name,
        request.target.docker,
        builder,
        libc=request.libc,
        profile=request.profile,
        params=params,
        **fields,
    )


def entry_from_result(result: BuildResult, infos: Mapping[str, BinaryInfo] | None = None) -> MatrixEntry:
    """A successful build: status ``built``, its duration, the size of its largest binary, its
    binaries' glibc floor and hardening, and its log. ``infos`` (target → what
    :func:`~pytest_rules_rust.inspect.elf.inspect_binary` read) saves reading the binaries again."""
    binaries = [a for a in result.artifacts if a.kind == "binary"]
    size = max((a.path.stat().st_size for a in binaries if a.path.exists()), default=None)
    if infos is None:
        infos = _inspected(binaries)
    glibc_floor, hardening = binary_facts(infos)
    return entry_for(
        result.request,
        result.builder,
        status="built",
        duration_s=result.duration_s,
        binary_size=size,
        log=str(result.log),
        glibc_floor=glibc_floor,
        hardening=hardening,
    )


def binary_facts(infos: Mapping[str, BinaryInfo]) -> tuple[str | None, str]:
    """A cell's glibc floor (the highest its binaries need) and its binaries' hardening summary
    (one, when they agree; else one per binary)."""
    from ..inspect.hardening import version_key

    floors = [i.glibc_floor for i in infos.values() if i.glibc_floor]
    floor = max(floors, key=version_key) if floors else None
    summaries = {name: info.hardening for name, info in infos.items()}
    if len(set(summaries.values())) <= 1:
        return floor, next(iter(summaries.values()), "")
    return floor, "; ".join(f"{name}: {text}" for name, text in summaries.items())


def _inspected(binaries: Iterable[Artifact]) -> dict[str, BinaryInfo]:
    # Imported here: the plugin imports this module at start-up, ELF reading only when a build finished.
    from ..errors import InspectError
    from ..inspect.elf import inspect_binary

    infos = {}
    for artifact in binaries:
        try:
            infos[artifact.target] = inspect_binary(artifact.path)
        except (InspectError, OSError):
            continue  # not an ELF file we can read: the columns stay empty
    return infos


def entry_from_image(result: BuildResult, image_tag: str, **fields: Any) -> MatrixEntry:
    """The cell of an image assembled from ``result``'s binaries, shown as ``<workspace> (image <tag>)``,
    with ``fields`` (status, reason, duration_s) filled in."""
    entry = entry_for(result.request, result.builder, **fields)
    return replace(entry, workspace=f"{entry.workspace} (image {image_tag})")


def entry_from_error(
    request: BuildRequest, builder: str, error: RulesRustError, *, skipped: bool
) -> MatrixEntry:
    """A build that failed (or could not start: ``skipped``), with the reason in one line."""
    log = error.paths.get("log")
    return entry_for(
        request,
        builder,
        status="skipped" if skipped else "failed",
        reason=error.reason or one_line_reason(error.message) or type(error).__name__,
        log=None if log is None else str(log),
    )


def one_line_reason(message: str) -> str:
    """The first line of ``message``; when it introduces what follows (``...; last lines of the
    log:``), the first line below it that reports an error (else the last line) is added."""
    lines = [line.strip() for line in message.splitlines() if line.strip()]
    if not lines:
        return ""
    head, rest = lines[0], lines[1:]
    if not head.endswith(":") or not rest:
        return head
    cause = next((line for line in rest if line.lower().startswith(("error", "fatal"))), rest[-1])
    return f"{head} {cause}"


def record(user_properties: list[tuple[str, object]], entry: MatrixEntry) -> None:
    """Attach an entry to a test item (``request.node.user_properties``) for the reporter."""
    user_properties.append((PROPERTY, entry.to_json()))


def entries_from_properties(props: Iterable[tuple[str, object]]) -> list[MatrixEntry]:
    return [
        MatrixEntry.from_json(value) for key, value in props if key == PROPERTY and isinstance(value, dict)
    ]
