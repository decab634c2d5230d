"""No input takes preflight down: each hostile file gives exit 0/1, a finding on it, no traceback.

The command line runs in a subprocess, as a user runs it, so a segfault or a stack overflow in
the interpreter would show as an exit code other than 0/1.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

from pytest_rules_rust.preflight import guard, preflight_workspace

MODULE = 'module(name = "hostile")\n\nbazel_dep(name = "rules_rust", version = "0.46.0")\n'
GOOD_BUILD = 'filegroup(name = "ok", srcs = [":missing_on_purpose"])\n'


def workspace(tmp_path: Path, files: dict[str, str | bytes]) -> Path:
    root = tmp_path / "ws"
    for rel, content in {"MODULE.bazel": MODULE, "good/BUILD.bazel": GOOD_BUILD, **files}.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
    return root


def run_cli(root: Path) -> tuple[int, list[dict[str, object]], str]:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest_rules_rust",
            "preflight",
            str(root),
            "--json",
            "--no-buildifier",
            "--no-cache",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    findings = json.loads(proc.stdout)["findings"] if proc.stdout.strip().startswith("{") else []
    return proc.returncode, findings, proc.stderr


def codes_on(findings: list[dict[str, object]], file: str) -> set[object]:
    return {f["code"] for f in findings if f["file"] == file}


def assert_survived(root: Path, file: str, code: str) -> None:
    rc, findings, stderr = run_cli(root)
    assert rc in (0, 1), f"exit {rc}\n{stderr}"
    assert "Traceback" not in stderr, stderr
    assert code in codes_on(findings, file), findings
    # the rest of the workspace was still checked: the planted missing target is found
    assert "RR102" in codes_on(findings, "good/BUILD.bazel"), findings


@pytest.mark.parametrize(
    "shape",
    [
        "x = " + "[" * 10_000 + "]" * 10_000 + "\n",
        "x = " + "-" * 10_000 + "1\n",
        "x = " + "+".join(["1"] * 10_000) + "\n",
        "x = struct()" + ".a" * 10_000 + "\n",
        "def f():\n" + "".join("  " * (i + 1) + "if True:\n" for i in range(300)) + "  " * 301 + "pass\n",
    ],
    ids=["brackets", "unary", "plus", "dots", "indent"],
)
def test_deep_nesting_is_refused_before_the_interpreter(tmp_path: Path, shape: str) -> None:
    root = workspace(tmp_path, {"deep/BUILD.bazel": shape})
    assert_survived(root, "deep/BUILD.bazel", "RR004")


def test_deep_nesting_in_module_bazel(tmp_path: Path) -> None:
    root = workspace(tmp_path, {"MODULE.bazel": MODULE + "x = " + "(" * 10_000 + "1" + ")" * 10_000 + "\n"})
    rc, findings, stderr = run_cli(root)
    assert rc in (0, 1) and "Traceback" not in stderr, stderr
    assert "RR004" in codes_on(findings, "MODULE.bazel"), findings


def test_nesting_below_the_limit_still_evaluates_on_the_big_stack(tmp_path: Path) -> None:
    # 3,000 nested calls overflow the default 8 MB stack; within the limits, the big stack takes them.
    limits = guard.Limits(max_depth=5_000)
    text = "x = " + "str(" * 3_000 + "1" + ")" * 3_000 + "\n"
    assert guard.shape_problem("BUILD.bazel", text, limits) is None
    root = workspace(tmp_path, {"deep/BUILD.bazel": "x = " + "(" * 150 + "1" + ")" * 150 + "\n"})
    report = preflight_workspace(root, use_buildifier=False)
    assert not [f for f in report.findings if f.file == "deep/BUILD.bazel"], report.format()


def test_the_quick_limit_check_never_hides_a_problem(monkeypatch: pytest.MonkeyPatch) -> None:
    # Small limits and random text made of what the measures count (brackets, indents, operators,
    # strings and comments, which the exact measures skip): the quick path must agree every time.
    limits = guard.Limits(max_depth=4, max_chain=6, max_tokens=40)
    rng = random.Random(15)
    parts = [*"([{)]} \t\n#'\"+-.=a", " in ", "not"]
    texts = ["".join(rng.choice(parts) for _ in range(rng.randrange(60))) for _ in range(3_000)]
    quick = [guard.shape_problem("BUILD.bazel", t, limits) for t in texts]
    monkeypatch.setattr(guard, "_clearly_within", lambda text, limits: False)
    exact = [guard.shape_problem("BUILD.bazel", t, limits) for t in texts]
    assert quick == exact
    assert sum(f is not None for f in exact) > 100, "the sample reaches the limits"


def test_five_megabytes_of_random_bytes(tmp_path: Path) -> None:
    rng = random.Random(13)
    root = workspace(tmp_path, {"noise/BUILD.bazel": rng.randbytes(5 * 1024 * 1024)})
    assert_survived(root, "noise/BUILD.bazel", "RR004")


def test_random_bytes_under_the_size_limit(tmp_path: Path) -> None:
    rng = random.Random(14)
    root = workspace(tmp_path, {"noise/BUILD.bazel": rng.randbytes(1024 * 1024)})
    assert_survived(root, "noise/BUILD.bazel", "RR005")  # not UTF-8 (and then a syntax error)


def test_nul_byte(tmp_path: Path) -> None:
    root = workspace(tmp_path, {"nul/BUILD.bazel": 'filegroup(name = "a\0b")\n'})
    assert_survived(root, "nul/BUILD.bazel", "RR005")


def test_invalid_utf8_names_the_line(tmp_path: Path) -> None:
    root = workspace(tmp_path, {"latin1/BUILD.bazel": b'# ok\nfilegroup(name = "caf\xe9")\n'})
    assert_survived(root, "latin1/BUILD.bazel", "RR005")
    report = preflight_workspace(root, use_buildifier=False)
    (bad,) = [f for f in report.findings if f.file == "latin1/BUILD.bazel" and f.code == "RR005"]
    assert bad.line == 2 and "UTF-8" in bad.message


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="the platform has no symbolic links")
def test_symlink_loops(tmp_path: Path) -> None:
    root = workspace(tmp_path, {"loop/defs.txt": ""})
    (root / "loop" / "BUILD.bazel").symlink_to("BUILD.bazel")  # a link to itself
    (root / "loop" / "sub").symlink_to(root / "loop")  # a directory link back up
    (root / "good" / "BUILD.bazel").write_text('load("//loop:self.bzl", "x")\n' + GOOD_BUILD)
    (root / "loop" / "self.bzl").symlink_to("self.bzl")
    rc, findings, stderr = run_cli(root)
    assert rc in (0, 1) and "Traceback" not in stderr, stderr
    assert findings, "a load of a looping link must be reported"
    assert "RR102" in codes_on(findings, "good/BUILD.bazel") or "RR103" in codes_on(
        findings, "good/BUILD.bazel"
    )


def test_an_exception_on_one_file_is_a_finding_there(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Any failure while handling one file (here: injected into the scope builder, as a stand-in for a
    preflight bug or an interpreter panic) is a finding on that file; the rest is still checked."""
    from pytest_rules_rust.preflight import scope

    real = scope.injected_load

    def explode(flavour: str, source: str) -> str | None:
        if "EXPLODE" in source:
            raise IndexError("index out of bounds: the len is 3 but the index is 7")
        return real(flavour, source)

    monkeypatch.setattr(scope, "injected_load", explode)
    root = workspace(tmp_path, {"bad/BUILD.bazel": "# EXPLODE\n"})
    report = preflight_workspace(root, use_buildifier=False)
    (crash,) = [f for f in report.findings if f.file == "bad/BUILD.bazel"]
    assert crash.code == "RR009" and "IndexError" in crash.message and "please report" in crash.hint
    assert any(f.file == "good/BUILD.bazel" and f.code == "RR102" for f in report.findings)


def test_panic_exceptions_are_isolated_too() -> None:
    """pyo3 turns a Rust panic into PanicException, a BaseException: it must not escape."""

    class PanicLike(BaseException):
        pass

    def panic() -> None:
        raise PanicLike("index out of bounds")

    seen: list[object] = []
    assert guard.isolated("BUILD.bazel", "evaluating", panic, seen.append) is None
    assert len(seen) == 1


def test_deep_nesting_in_a_markdown_block(tmp_path: Path) -> None:
    doc = tmp_path / "deep.md"
    deep = "x = " + "[" * 10_000 + "]" * 10_000
    doc.write_text(f'```starlark\n{deep}\n```\n\n```starlark\ny = "open\n```\n')
    proc = subprocess.run(
        [sys.executable, "-m", "pytest_rules_rust", "preflight", str(doc), "--json", "--no-buildifier"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr
    codes = [(f["code"], f["line"]) for f in json.loads(proc.stdout)["findings"]]
    assert ("RR004", 2) in codes and ("RR001", 6) in codes, codes


def test_a_loop_that_would_run_for_hours_is_stopped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(guard, "LIMITS", guard.Limits(max_eval_seconds=0.5))
    loop = "def spin():\n    return len([x for x in range(2000000000) if x < 0])\n\nN = spin()\n"
    root = workspace(tmp_path, {"slow/defs.bzl": loop, "slow/BUILD.bazel": 'load(":defs.bzl", "N")\n'})
    report = preflight_workspace(root, use_buildifier=False)
    (stopped,) = [f for f in report.findings if f.file == "slow/defs.bzl"]
    assert stopped.code == "RR004" and "stopped after 0.5 s" in stopped.message
    assert any(f.file == "good/BUILD.bazel" and f.code == "RR102" for f in report.findings)
