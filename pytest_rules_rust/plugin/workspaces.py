"""Fixtures over ``workspaces``: a factory that materialises workspace templates per test.

Settings used (resolved by ``settings.Settings``):

- ``--rr-template-dir DIR`` (repeatable) / ini ``rr_template_dir``: extra template directories,
  searched before the built-in ``fixture_workspaces/``; a relative path is taken from the directory
  pytest ran in (command line) or from the ini file's directory (ini).
- ``--rr-set KEY=VALUE`` (repeatable) / ini ``rr_set``: parameter values for every workspace that
  takes the parameter (e.g. ``--rr-set rust_edition=2024 --rr-set rust_versions=1.85.0``), merged per
  parameter: the command line wins over ini for the same key.
"""

from __future__ import annotations

import pytest

from ..settings import Settings
from ..workspaces import WorkspaceFactory


@pytest.fixture(scope="session")
def rules_rust_workspace_factory(
    rules_rust_settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> WorkspaceFactory:
    """Session-scoped form of ``rules_rust_workspace``, for session or module fixtures.

    Same call: ``rules_rust_workspace_factory("cross", sysroot=True)``. Override this fixture to
    change where workspaces come from for the whole session.
    """
    return WorkspaceFactory.from_settings(
        rules_rust_settings, lambda name: tmp_path_factory.mktemp(name, numbered=True)
    )


@pytest.fixture
def rules_rust_workspace(rules_rust_workspace_factory: WorkspaceFactory) -> WorkspaceFactory:
    """Materialise a workspace into a fresh temporary directory: a factory returning ``Workspace``.

    ``rules_rust_workspace(name_or_path, **params) -> Workspace`` (``.root``, ``.params``, ``.name``)::

        def test_edition_2024(rules_rust_workspace):
            ws = rules_rust_workspace("from_cargo", rust_edition="2024", rust_versions=["1.85.0"])
            assert 'edition = "2024"' in (ws.root / "Cargo.toml").read_text()

    - ``name_or_path``: a template name (``python -m pytest_rules_rust list`` shows them: from_cargo,
      from_specs, proto, cross, musl_jemalloc_oci, alloc_bench, plus those in ``--rr-template-dir``),
      a path to a template directory (one with ``rules_rust_template.toml``), or a path to any existing
      workspace of yours, which is copied as it is and takes no parameters.
    - ``params``: typed, validated values: ``bazel_version``, ``rules_rust_version``, ``rust_versions``
      (list), ``rust_edition`` (2015/2018/2021/2024), ``llvm_version``, ``target_triples`` (list of linux
      triples), ``platforms`` (list of linux/amd64, linux/arm64), ``registry`` (OCI repository),
      ``sysroot`` (bool). Strings are accepted as on the command line (``"a,b"``, ``"true"``).
    - Precedence: these per-call values > ``--rr-set`` > ini ``rr_set`` > the template's defaults (the
      versions the document pins: rules_rust 0.46.0, Rust 1.79.0, edition 2021, Bazel 7.4.1).
      ``--rr-set`` values apply only to templates that take the parameter.

    Unknown workspaces or parameters and invalid values raise ``WorkspaceError`` naming the parameter,
    the value and the valid choices (with a "did you mean" for near misses). Values reach the files only
    as escaped Starlark/TOML literals, and every rendered Starlark and TOML file is parsed before the
    workspace is returned. Each call makes a new directory under pytest's ``tmp_path`` base, kept as
    pytest keeps temporary directories.
    """
    return rules_rust_workspace_factory
