"""The hardening facts and glibc floor against an outside oracle: GNU readelf (binutils), with
aarch64-linux-gnu-readelf for arm64 files, on a deterministic sample of the machine's own ELF
files plus the project's builds. Every disagreement is listed; each fact must agree on at least
99.5 % of the files, and a disagreement the test does not explain fails it.

Cost: about 1,170 files; readelf runs on two threads while the inspector reads the next files,
well under a minute on two cores.
"""

from __future__ import annotations

import os
import shutil
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from elf_oracle import (
    EM_AARCH64,
    FACTS,
    Candidate,
    candidates,
    elf_machine,
    readelf_facts,
    readelf_for,
    sample,
)
from elf_samples import SAMPLES, ElfSamples, shared_samples

from pytest_rules_rust.cache import Cache
from pytest_rules_rust.errors import InspectError
from pytest_rules_rust.inspect.elf import inspect_binary

SYSTEM_FILES = 850  # amd64 and the odd other machine (i386, arm, riscv firmware …)
SYSTEM_AARCH64 = 300  # from libc6-dev-arm64-cross, gcc-aarch64-linux-gnu, musl-dev:arm64
MIN_FILES = 1_000
MIN_AARCH64 = 100
AGREEMENT = 0.995

# Disagreements that are the oracle's quirk, not ours: (path substring, fact) -> reason.
# None are known today; an entry here must say why readelf's reading is the wrong one.
EXPLAINED: dict[tuple[str, str], str] = {}


def _project_builds(samples: ElfSamples) -> list[Candidate]:
    """The sample binaries (tests/elf_samples.py) and any cargo outputs in the project's cache."""
    found: list[Candidate] = []
    for name in sorted(SAMPLES):
        try:
            path = samples.get(name)
        except pytest.skip.Exception:  # its compiler is missing: the system files still count
            continue
        found.append(Candidate(path, elf_machine(path) == EM_AARCH64))
    for profile in ("debug", "release"):  # <cache>/builds/cargo/<key>/<triple>/<profile>/<binary>
        for path in sorted(Cache().root.glob(f"builds/cargo/*/*/{profile}/*")):
            machine = elf_machine(path) if path.is_file() and os.access(path, os.X_OK) else None
            if machine is not None:
                found.append(Candidate(path, machine == EM_AARCH64))
    return found


def _ours(path: Path) -> dict[str, object] | str:
    try:
        info = inspect_binary(path)
    except InspectError as exc:
        return exc.message
    return {fact: getattr(info, fact) for fact in FACTS}


@pytest.fixture(scope="module")
def comparison() -> tuple[list[Candidate], dict[Path, dict[str, object] | str], dict[Path, object]]:
    if shutil.which("readelf") is None:
        pytest.skip("the oracle is GNU readelf: apt-get install binutils")
    found = list(candidates())
    files = (
        sample((c for c in found if not c.aarch64), SYSTEM_FILES)
        + sample((c for c in found if c.aarch64), SYSTEM_AARCH64)
        + _project_builds(shared_samples())
    )
    ours: dict[Path, dict[str, object] | str] = {}
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {c.path: pool.submit(readelf_facts, c.path, readelf_for(c.aarch64)) for c in files}
        for c in files:
            ours[c.path] = _ours(c.path)
        theirs = {path: future.result() for path, future in futures.items()}
    return files, ours, theirs


def test_the_sample_is_large_and_covers_both_architectures(
    comparison: tuple[list[Candidate], dict[Path, object], dict[Path, object]],
) -> None:
    files, _, theirs = comparison
    readable = [c for c in files if isinstance(theirs[c.path], dict)]
    arm = sum(c.aarch64 for c in readable)
    assert len(readable) >= MIN_FILES, f"only {len(readable)} ELF files readelf can read"
    assert arm >= MIN_AARCH64, f"only {arm} arm64 files: apt-get install libc6-dev-arm64-cross"
    assert len(readable) - arm >= MIN_AARCH64


def test_every_fact_agrees_with_readelf(
    comparison: tuple[list[Candidate], dict[Path, object], dict[Path, object]],
) -> None:
    files, ours, theirs = comparison
    unreadable = [
        f"{c.path}: ours: {ours[c.path] if isinstance(ours[c.path], str) else 'read'}; "
        f"readelf: {theirs[c.path] if isinstance(theirs[c.path], str) else 'read'}"
        for c in files
        if isinstance(ours[c.path], str) != isinstance(theirs[c.path], str)
    ]
    compared = [c for c in files if isinstance(ours[c.path], dict) and isinstance(theirs[c.path], dict)]
    agree: Counter[str] = Counter()
    disagreements: list[str] = []
    unexplained: list[str] = []
    for c in compared:
        mine, other = ours[c.path], theirs[c.path]
        assert isinstance(mine, dict) and isinstance(other, dict)
        for fact in FACTS:
            if mine[fact] == other[fact]:
                agree[fact] += 1
                continue
            line = f"{c.path} {fact}: ours {mine[fact]!r}, readelf {other[fact]!r}"
            reason = next(
                (r for (part, f), r in EXPLAINED.items() if f == fact and part in str(c.path)), None
            )
            disagreements.append(line + (f" ({reason})" if reason else ""))
            if reason is None:
                unexplained.append(line)
    figures = ", ".join(f"{fact} {agree[fact] / len(compared):.2%}" for fact in FACTS)
    arm = sum(c.aarch64 for c in compared)
    print(f"\nreadelf oracle: {len(compared)} files ({arm} arm64); agreement: {figures}")
    for fact in FACTS:  # the spread of verdicts the agreement covers
        seen = Counter(str(ours[c.path][fact]) for c in compared)  # type: ignore[index]
        print(f"  {fact}: {', '.join(f'{v} {n}' for v, n in seen.most_common(8))}")
    print("\n".join(["disagreements:", *disagreements] if disagreements else ["no disagreements"]))
    assert not unreadable, "one reader failed where the other did not:\n" + "\n".join(unreadable)
    low = [f for f in FACTS if agree[f] / len(compared) < AGREEMENT]
    assert not low, f"agreement below {AGREEMENT:.1%} for {low}: {figures}\n" + "\n".join(disagreements)
    assert not unexplained, "unexplained disagreements with readelf:\n" + "\n".join(unexplained)
