"""Workspace templates, typed parameters and materialisation (placeholder: see issue 2)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Workspace:
    """A materialised workspace: a directory that is both a Bazel module and a Cargo workspace."""

    name: str
    root: Path
    params: Mapping[str, Any] = field(default_factory=dict)
    template: Path | None = None
