"""The matrix report: entries merged (the more telling status wins), the terminal table, and
versioned JSON and Markdown written atomically."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from .entries import COLUMNS, SCHEMA_VERSION, MatrixEntry

# When two tests report on the same cell, the more telling status wins.
_RANK: dict[str, int] = {"skipped": 0, "built": 1, "ran": 2, "failed": 3}


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
            status = e.status + (f" ({_shortened(e.reason)})" if e.reason else "")
            rows.append(
                [
                    e.label,
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


REASON_WIDTH = 120  # the tables stay readable; JSON keeps the whole reason


def _shortened(reason: str) -> str:
    return reason if len(reason) <= REASON_WIDTH else reason[: REASON_WIDTH - 1].rstrip() + "…"
