"""API models of the Bazel modules a workspace uses, read from the modules' own Starlark.

``extract.extract(tree)`` reads a source tree into an :class:`ApiModel` (imported on its own:
a preflight run only needs it for a version without a shipped model); ``resolve(module, version)``
finds the model for a pinned version (shipped with the package, or extracted from the rules
Bazel already fetched); the preflight checks in ``checks/api_usage/`` compare a workspace with it.
"""

from __future__ import annotations

from .schema import ApiModel, Attr, BzlFile, Extension, Macro, Package, Rule, TagClass
from .store import Resolved, coverage, resolve, shipped_versions

__all__ = [
    "ApiModel",
    "Attr",
    "BzlFile",
    "Extension",
    "Macro",
    "Package",
    "Resolved",
    "Rule",
    "TagClass",
    "coverage",
    "resolve",
    "shipped_versions",
]
