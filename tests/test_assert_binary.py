"""assert_binary / assert_runs: silent on a match, one AssertionError listing every mismatch otherwise."""

from __future__ import annotations

import pytest
from elf_samples import ElfSamples, shared_samples

from pytest_rules_rust.errors import UsageError
from pytest_rules_rust.execution import assert_runs, binfmt_works, host_machine
from pytest_rules_rust.inspect import assert_binary, inspect_binary
from pytest_rules_rust.inspect.assertions import BINARY_EXPECTATIONS, binary_checks


@pytest.fixture(scope="session")
def samples() -> ElfSamples:
    """Real sample binaries built once per machine (see tests/elf_samples.py)."""
    return shared_samples()


def _failure(*args: object, **kwargs: object) -> str:
    with pytest.raises(AssertionError) as info:
        assert_binary(*args, **kwargs)  # type: ignore[arg-type]
    return str(info.value)


def test_matching_expectations_pass(samples: ElfSamples) -> None:
    info = assert_binary(
        samples.get("musl-mimalloc-static-stripped"),
        arch="linux/amd64",
        bits=64,
        linkage="static",
        static=True,
        pie=False,
        libc="musl",
        stripped=True,
        allocator="mimalloc",
        needed_excludes=["libc.so.6"],
    )
    assert_binary(info, arch="x86_64")  # a BinaryInfo is accepted too
    assert_binary(samples.get("aarch64-glibc-dynamic"), arch="aarch64-unknown-linux-gnu", libc="gnu")
    assert_binary(samples.get("glibc-static-pie"), linkage="static-pie", static=True, pie=True)
    assert_binary(
        samples.get("glibc-dynamic"), allocator="system", needed_includes=["libc.so.6"], build_id=True
    )


def test_every_mismatch_is_reported_with_evidence(samples: ElfSamples) -> None:
    path = samples.get("jemalloc-dynamic")
    text = _failure(path, arch="arm64", linkage="static", libc="musl", stripped=True, allocator="mimalloc")
    lines = text.splitlines()
    assert lines[0] == f"binary {path}: 5 of 5 expectations failed"
    assert "  arch: Expected: aarch64, Actual: x86_64" in lines
    assert "  linkage: Expected: static, Actual: dynamic" in lines
    assert "  libc: Expected: musl, Actual: glibc" in lines
    assert "  stripped: Expected: True, Actual: False" in lines
    assert "  allocator: Expected: mimalloc, Actual: jemalloc" in lines
    assert "    evidence: jemalloc: NEEDED libjemalloc.so.2" in lines
    assert any(x.startswith("    evidence: glibc: interpreter /lib64/ld-linux-x86-64.so.2") for x in lines)
    assert lines[-1] == f"  file: {inspect_binary(path).summary}"


def test_only_given_expectations_are_checked(samples: ElfSamples) -> None:
    text = _failure(samples.get("musl-static"), libc="musl", linkage="dynamic")
    assert "1 of 2 expectations failed" in text and "libc" not in text.split("file:")[0].replace(
        "linkage", ""
    )


def test_stripped_static_allocator_mismatch_explains_the_limit(samples: ElfSamples) -> None:
    text = _failure(samples.get("musl-static-stripped"), allocator="jemalloc")
    assert "Expected: jemalloc, Actual: system" in text
    assert "stripped (no .symtab)" in text


def test_needed_and_system_allocator(samples: ElfSamples) -> None:
    text = _failure(samples.get("mimalloc-dynamic"), allocator="system", needed_includes=["libjemalloc.so.2"])
    assert "  allocator: Expected: system, Actual: mimalloc" in text
    assert "  needed: Expected: includes libjemalloc.so.2, Actual: libmimalloc.so.2, libc.so.6" in text


def test_hardening_expectations(samples: ElfSamples) -> None:
    assert_binary(
        samples.get("hardened"),
        pie=True,
        relro="full",
        nx=True,
        bind_now=True,
        stack_protector=True,
        fortify=True,
        glibc_max="2.34",
    )
    assert_binary(samples.get("musl-static"), glibc_max="2.17")  # needs no glibc at all
    path = samples.get("unhardened")
    text = _failure(
        path, relro="full", nx=True, bind_now=True, stack_protector=True, fortify=True, glibc_max="GLIBC_2.28"
    )
    lines = text.splitlines()
    assert lines[0] == f"binary {path}: 6 of 6 expectations failed"
    assert "  relro: Expected: full, Actual: none" in lines
    assert "    evidence: no PT_GNU_RELRO segment" in lines
    assert "  nx: Expected: True, Actual: False" in lines
    assert "    evidence: PT_GNU_STACK flags RWX" in lines
    assert "  stack_protector: Expected: True, Actual: False" in lines
    assert "  glibc_max: Expected: at most GLIBC_2.28, Actual: GLIBC_2.34" in lines
    assert "    evidence: GLIBC_2.34 from libc.so.6: __libc_start_main" in lines


def test_unknown_hardening_says_why(samples: ElfSamples) -> None:
    text = _failure(samples.get("musl-static-stripped"), stack_protector=False, fortify=False)
    assert "  stack_protector: Expected: False, Actual: unknown" in text
    assert "evidence: unknown: no .symtab and nothing imported" in text


def test_bad_expectation_values_are_usage_errors(samples: ElfSamples) -> None:
    with pytest.raises(UsageError, match=r"relro='yes'"):
        assert_binary(samples.get("musl-static"), relro="yes")
    with pytest.raises(UsageError, match=r"glibc_max='latest'"):
        assert_binary(samples.get("musl-static"), glibc_max="latest")
    with pytest.raises(UsageError, match=r"linkage='staticc'"):
        assert_binary(samples.get("musl-static"), linkage="staticc")
    with pytest.raises(UsageError, match=r"allocator='tcmalloc'"):
        assert_binary(samples.get("musl-static"), allocator="tcmalloc")


@pytest.mark.skipif(host_machine() != "x86_64", reason="the samples' 'native' binaries are x86_64")
def test_assert_runs(samples: ElfSamples) -> None:
    r = assert_runs(samples.get("glibc-dynamic"), ["rc", "4"], expect_rc=4, expect_stdout="hello 3\n")
    assert r.via == "native"
    with pytest.raises(AssertionError) as info:
        assert_runs(
            samples.get("glibc-dynamic"),
            ["stderr"],
            expect_rc=1,
            expect_stdout_contains="bye",
            expect_stderr_contains="oops: No such",
            expect_stdout_matches=r"^hello \d+$",
        )
    lines = str(info.value).splitlines()
    assert lines[0].endswith("2 expectation(s) failed")
    assert "  exit code: Expected: 1, Actual: 0" in lines
    assert "  stdout contains: Expected: 'bye', Actual: not found" in lines
    assert "  stderr: 'oops: No such file or directory\\n'" in lines
    with pytest.raises(AssertionError, match=r"finished: Expected: within 1s, Actual: killed after"):
        assert_runs(samples.get("musl-static"), ["sleep"], timeout_s=1)


@pytest.mark.skipif(
    not binfmt_works("aarch64"), reason="binfmt qemu-aarch64 not working: scripts/provision.sh"
)
def test_assert_runs_aarch64(samples: ElfSamples) -> None:
    assert_runs(samples.get("aarch64-musl-static-stripped"), expect_stdout="hello 1\n")


PYTESTER_TEST = """
from pytest_rules_rust.inspect.assertions import assert_binary

def test_it():
    assert_binary({path!r}, libc="glibc", stripped=True)
"""


@pytest.mark.parametrize("rewrite", [True, False])
def test_failure_reads_well_in_pytest(samples: ElfSamples, pytester: pytest.Pytester, rewrite: bool) -> None:
    path = str(samples.get("musl-static"))
    if rewrite:
        pytester.makeconftest(
            "import pytest\npytest.register_assert_rewrite('pytest_rules_rust.inspect.assertions')\n"
        )
    pytester.makepyfile(PYTESTER_TEST.format(path=path))
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", *([] if rewrite else ["--assert=plain"]))
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            f"E * binary {path}: 2 of 2 expectations failed",
            "E *  libc: Expected: glibc, Actual: musl",
            "E *    evidence: musl: symbols __init_libc*",
            "E *  stripped: Expected: True, Actual: False",
        ]
    )
    assert "def assert_binary" not in result.stdout.str()  # the helper's frame is hidden


FIXTURE_TEST = """
def test_fixture(binary_inspector):
    info = binary_inspector.check({path!r}, arch="amd64", libc="musl", linkage="static")
    assert info.stripped is False
    assert binary_inspector.run({path!r}, ["rc", "5"]).rc == 5
    binary_inspector.check({path!r}, allocator="jemalloc")
"""


@pytest.mark.skipif(host_machine() != "x86_64", reason="the samples' 'native' binaries are x86_64")
def test_binary_inspector_fixture(samples: ElfSamples, pytester: pytest.Pytester) -> None:
    path = str(samples.get("musl-static"))
    pytester.makepyfile(FIXTURE_TEST.format(path=path))
    result = pytester.runpytest_subprocess(
        "-p", "pytest_rules_rust.plugin.binaries", "-p", "no:cacheprovider"
    )
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["E * allocator: Expected: jemalloc, Actual: system*"])


@pytest.mark.parametrize("allocator", ["jemalloc", "system"])
@pytest.mark.parametrize("sample", ["glibc-dynamic", "musl-mimalloc-static-stripped", "jemalloc-dynamic"])
def test_every_expectation_says_where_its_actual_value_was_read(
    samples: ElfSamples, sample: str, allocator: str
) -> None:
    every: dict[str, object] = {
        "arch": "aarch64", "bits": 32, "elf_type": "EXEC", "linkage": "dynamic", "static": True, "pie": False,
        "libc": "musl", "interpreter": "/lib/ld-musl-x86_64.so.1", "stripped": False, "debug_info": True,
        "allocator": allocator, "build_id": True, "relro": "full", "nx": True, "bind_now": True,
        "stack_protector": True, "fortify": True, "glibc_max": "2.17",
        "needed_includes": ["libc.so.6"], "needed_excludes": ["libm.so.6"],
    }  # fmt: skip
    assert set(every) == set(BINARY_EXPECTATIONS)
    checks = binary_checks(inspect_binary(samples.get(sample)), every)
    assert {c.name for c in checks} == set(BINARY_EXPECTATIONS) - {"needed_includes", "needed_excludes"} | {
        "needed"
    }
    assert [c.name for c in checks if not c.evidence.strip()] == []
