"""What the musl_jemalloc_oci release profile promises (no symbols, static, no interpreter), read
from its real Cargo.toml and checked on real binaries that keep or break each promise."""

from __future__ import annotations

from pathlib import Path

import pytest
from elf_samples import ElfSamples, shared_samples

from pytest_rules_rust.inspect.elf import inspect_binary
from pytest_rules_rust.profile_promises import promises
from pytest_rules_rust.workspaces import builtin_template_dirs

OCI = builtin_template_dirs()[0] / "musl_jemalloc_oci"


@pytest.fixture(scope="module")
def samples() -> ElfSamples:
    """Real sample binaries built once per machine (see tests/elf_samples.py)."""
    return shared_samples()


def test_the_release_profile_promises_no_symbols_static_no_interpreter() -> None:
    musl = promises(OCI, "release", "musl")
    assert musl.expected == {"stripped": True, "debug_info": False, "static": True}
    assert musl.no_interpreter
    assert musl.sources["stripped"] == '[profile.release] strip = "symbols"'
    gnu = promises(OCI, "release", "gnu")
    assert gnu.expected == {"stripped": True, "debug_info": False} and not gnu.no_interpreter
    assert promises(OCI, "debug", "gnu").expected == {}  # [profile.dev] promises nothing


def test_a_binary_that_keeps_the_promises(samples: ElfSamples) -> None:
    info = inspect_binary(samples.get("musl-static-stripped"))
    assert promises(OCI, "release", "musl").problems(info) == []


def test_each_broken_promise_names_the_setting_behind_it(samples: ElfSamples) -> None:
    info = inspect_binary(samples.get("glibc-dynamic"))
    assert promises(OCI, "release", "musl").problems(info) == [
        "static: Expected: True, Actual: False (a musl build links statically)",
        'stripped: Expected: True, Actual: False ([profile.release] strip = "symbols")',
        f"interpreter: Expected: None, Actual: {info.interpreter} (a static binary has none)",
    ]


def test_strip_debuginfo_promises_only_no_debug_info(tmp_path: Path) -> None:
    (tmp_path / "Cargo.toml").write_text('[package]\nname = "x"\n[profile.release]\nstrip = "debuginfo"\n')
    assert promises(tmp_path, "release", "gnu").expected == {"debug_info": False}
    assert promises(tmp_path / "missing", "release", "gnu").expected == {}
