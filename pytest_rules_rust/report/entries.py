"""One cell of the run's matrix, and the one place that makes cells from builds.

A :class:`MatrixEntry` is workspace × platform × builder × libc × profile with status, duration,
binary size, and the binaries' glibc floor and hardening summary. :func:`entry_from_result` and
:func:`entry_from_error` turn a build's outcome into one; entries travel from the test that made
them (possibly on an xdist worker) to the controller in the test report's ``user_properties``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from ..builders.base import BuildRequest, BuildResult
    from ..errors import RulesRustError

SCHEMA_VERSION = 1
PROPERTY = "rules_rust_matrix"
Status = Literal["built", "ran", "failed", "skipped"]
COLUMNS = (
    "workspace", "platform", "builder", "libc", "profile", "status", "duration", "binary size",
    "glibc floor", "hardening",
)  # fmt: skip


@dataclass(frozen=True)
class MatrixEntry:
    workspace: str
    platform: str
    builder: str
    libc: str = "gnu"
    profile: str = "debug"
    status: Status = "built"
    duration_s: float | None = None
    binary_size: int | None = None
    reason: str = ""
    log: str | None = None
    glibc_floor: str | None = None  # the highest GLIBC_ version the cell's binaries need
    hardening: str = ""  # checksec-style summary per binary ("PIE, full RELRO, NX, …")

    @property
    def key(self) -> tuple[str, str, str, str, str]:
        return (self.workspace, self.platform, self.builder, self.libc, self.profile)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> MatrixEntry:
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})


def entry_for(request: BuildRequest, builder: str, **fields: Any) -> MatrixEntry:
    """The matrix cell of one build request, with ``fields`` (status, duration_s, ...) filled in."""
    return MatrixEntry(
        request.workspace.name, request.target.docker, builder, request.libc, request.profile, **fields
    )


def entry_from_result(result: BuildResult) -> MatrixEntry:
    """A successful build: status ``built``, its duration, the size of its largest binary and its log."""
    binaries = [a.path for a in result.artifacts if a.kind == "binary"]
    size = max((p.stat().st_size for p in binaries if p.exists()), default=None)
    return entry_for(
        result.request,
        result.builder,
        status="built",
        duration_s=result.duration_s,
        binary_size=size,
        log=str(result.log),
    )


def entry_from_error(
    request: BuildRequest, builder: str, error: RulesRustError, *, skipped: bool
) -> MatrixEntry:
    """A build that failed (or could not start: ``skipped``), with the first line of the reason."""
    log = error.paths.get("log")
    return entry_for(
        request,
        builder,
        status="skipped" if skipped else "failed",
        reason=error.message.splitlines()[0] if error.message else type(error).__name__,
        log=None if log is None else str(log),
    )


def record(user_properties: list[tuple[str, object]], entry: MatrixEntry) -> None:
    """Attach an entry to a test item (``request.node.user_properties``) for the reporter."""
    user_properties.append((PROPERTY, entry.to_json()))


def entries_from_properties(props: Iterable[tuple[str, object]]) -> list[MatrixEntry]:
    return [
        MatrixEntry.from_json(value) for key, value in props if key == PROPERTY and isinstance(value, dict)
    ]
