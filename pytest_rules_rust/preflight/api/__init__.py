"""API models of the Bazel modules a workspace uses, read from the modules' own Starlark.

``extract(tree)`` reads a source tree into an :class:`ApiModel`; ``resolve(module, version)``
finds the model for a pinned version (shipped with the package, or extracted from the rules
Bazel already fetched); the preflight check ``checks/api_usage.py`` compares a workspace with it.
"""

from __future__ import annotations

from .extract import extract
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
    "extract",
    "resolve",
    "shipped_versions",
]
