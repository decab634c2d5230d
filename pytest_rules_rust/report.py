"""The run's matrix: workspace × platform × builder with status, duration, binary size, and the
binaries' glibc floor and hardening summary.

Entries travel from the test that produced them (possibly on an xdist worker) to the controller in
the test report's ``user_properties``; ``MatrixReport`` merges them, prints the terminal table and
writes versioned JSON and Markdown atomically.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from .builders.base import BuildRequest, BuildResult
    from .errors import RulesRustError

SCHEMA_VERSION = 1
PROPERTY = "rules_rust_matrix"
Status = Literal["built", "ran", "failed", "skipped"]
COLUMNS = (
    "workspace", "platform", "builder", "libc", "profile", "status", "duration", "binary size",
    "glibc floor", "hardening",
)  # fmt: skip
# When two tests report on the same cell, the more telling status wins.
_RANK: dict[str, int] = {"skipped": 0, "built": 1, "ran": 2, "failed": 3}


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


@dataclass
class MatrixReport:
    entries: dict[tuple[str, ...], MatrixEntry] = field(default_factory=dict)
    plots: list[Path] = field(default_factory=list)

    def add(self, entry: MatrixEntry) -> None:
        old = self.entries.get(entry.key)
        if old is None or _RANK[entry.status] >= _RANK[old.status]:
            if old is not None and entry.duration_s is None:
                entry = replace(
                    entry,
                    duration_s=old.duration_s,
                    binary_size=entry.binary_size or old.binary_size,
                    glibc_floor=entry.glibc_floor or old.glibc_floor,
                    hardening=entry.hardening or old.hardening,
                )
            self.entries[entry.key] = entry

    def sorted(self) -> list[MatrixEntry]:
        return [self.entries[k] for k in sorted(self.entries)]

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for e in self.entries.values():
            out[e.status] = out.get(e.status, 0) + 1
        return out

    def to_json(self) -> dict[str, Any]:
        return {
            "schema_version": SCHEMA_VERSION,
            "matrix": [e.to_json() for e in self.sorted()],
            "counts": self.counts(),
            "plots": [p.name for p in self.plots],
        }

    def table_rows(self) -> list[list[str]]:
        rows = [list(COLUMNS)]
        for e in self.sorted():
            status = e.status + (f" ({e.reason})" if e.reason else "")
            rows.append(
                [
                    e.workspace,
                    e.platform,
                    e.builder,
                    e.libc,
                    e.profile,
                    status,
                    f"{e.duration_s:.1f} s" if e.duration_s is not None else "-",
                    _size(e.binary_size),
                    e.glibc_floor or "-",
                    e.hardening or "-",
                ]
            )
        return rows

    def to_text(self) -> str:
        rows = self.table_rows()
        widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
        return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows)

    def to_markdown(self) -> str:
        rows = self.table_rows()
        lines = ["# rules_rust build matrix", ""]
        lines.append("| " + " | ".join(rows[0]) + " |")
        lines.append("|" + "---|" * len(rows[0]))
        lines += ["| " + " | ".join(c.replace("|", "\\|") for c in r) + " |" for r in rows[1:]]
        counts = ", ".join(f"{n} {s}" for s, n in sorted(self.counts().items()))
        lines += ["", f"Totals: {counts or 'no builds'}."]
        for plot in self.plots:
            lines += ["", f"![{plot.stem}]({plot.name})"]
        return "\n".join(lines) + "\n"

    def write(self, out_dir: Path) -> list[Path]:
        """Write ``matrix.json``, ``matrix.md`` and copies of the plots into ``out_dir``."""
        out_dir.mkdir(parents=True, exist_ok=True)
        for plot in self.plots:
            if plot.exists() and plot.parent.resolve() != out_dir.resolve():
                shutil.copy2(plot, out_dir / plot.name)
        json_path = write_atomic(out_dir / "matrix.json", json.dumps(self.to_json(), indent=2) + "\n")
        md_path = write_atomic(out_dir / "matrix.md", self.to_markdown())
        return [json_path, md_path]


def write_atomic(path: Path, text: str) -> Path:
    """Write via a temporary file and ``os.replace`` so readers never see half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _size(n: int | None) -> str:
    if n is None:
        return "-"
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n = n / 1024  # type: ignore[assignment]
    return f"{n}"
