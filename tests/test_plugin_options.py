"""Options are validated when pytest starts: one line naming the option, the value and the valid
form, exit code 4 (usage error), never an INTERNALERROR; ``--help`` shows every default."""

from __future__ import annotations

import pytest

BAD_OPTIONS = [
    (("--rr-build-timeout", "abc"), "--rr-build-timeout (ini rr_build_timeout): 'abc' is not a number"),
    (("--rr-run-timeout", "-3"), "--rr-run-timeout (ini rr_run_timeout): '-3' is not a positive number"),
    (("--rr-platform", "linux/s390x"), "'linux/s390x' is not a platform: linux/amd64 or linux/arm64"),
    (("--rr-template-dir", "/nonexistent"), "/nonexistent is not an existing directory"),
    (("--rr-doc", "missing.md"), "missing.md is not an existing file"),
    (("--rr-set", "rust_edtion=2021"), "unknown parameter 'rust_edtion' (did you mean 'rust_edition'?)"),
    (("--rr-set", "rust_edition=1999"), "invalid value '1999' for parameter 'rust_edition'"),
    (("--rr-builder", "make"), "--rr-builder (ini rr_builder): 'make' is not one of cargo, bazel"),
    (("--rr-bench-threads", "1,x"), "--rr-bench-threads (ini rr_bench_threads): '1,x' is not a comma"),
    (("--rr-qemu", "/no/qemu"), "'/no/qemu' is not auto, binfmt, or the path of an existing qemu-user"),
]


@pytest.mark.parametrize(("args", "expected"), BAD_OPTIONS, ids=[a[0] for a, _ in BAD_OPTIONS])
def test_bad_option_is_one_usage_line(
    pytester: pytest.Pytester, args: tuple[str, ...], expected: str
) -> None:
    pytester.makepyfile("def test_x(): pass")
    result = pytester.runpytest_subprocess(*args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    errors = [line for line in result.stderr.lines if line.strip()]
    assert len(errors) == 1, result.stderr.str()
    assert errors[0].startswith("ERROR: ") and expected in errors[0]
    assert "INTERNALERROR" not in result.stdout.str() + result.stderr.str()


def test_a_huge_bad_value_is_quoted_short(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_x(): pass")
    result = pytester.runpytest("--rr-build-timeout", "x" * 100_000)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert len(result.stderr.str()) < 400


def test_bad_ini_value_names_the_ini_key(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nrr_build_timeout = soon\n")
    pytester.makepyfile("def test_x(): pass")
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: *ini rr_build_timeout*'soon' is not a number*"])


def test_relative_paths_are_taken_from_the_rootdir(pytester: pytest.Pytester) -> None:
    (pytester.path / "doc.md").write_text("# nothing\n")
    pytester.makeini("[pytest]\nrr_doc = doc.md\nrr_template_dir = .\n")
    pytester.makepyfile(
        """
        def test_paths(rules_rust_settings, pytestconfig):
            root = pytestconfig.rootpath
            assert rules_rust_settings.docs == (root / "doc.md",)
            assert rules_rust_settings.template_dirs == (root,)
        """
    )
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=1)


def test_help_shows_each_default(pytester: pytest.Pytester) -> None:
    out = " ".join(pytester.runpytest("--help").stdout.str().split())
    assert "[default: 1800; ini: rr_build_timeout]" in out
    assert "[default: linux/amd64, linux/arm64; ini: rr_platform]" in out
    assert "[default: off; ini: rr_online]" in out
