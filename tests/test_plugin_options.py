"""Options are validated when pytest starts: one line naming the option, the value and the valid
form, exit code 4 (usage error), never an INTERNALERROR; ``--help`` shows every default."""

from __future__ import annotations

from pathlib import Path

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
    (
        ("--rr-rules-rust-version", "banana"),
        "--rr-rules-rust-version (ini rr_rules_rust_version): 'banana' is not a version like 0.46.0",
    ),
    (("--rr-bazel-version", "latest"), "'latest' is not a version like 7.4.1 (e.g. --rr-bazel-version 7.4.1"),
    (("--rr-rust-version", "1.79"), "'1.79' is not a Rust version like 1.79.0 or nightly/2024-06-01"),
    (("--rr-report", "/dev/null/rep"), "--rr-report (ini rr_report): /dev/null/rep cannot be created or"),
    (("--rr-report", "/proc/x"), "/proc/x cannot be created or written to (No such file or directory)"),
    (("--rr-cache-dir", "/proc/nope"), "--rr-cache-dir (ini rr_cache_dir): /proc/nope cannot be created"),
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


@pytest.mark.parametrize(
    ("ini", "error"),
    [
        ("rr_build_timeout = soon", "ERROR: *ini rr_build_timeout*'soon' is not a number*"),
        (
            "rr_rules_rust_version = 0.46.0 banana",
            "ERROR: *ini rr_rules_rust_version*'banana' is not a version like 0.46.0*",
        ),
    ],
)
def test_bad_ini_value_stops_the_run_naming_the_ini_key(
    pytester: pytest.Pytester, ini: str, error: str
) -> None:
    pytester.makeini(f"[pytest]\n{ini}\n")
    pytester.makepyfile("def test_x(): pass")
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([error])


def _settings_probe(pytester: pytest.Pytester, where: Path, expected: dict[str, str]) -> None:
    """A test file in ``where`` asserting each ``Settings`` attribute's repr (absolute paths)."""
    where.mkdir(parents=True, exist_ok=True)
    lines = ["def test_paths(rules_rust_settings):"]
    lines += [f"    assert repr(rules_rust_settings.{k}) == {v!r}" for k, v in expected.items()]
    (where / "test_paths.py").write_text("\n".join(lines) + "\n")


@pytest.mark.parametrize("form", ["separate", "joined"])
def test_command_line_paths_are_taken_from_the_invocation_dir(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, form: str
) -> None:
    # ``--rr-template-dir ../tpl`` (a separate argument) makes pytest's rootdir the parent of proj/,
    # ``--rr-template-dir=../tpl`` does not: either way the paths are the invocation directory's.
    top = pytester.path
    (top / "tpl").mkdir()
    (top / "doc.md").write_text("# nothing\n")
    proj = top / "proj"
    _settings_probe(
        pytester,
        proj,
        {
            "template_dirs": repr((top / "tpl",)),
            "docs": repr((top / "doc.md",)),
            "report_dir": repr(proj / "rep"),
            "cache_dir": repr(proj / "cache"),
        },
    )
    monkeypatch.chdir(proj)
    values = {"template-dir": "../tpl", "doc": "../doc.md", "report": "rep", "cache-dir": "cache"}
    args = [
        arg
        for name, value in values.items()
        for arg in ([f"--rr-{name}", value] if form == "separate" else [f"--rr-{name}={value}"])
    ]
    pytester.runpytest_subprocess("-p", "no:cacheprovider", *args).assert_outcomes(passed=1)


def test_ini_paths_are_taken_from_the_ini_files_dir(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    top = pytester.path
    cfg, proj, elsewhere = top / "cfg", top / "proj", top / "elsewhere"
    (cfg / "tpl").mkdir(parents=True)
    elsewhere.mkdir()
    (cfg / "pytest.ini").write_text("[pytest]\nrr_template_dir = tpl\nrr_report = rep\n")
    _settings_probe(pytester, proj, {"template_dirs": repr((cfg / "tpl",)), "report_dir": repr(cfg / "rep")})
    monkeypatch.chdir(elsewhere)
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "-c", str(cfg / "pytest.ini"), "--rootdir", str(proj), str(proj)
    )
    result.assert_outcomes(passed=1)


def test_help_shows_each_default(pytester: pytest.Pytester) -> None:
    out = " ".join(pytester.runpytest("--help").stdout.str().split())
    assert "[default: 1800; ini: rr_build_timeout]" in out
    assert "[default: linux/amd64, linux/arm64; ini: rr_platform]" in out
    assert "[default: off; ini: rr_online]" in out
