"""Ship the sample workspaces inside the wheel.

``fixture_workspaces/`` at the top of the repository is the source of truth (the tests, the CLI and
a checkout read it there). A built wheel carries a copy as the package data
``pytest_rules_rust/data/fixture_workspaces``, which an installed package finds without any
environment variable. Everything else is in ``pyproject.toml``.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
SOURCE = HERE / "fixture_workspaces"
IGNORED = shutil.ignore_patterns("target", "bazel-*", "__pycache__", "*.pyc", ".git")


class BuildPyWithWorkspaces(build_py):
    """``build_py`` that also copies ``fixture_workspaces/`` (dotfiles included) into the package."""

    def run(self) -> None:
        super().run()
        if self.editable_mode:  # an editable install reads the checkout's directory directly
            return
        if not SOURCE.is_dir():
            raise SystemExit(f"cannot build pytest-rules-rust: {SOURCE} is missing from the source tree")
        dest = Path(self.build_lib) / "pytest_rules_rust" / "data" / "fixture_workspaces"
        if dest.exists():
            shutil.rmtree(dest)
        shutil.copytree(SOURCE, dest, ignore=IGNORED)


setup(cmdclass={"build_py": BuildPyWithWorkspaces})
