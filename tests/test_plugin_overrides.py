"""The override contract: a conftest that overrides a leaf fixture changes what every composite does.

Each test runs a real pytest session through ``pytester`` with a conftest of the kind the fixture
docstrings invite, and checks the composite fixtures used the override.
"""

from __future__ import annotations

import pytest
from containers_helpers import engine_or_skip

from pytest_rules_rust.cache import Cache


def test_overriding_rr_platform_takes_the_test_out_of_the_parametrisation(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(
        """
        import pytest
        @pytest.fixture(scope="session")
        def rr_platform():
            return "linux/arm64"
        """
    )
    pytester.makepyfile("def test_one(rr_platform): assert rr_platform == 'linux/arm64'")
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=1)


def test_rr_platform_follows_the_option_and_indirect_parametrisation(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest
        def test_default(rr_platform):
            pass

        @pytest.mark.parametrize("rr_platform", ["linux/arm64"], indirect=True)
        def test_pinned(rr_platform):
            assert rr_platform == "linux/arm64"
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider", "-v")
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines(["*test_default?linux-amd64?*", "*test_default?linux-arm64?*"])
    narrowed = pytester.runpytest("-p", "no:cacheprovider", "--rr-platform", "linux/amd64")
    narrowed.assert_outcomes(passed=2)


def test_overriding_rr_versions(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(
        """
        import pytest
        @pytest.fixture(params=["0.46.0", "0.54.1"])
        def rr_versions(request):
            return {"rules_rust_version": request.param}
        """
    )
    pytester.makepyfile(
        """
        def test_cell(rules_rust_workspace, rr_versions):
            ws = rules_rust_workspace("from_cargo", **rr_versions)
            assert ws.params["rules_rust_version"] == rr_versions["rules_rust_version"]
        """
    )
    pytester.runpytest("-p", "no:cacheprovider", "--rr-rules-rust-version", "0.73.0").assert_outcomes(
        passed=2
    )


def test_overriding_settings_moves_the_cache_and_the_run_timeout(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(
        """
        import dataclasses
        import pytest
        @pytest.fixture(scope="session")
        def rules_rust_settings(rules_rust_settings, tmp_path_factory):
            return dataclasses.replace(
                rules_rust_settings, cache_dir=tmp_path_factory.mktemp("mine"), run_timeout_s=7.0
            )
        """
    )
    pytester.makepyfile(
        """
        def test_it(rules_rust_cache, binary_inspector, rules_rust_workspace_factory):
            assert rules_rust_cache.root.name.startswith("mine")
            assert binary_inspector.timeout_s == 7.0
        """
    )
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=1)


def test_overriding_the_workspace_factory_changes_rules_rust_workspace(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(
        """
        import pytest
        from pytest_rules_rust import WorkspaceFactory
        @pytest.fixture(scope="session")
        def rules_rust_workspace_factory(tmp_path_factory):
            return WorkspaceFactory(
                lambda name: tmp_path_factory.mktemp("ours-" + name), session_params={"rust_edition": "2018"}
            )
        """
    )
    pytester.makepyfile(
        """
        def test_it(rules_rust_workspace):
            ws = rules_rust_workspace("from_cargo")
            assert ws.root.parent.name.startswith("ours-") and ws.params["rust_edition"] == "2018"
        """
    )
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=1)


BUILD_CONFTEST = """
import pytest
from pytest_rules_rust import WorkspaceFactory

SEEN = []

@pytest.fixture(scope="session")
def docker_engine(docker_engine):
    SEEN.append("engine")
    return docker_engine

@pytest.fixture(scope="session")
def builder_image(builder_image):
    def image(platform="linux/amd64", builder="cargo"):
        SEEN.append("image " + str(platform))
        return builder_image(platform, builder)
    return image

@pytest.fixture(scope="session")
def rules_rust_workspace_factory(rules_rust_workspace_factory):
    def make(name, /, **params):
        SEEN.append("workspace " + str(name))
        return rules_rust_workspace_factory(name, **params)
    return make
"""

BUILD_TEST = """
from conftest import SEEN

def test_build_uses_every_override(rules_rust_build):
    result = rules_rust_build("cross", platform="linux/arm64")
    assert result.artifact(kind="binary").path.is_file()
    assert SEEN == ["engine", "workspace cross", "image linux/amd64"], SEEN
"""


@pytest.mark.container
def test_overriding_engine_image_and_factory_changes_rules_rust_build(
    pytester: pytest.Pytester, rustup_outside_pytester: None
) -> None:
    engine_or_skip()
    pytester.makeconftest(BUILD_CONFTEST)
    pytester.makepyfile(BUILD_TEST)
    # A process of its own: this process may already hold the build in its session cache.
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--rr-cache-dir", str(Cache().root))
    result.assert_outcomes(passed=1)


def test_a_missing_prerequisite_skips_at_the_users_test(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOCKER_HOST", f"unix://{pytester.path}/no-docker.sock")
    pytester.makepyfile(test_needs_docker="def test_build(rules_rust_build):\n    pass\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-rs")
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(["SKIPPED [[]1[]] test_needs_docker.py:1: needs a Docker daemon*"])
    assert "pytest_rules_rust" not in "".join(line for line in result.stdout.lines if "SKIPPED" in line)
