"""The platform and version parametrisation behind ``rr_platform`` and ``rr_versions``.

The plugin parametrises two hidden cell fixtures, not the public ones. A test that requests
``rr_platform`` runs once per ``--rr-platform`` because our ``rr_platform`` requests the hidden
cell; a conftest that overrides ``rr_platform`` (without requesting the cell) takes the test out of
the parametrisation, and a test that parametrises ``rr_platform`` itself (directly, or with
``indirect=True``) keeps exactly its own values.
"""

from __future__ import annotations

import itertools

import pytest

from ..settings import Settings
from .options import settings_key

PLATFORM_CELL = "_rr_platform_cell"
VERSIONS_CELL = "_rr_versions_cell"


def version_matrix(settings: Settings) -> list[dict[str, object]]:
    """The cartesian product of the requested Bazel, rules_rust and Rust versions (empty axes skipped)."""
    axes: list[list[tuple[str, object]]] = []
    if settings.bazel_versions:
        axes.append([("bazel_version", v) for v in settings.bazel_versions])
    if settings.rules_rust_versions:
        axes.append([("rules_rust_version", v) for v in settings.rules_rust_versions])
    if settings.rust_versions:
        axes.append([("rust_versions", [v]) for v in settings.rust_versions])
    return [dict(cell) for cell in itertools.product(*axes)] if axes else [{}]


def cell_id(cell: dict[str, object]) -> str:
    if not cell:
        return "defaults"
    short = {"bazel_version": "bazel", "rules_rust_version": "rules_rust", "rust_versions": "rust"}
    parts = []
    for key, value in cell.items():
        shown = ",".join(str(v) for v in value) if isinstance(value, list) else str(value)
        parts.append(f"{short.get(key, key)}{shown}")
    return "-".join(parts)


def _parametrised_by_test(metafunc: pytest.Metafunc, name: str) -> bool:
    for mark in metafunc.definition.iter_markers("parametrize"):
        names = mark.args[0] if mark.args else mark.kwargs.get("argnames", ())
        if isinstance(names, str):
            names = [n.strip() for n in names.split(",")]
        if name in names:
            return True
    return False


def parametrize_cells(metafunc: pytest.Metafunc, settings: Settings) -> None:
    """Parametrise the hidden cells that this test's fixture closure reaches."""
    if VERSIONS_CELL in metafunc.fixturenames and not _parametrised_by_test(metafunc, "rr_versions"):
        cells = version_matrix(settings)
        metafunc.parametrize(VERSIONS_CELL, cells, scope="session", ids=[cell_id(c) for c in cells])
    if PLATFORM_CELL in metafunc.fixturenames and not _parametrised_by_test(metafunc, "rr_platform"):
        ids = [p.replace("/", "-") for p in settings.platforms]
        metafunc.parametrize(PLATFORM_CELL, list(settings.platforms), scope="session", ids=ids)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    parametrize_cells(metafunc, metafunc.config.stash[settings_key])


@pytest.fixture(scope="session")
def _rr_platform_cell(request: pytest.FixtureRequest) -> str | None:
    return getattr(request, "param", None)


@pytest.fixture(scope="session")
def _rr_versions_cell(request: pytest.FixtureRequest) -> dict[str, object] | None:
    return getattr(request, "param", None)


@pytest.fixture(scope="session")
def rr_platform(request: pytest.FixtureRequest, _rr_platform_cell: str | None) -> str:
    """The target platform of the current test (``linux/amd64`` or ``linux/arm64``).

    Requesting it runs the test once per ``--rr-platform`` (default: both). To change that:

    * narrow it for a run: ``pytest --rr-platform linux/amd64`` (or ini ``rr_platform``);
    * pin one test: ``@pytest.mark.parametrize("rr_platform", ["linux/arm64"], indirect=True)``;
    * replace it for a directory: define your own ``rr_platform`` fixture in its conftest (a plain
      value or your own ``params``); the plugin then leaves those tests unparametrised.
    """
    value = getattr(request, "param", None) or _rr_platform_cell
    if value is None:
        raise pytest.UsageError("rr_platform has no value: parametrise it or request it from a test")
    return str(value)


@pytest.fixture(scope="session")
def rr_versions(
    request: pytest.FixtureRequest, _rr_versions_cell: dict[str, object] | None
) -> dict[str, object]:
    """One cell of the version matrix: workspace parameter overrides for Bazel, rules_rust and Rust.

    Requesting it runs the test once per cell of ``--rr-bazel-version`` × ``--rr-rules-rust-version``
    × ``--rr-rust-version``; with none given there is one cell, ``{}`` (the workspace defaults). Pass
    it on: ``rules_rust_workspace("cross", **rr_versions)``. Override or ``indirect``-parametrise it
    as ``rr_platform`` describes.
    """
    value = getattr(request, "param", None)
    return dict(value if value is not None else _rr_versions_cell or {})
