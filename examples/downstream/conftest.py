"""Leaf fixtures overridden the way the plugin's docstrings invite; every composite picks them up."""

from __future__ import annotations

import dataclasses

import pytest

from pytest_rules_rust import BuilderImage, Platform, Settings


@pytest.fixture(scope="session")
def rules_rust_settings(rules_rust_settings: Settings) -> Settings:
    """The plugin's settings with this project's choices: the allocator benchmark on x86_64 only."""
    return dataclasses.replace(rules_rust_settings, platforms=("linux/amd64",))


@pytest.fixture(scope="session")
def images_used() -> list[str]:
    """Every builder image reference handed out in this session (filled by our ``builder_image``)."""
    return []


@pytest.fixture(scope="session")
def builder_image(builder_image: BuilderImage, images_used: list[str]) -> BuilderImage:
    """The plugin's images, recorded, so the tests can show that builds take their image from here."""

    def image(platform: Platform | str = "linux/amd64", builder: str = "cargo") -> str:
        reference = builder_image(platform, builder)
        images_used.append(reference)
        return reference

    return image
