"""pytest-rules-rust: prove that rules_rust Bzlmod setups build for linux x86_64 and aarch64.

The data flows workspace → preflight → build → artifacts → assertions → report; each stage is
one module with plain functions, and the pytest plugin and the command line sit on top.

The names below are the typed public API: the values each stage passes on, the plain functions,
and the call signatures of the factory fixtures, for annotating your own tests and fixtures::

    from pytest_rules_rust import BuildResult, RulesRustBuild, assert_binary

    def test_cross(rules_rust_build: RulesRustBuild) -> None:
        result: BuildResult = rules_rust_build("cross", platform="linux/arm64")
        assert_binary(result.artifact("hello_cross").path, arch="aarch64")

They are imported on first use, so loading the plugin stays cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

#: public name -> module that defines it
_EXPORTS: dict[str, str] = {
    # values passed from stage to stage
    "Workspace": "workspaces",
    "WorkspaceFactory": "workspaces",
    "PreflightReport": "preflight.model",
    "Finding": "preflight.model",
    "BuildRequest": "builders.base",
    "BuildResult": "builders.base",
    "Artifact": "builders.base",
    "BinaryInfo": "inspect.elf",
    "ImageInfo": "inspect.oci",
    "RunResult": "execution",
    "StructureSpec": "inspect.structure",
    "Layout": "containers.oci_write",
    "BenchResults": "bench.results",
    "Platform": "platforms",
    "Settings": "settings",
    "Registry": "containers.registry",
    "Cache": "cache",
    "ContainerRunner": "containers",
    "BenchOutcome": "bench.session",
    "RulesRustError": "errors",
    # plain functions, one per stage
    "materialise": "workspaces",
    "preflight": "preflight",
    "build": "builders",
    "inspect_binary": "inspect.elf",
    "inspect_image": "inspect.oci",
    "assert_binary": "inspect.assertions",
    "assert_runs": "execution",
    "run_binary": "execution",
    "push_index": "containers.oci_write",
    # call signatures of the factory fixtures
    "PreflightRunner": "plugin.preflight",
    "RulesRustBuild": "plugin.builds",
    "BuilderImage": "plugin.containers",
    "OciImageAssembler": "plugin.oci",
    "BinaryInspector": "plugin.binaries",
}

__all__ = [
    "Artifact",
    "BenchOutcome",
    "BenchResults",
    "BinaryInfo",
    "BinaryInspector",
    "BuildRequest",
    "BuildResult",
    "BuilderImage",
    "Cache",
    "ContainerRunner",
    "Finding",
    "ImageInfo",
    "Layout",
    "OciImageAssembler",
    "Platform",
    "PreflightReport",
    "PreflightRunner",
    "Registry",
    "RulesRustBuild",
    "RulesRustError",
    "RunResult",
    "Settings",
    "StructureSpec",
    "Workspace",
    "WorkspaceFactory",
    "assert_binary",
    "assert_runs",
    "build",
    "inspect_binary",
    "inspect_image",
    "materialise",
    "preflight",
    "push_index",
    "run_binary",
]

if TYPE_CHECKING:
    from .bench.results import BenchResults
    from .bench.session import BenchOutcome
    from .builders import build
    from .builders.base import Artifact, BuildRequest, BuildResult
    from .cache import Cache
    from .containers import ContainerRunner
    from .containers.oci_write import Layout, push_index
    from .containers.registry import Registry
    from .errors import RulesRustError
    from .execution import RunResult, assert_runs, run_binary
    from .inspect.assertions import assert_binary
    from .inspect.elf import BinaryInfo, inspect_binary
    from .inspect.oci import ImageInfo, inspect_image
    from .inspect.structure import StructureSpec
    from .platforms import Platform
    from .plugin.binaries import BinaryInspector
    from .plugin.builds import RulesRustBuild
    from .plugin.containers import BuilderImage
    from .plugin.oci import OciImageAssembler
    from .plugin.preflight import PreflightRunner
    from .preflight import preflight
    from .preflight.model import Finding, PreflightReport
    from .settings import Settings
    from .workspaces import Workspace, WorkspaceFactory, materialise


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'pytest_rules_rust' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
