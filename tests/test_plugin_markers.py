"""Markers the plugin applies from what a test requests, so ``pytest -m cross`` selects real work."""

from __future__ import annotations

import pytest

TESTS = """
import pytest

def test_platform(rr_platform):
    pass

@pytest.mark.parametrize("rr_platform", ["linux/arm64"], indirect=True)
def test_pinned_arm64(rr_platform):
    pass

def test_engine(docker_engine):
    pass

def test_build(rules_rust_build):
    pass

def test_bench(alloc_bench_baselines):
    pass

@pytest.mark.cross
def test_marked_by_hand():
    pass

def test_plain():
    pass
"""


@pytest.mark.parametrize(
    ("expression", "selected"),
    [
        ("cross", ["test_marked_by_hand", "test_pinned_arm64[linux/arm64]", "test_platform[linux-arm64]"]),
        ("container", ["test_build", "test_engine"]),
        ("cargo", ["test_build"]),
        ("bench", ["test_bench"]),
        ("not cross and not container and not bench", ["test_plain", "test_platform[linux-amd64]"]),
    ],
)
def test_markers_follow_what_a_test_requests(
    pytester: pytest.Pytester, expression: str, selected: list[str]
) -> None:
    pytester.makepyfile(TESTS)
    result = pytester.runpytest("-p", "no:cacheprovider", "--collect-only", "-q", "-m", expression)
    names = sorted(line.split("::", 1)[1] for line in result.outlines if "::" in line)
    assert names == sorted(selected), result.outlines


def test_a_hand_written_marker_is_not_added_twice(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(
        """
        import pytest

        @pytest.hookimpl(trylast=True)
        def pytest_collection_modifyitems(items):
            for item in items:
                print("MARKS", item.name, sorted(m.name for m in item.iter_markers()))
        """
    )
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.container
        def test_engine(docker_engine):
            pass
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider", "--collect-only", "-s")
    result.stdout.fnmatch_lines(["MARKS test_engine ['container']"])
