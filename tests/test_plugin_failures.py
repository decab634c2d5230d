"""A harness error in a test reads as the test's line, the message, the kept paths and the hint,
without the plugin's source; a user's own failures keep their whole traceback."""

from __future__ import annotations

import re

import pytest
from containers_helpers import engine_or_skip

from pytest_rules_rust.cache import Cache

PLUGIN_SOURCE = re.compile(r"pytest_rules_rust/\S+\.py")  # a frame of ours, named by its file

WORKSPACE_ERRORS = """
def test_choice(rules_rust_workspace):
    rules_rust_workspace("from_specs", rust_edition="2015")

def test_version_outside_the_range(rules_rust_workspace, rr_versions):
    rules_rust_workspace("from_specs", **rr_versions)
"""


def _failures(result: pytest.RunResult) -> list[str]:
    lines = result.stdout.lines
    start = next(i for i, line in enumerate(lines) if "FAILURES" in line or "ERRORS" in line)
    end = next(i for i, line in enumerate(lines) if "short test summary" in line)
    return lines[start:end]


def test_a_harness_error_shows_the_call_and_the_message(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(WORKSPACE_ERRORS)
    result = pytester.runpytest("-p", "no:cacheprovider", "--rr-rules-rust-version", "0.10.0")
    result.assert_outcomes(failed=2)
    shown = _failures(result)
    text = "\n".join(shown)
    assert not PLUGIN_SOURCE.search(text), text
    assert len(shown) < 30, text
    result.stdout.fnmatch_lines(
        [
            '>       rules_rust_workspace("from_specs", rust_edition="2015")',
            "E       pytest_rules_rust.errors.WorkspaceError: invalid value '2015' for parameter "
            "'rust_edition': workspace 'from_specs' supports only 2018, 2021, 2024",
            "E       hint: see */from_specs/README.md for why",
            "test_a_harness_error_shows_the_call_and_the_message.py:2: WorkspaceError",
            '>       rules_rust_workspace("from_specs", **rr_versions)',
            "E       *WorkspaceError: workspace 'from_specs' supports rules_rust_version >=*, not 0.10.0",
            "E       hint: pick a version in that range*",
        ]
    )


def test_full_trace_still_shows_the_plugin_frames(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(WORKSPACE_ERRORS)
    result = pytester.runpytest("-p", "no:cacheprovider", "--full-trace", "-k", "choice")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*pytest_rules_rust/workspaces.py:*: WorkspaceError"])


def test_a_harness_error_in_a_fixture_is_short_too(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    (pytester.path / "not_a_dir").write_text("a file where the cache should go\n")
    pytester.makepyfile("def test_cache(rules_rust_cache): pass")
    # the environment's cache directory is the fixture's to check (--rr-cache-dir is checked at start)
    monkeypatch.setenv("PYTEST_RULES_RUST_CACHE", str(pytester.path / "not_a_dir"))
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)
    text = "\n".join(_failures(result))
    assert not PLUGIN_SOURCE.search(text), text
    result.stdout.fnmatch_lines(["E   *CacheError: *not_a_dir*"])


def test_a_users_own_failure_keeps_its_traceback(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        from pytest_rules_rust.errors import WorkspaceError

        def helper(x):
            assert x == 2

        def test_assertion():
            helper(1)

        def test_other_exception(rules_rust_workspace):
            rules_rust_workspace("from_cargo").root.joinpath("missing", "x").read_text()
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(["    def helper(x):", ">       assert x == 2", "E       assert 1 == 2"])
    result.stdout.fnmatch_lines(["E       FileNotFoundError:*"])


@pytest.mark.container
def test_a_failed_build_shows_the_message_log_and_workspace(
    pytester: pytest.Pytester, rustup_outside_pytester: None
) -> None:
    engine_or_skip()
    pytester.makepyfile(
        """
        def test_build(rules_rust_workspace, rules_rust_build):
            ws = rules_rust_workspace("cross")
            (ws.root / "hello_cross" / "src" / "main.rs").write_text("fn main() { not_rust }\\n")
            rules_rust_build(ws)
        """
    )
    # A process of its own (never this session's build cache), on the shared cache (builder image).
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--rr-cache-dir", str(Cache().root))
    result.assert_outcomes(failed=1)
    text = "\n".join(_failures(result))
    assert not PLUGIN_SOURCE.search(text), text
    result.stdout.fnmatch_lines(
        [
            ">       rules_rust_build(ws)",
            "E       pytest_rules_rust.errors.BuildError: cargo build of cross *",
            "E       *not_rust*",
            "E       log: *.log",
            "E       workspace: */cross",
            "E       hint: *",
            "test_a_failed_build_shows_the_message_log_and_workspace.py:4: BuildError",
        ]
    )
