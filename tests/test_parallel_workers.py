"""Four pytest-xdist workers doing the same expensive work at once: each cache entry is filled once,
each image built once, nothing is corrupted, and every worker gets a usable result.

Each scenario writes a small test module into ``pytester``'s directory and runs it with ``-n 4`` in a
subprocess; the four tests meet at a file barrier so they really race. Fills and builds are counted
from the outside (a line appended per fill, the image build's progress lines, a counting wrapper
around the real ``cargo``, the cargo builder's own list of compiled units).
"""

from __future__ import annotations

import hashlib
import json
import os
import pwd
import subprocess
import uuid
from pathlib import Path

import pytest
from reliability_helpers import REPO, builder_image_or_skip, busybox_or_skip, engine_or_skip

from pytest_rules_rust.cache import Cache

pytest_plugins = ["pytester"]

WORKERS = 4

# Shared by every generated module: a barrier so the four workers start the contended step together,
# and a per-worker JSON record of what each one saw.
PRELUDE = f"""
import json, os, time
from pathlib import Path

SHARED = Path(os.environ["RR_PAR_SHARED"])

def barrier(name, n={WORKERS}, timeout=120):
    me = os.environ.get("PYTEST_XDIST_WORKER", "main")
    (SHARED / f"barrier-{{name}}-{{me}}").touch()
    deadline = time.monotonic() + timeout
    while len(list(SHARED.glob(f"barrier-{{name}}-*"))) < n:
        assert time.monotonic() < deadline, f"only some workers reached barrier {{name}}"
        time.sleep(0.05)

def record(name, **values):
    me = os.environ["PYTEST_XDIST_WORKER"]
    (SHARED / f"result-{{name}}-{{me}}.json").write_text(json.dumps(values))
"""


def _run(pytester: pytest.Pytester, body: str, shared: Path, timeout: float = 600) -> list[dict[str, object]]:
    """Run ``body`` (four parametrised tests) under ``-n 4``; return each worker's record."""
    shared.mkdir(parents=True, exist_ok=True)
    pytester.makepyfile(test_par=PRELUDE + body)
    # pytester points HOME at its own directory; rustup's cargo proxy and cargo's registry live in ours.
    home = Path(pwd.getpwuid(os.getuid()).pw_dir)
    env = {
        "RR_PAR_SHARED": str(shared),
        "RUSTUP_HOME": str(home / ".rustup"),
        "CARGO_HOME": str(home / ".cargo"),
    }
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update({k: os.environ.get(k) or v for k, v in env.items()} | {"RR_PAR_SHARED": str(shared)})
    try:
        result = pytester.runpytest_subprocess("-n", str(WORKERS), "-p", "no:cacheprovider", timeout=timeout)
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    assert result.ret == 0, "\n".join(result.outlines[-60:])
    result.assert_outcomes(passed=WORKERS)
    records = [json.loads(p.read_text()) for p in sorted(shared.glob("result-*.json"))]
    assert len(records) == WORKERS, f"expected {WORKERS} worker records, got {len(records)}"
    assert len({r["worker"] for r in records}) == WORKERS, "the four tests did not run on four workers"
    return records


def test_cache_entry_filled_once(pytester: pytest.Pytester, tmp_path: Path) -> None:
    shared, cache = tmp_path / "shared", tmp_path / "cache"
    body = f"""
import hashlib, os, pytest
from pytest_rules_rust.cache import Cache

@pytest.mark.parametrize("n", range({WORKERS}))
def test_fill(n):
    def fill(d):
        with open(SHARED / "fills.log", "a") as log:
            log.write(os.environ["PYTEST_XDIST_WORKER"] + "\\n")
        time.sleep(1.0)  # a slow fill widens the race
        for i in range(50):
            (d / f"part-{{i}}").write_bytes(os.urandom(4096))
    barrier("fill")
    entry = Cache(Path({str(cache)!r})).ensure("shared/entry", fill)
    digest = hashlib.sha256(b"".join((entry / f"part-{{i}}").read_bytes() for i in range(50))).hexdigest()
    record("fill", worker=os.environ["PYTEST_XDIST_WORKER"], entry=str(entry), digest=digest)
"""
    records = _run(pytester, body, shared)
    fills = (shared / "fills.log").read_text().split()
    assert len(fills) == 1, f"the entry was filled {len(fills)} times: {fills}"
    assert len({r["digest"] for r in records}) == 1, "workers saw different contents"
    entry = Path(str(records[0]["entry"]))
    assert sorted(p.name for p in entry.iterdir()) == sorted([".complete", *(f"part-{i}" for i in range(50))])
    leftovers = [p.name for p in entry.parent.iterdir() if p.name != "entry"]
    assert leftovers == [], f"staging directories left behind: {leftovers}"


@pytest.mark.container
def test_image_built_once(pytester: pytest.Pytester, tmp_path: Path) -> None:
    engine = engine_or_skip()
    busybox_or_skip(Cache())  # the recipe's code path works here at all (built once per machine)
    name = f"busybox-par-{uuid.uuid4().hex[:8]}"  # a recipe no one has built: this run must build it
    shared, cache = tmp_path / "shared", tmp_path / "cache"
    body = f"""
import os, pytest
from pytest_rules_rust.cache import Cache
from pytest_rules_rust.containers.images import busybox_recipe, ensure_image

@pytest.mark.parametrize("n", range({WORKERS}))
def test_image(n):
    me = os.environ["PYTEST_XDIST_WORKER"]
    def progress(line):
        with open(SHARED / "progress.log", "a") as log:
            log.write(f"{{me}} {{line}}\\n")
    barrier("image")
    tag = ensure_image(busybox_recipe({name!r}), Cache(Path({str(cache)!r})), progress=progress)
    record("image", worker=me, tag=tag)
"""
    from pytest_rules_rust.containers.images import busybox_recipe

    tag = busybox_recipe(name).tag
    try:
        records = _run(pytester, body, shared)
        progress = (shared / "progress.log").read_text().splitlines()
        built = [line for line in progress if f" built {tag}" in line]
        assert len(built) == 1, "the image was built {} times:\n{}".format(len(built), "\n".join(progress))
        assert {r["tag"] for r in records} == {tag}
        assert engine.client.images.get(tag).attrs["Architecture"] == "amd64"
    finally:
        subprocess.run(["docker", "rmi", "-f", tag], capture_output=True, check=False)


def _counting_cargo(directory: Path, count: Path) -> Path:
    """A wrapper that appends one line per ``cargo`` run to ``count`` and runs the real cargo."""
    real = subprocess.run(["bash", "-c", "command -v cargo"], capture_output=True, text=True, check=True)
    wrapper = directory / "cargo"
    wrapper.write_text(f'#!/bin/sh\necho "$*" >> {count}\nexec {real.stdout.strip()} "$@"\n')
    wrapper.chmod(0o755)
    return wrapper


def test_crates_vendored_once(pytester: pytest.Pytester, tmp_path: Path) -> None:
    shared, cache = tmp_path / "shared", tmp_path / "cache"
    shared.mkdir()
    runs = shared / "cargo-runs.log"
    wrapper = _counting_cargo(shared, runs)
    body = f"""
import hashlib, os, pytest
from pytest_rules_rust.cache import Cache
from pytest_rules_rust.builders.crates import vendor_crates
from pytest_rules_rust.workspaces import materialise

@pytest.mark.parametrize("n", range({WORKERS}))
def test_vendor(n, tmp_path):
    me = os.environ["PYTEST_XDIST_WORKER"]
    ws = materialise("from_cargo", tmp_path / "ws")
    barrier("vendor")
    vendor = vendor_crates(ws.root, Cache(Path({str(cache)!r})))
    files = sorted(p for p in vendor.rglob("*") if p.is_file())
    digest = hashlib.sha256(b"".join(p.read_bytes() for p in files)).hexdigest()
    crates = sorted(p.name for p in vendor.iterdir())
    record("vendor", worker=me, vendor=str(vendor), digest=digest, crates=crates)
"""
    os.environ["CARGO"] = str(wrapper)
    try:
        records = _run(pytester, body, shared)
    finally:
        del os.environ["CARGO"]
    vendor_runs = [line for line in runs.read_text().splitlines() if line.startswith("vendor ")]
    assert len(vendor_runs) == 1, f"cargo vendor ran {len(vendor_runs)} times: {vendor_runs}"
    assert len({r["digest"] for r in records}) == 1 and len({r["vendor"] for r in records}) == 1
    lock = (REPO / "fixture_workspaces" / "from_cargo" / "Cargo.lock").read_text()
    assert len(records[0]["crates"]) == lock.count('source = "registry+'), "one directory per locked crate"  # type: ignore[arg-type]


@pytest.mark.container
@pytest.mark.cargo
def test_same_build_on_four_workers(pytester: pytest.Pytester, tmp_path: Path) -> None:
    builder_image_or_skip(Cache())  # built once per machine, outside the race
    shared, cache = tmp_path / "shared", tmp_path / "cache"  # a fresh cache: the target dir starts cold
    body = f"""
import os, subprocess, pytest
from pytest_rules_rust.builders import build
from pytest_rules_rust.builders.base import BuildRequest
from pytest_rules_rust.cache import Cache
from pytest_rules_rust.platforms import AMD64
from pytest_rules_rust.workspaces import materialise

@pytest.mark.parametrize("n", range({WORKERS}))
def test_build(n, tmp_path):
    me = os.environ["PYTEST_XDIST_WORKER"]
    ws = materialise("cross", tmp_path / "ws")
    barrier("build")
    result = build(BuildRequest(ws, AMD64, "gnu"), tmp_path / "out", cache=Cache(Path({str(cache)!r})))
    binary = result.artifact("hello_cross", "binary").path
    out = subprocess.run([str(binary)], capture_output=True, text=True, timeout=60, check=True).stdout
    record("build", worker=me, output=out, compiled=result.extra["compiled"],
           target_dir=result.extra["target_dir"], log=str(result.log))
"""
    records = _run(pytester, body, shared, timeout=900)
    assert {r["output"].splitlines()[0] for r in records} == {"hello from x86_64"}  # type: ignore[attr-defined]
    assert len({r["target_dir"] for r in records}) == 1, "all workers share one target cache"
    compiles = [r["worker"] for r in records if any("hello_cross" in u for u in r["compiled"])]  # type: ignore[attr-defined]
    assert len(compiles) == 1, f"hello_cross was compiled by {compiles}; expected exactly one worker"
    digest = {
        hashlib.sha256(
            Path(str(r["target_dir"]))
            .joinpath("x86_64-unknown-linux-gnu", "debug", "hello_cross")
            .read_bytes()
        ).hexdigest()
        for r in records
    }
    assert len(digest) == 1


@pytest.mark.container
@pytest.mark.bazel
def test_bazel_image_and_bazelisk_download_once(pytester: pytest.Pytester, tmp_path: Path) -> None:
    """Four workers want the Bazel image and Bazel 7.4.1 at once: the base image, the Bazelisk layer
    and the real Bazelisk's download step each run once; the others wait and share the outcome
    (the downloaded Bazel, or, without a network, Bazelisk's own failure)."""
    engine_or_skip()
    busybox_or_skip(Cache())
    name = f"bazel-par-{uuid.uuid4().hex[:8]}"  # a base and layer no one has built: this run must
    shared, cache = tmp_path / "shared", tmp_path / "cache"
    body = f"""
import os, pytest
from pytest_rules_rust.containers.bazel_image import BAZELISK_PATH, BazelImage, ensure_bazel_image
from pytest_rules_rust.builders.bazel_download import bazelisk_download
from pytest_rules_rust.builders.bazel_paths import BazelPaths
from pytest_rules_rust.builders.bazel_tool import BazelVersion
from pytest_rules_rust.cache import Cache
from pytest_rules_rust.errors import BazelUnavailable
from pytest_rules_rust.containers.images import busybox_recipe
from pytest_rules_rust.platforms import AMD64

@pytest.mark.parametrize("n", range({WORKERS}))
def test_bazel(n, tmp_path):
    me = os.environ["PYTEST_XDIST_WORKER"]
    def progress(line):
        with open(SHARED / "progress.log", "a") as log:
            log.write(f"{{me}} {{line}}\\n")
    cache = Cache(Path({str(cache)!r}))
    barrier("image")
    image = BazelImage(busybox_recipe({name!r}), name={name!r})
    tag = ensure_bazel_image(image, cache, progress=progress)
    root = cache.path("bazel")
    dirs = [root / d for d in ("repository", "disk", "home", "bazelisk")]
    paths = BazelPaths(tmp_path, *dirs, tmp_path)
    for d in (paths.repository_cache, paths.disk_cache, paths.home, paths.bazelisk_home):
        d.mkdir(parents=True, exist_ok=True)
    barrier("download")
    log = SHARED / f"download-{{me}}.log"
    try:
        version = BazelVersion("7.4.1", "test")
        outcome = bazelisk_download(cache, tag, AMD64, BAZELISK_PATH, version, paths, log, 600)
    except BazelUnavailable as exc:
        outcome = exc.message
    record("bazel", worker=me, tag=tag, outcome=outcome, ran=log.exists())
"""
    from pytest_rules_rust.containers.bazel_image import BazelImage
    from pytest_rules_rust.containers.images import busybox_recipe

    image = BazelImage(busybox_recipe(name), name=name)
    try:
        records = _run(pytester, body, shared)
        progress = (shared / "progress.log").read_text().splitlines()
        for tag in (image.base.tag, image.tag):
            built = [line for line in progress if f" built {tag}" in line]
            assert len(built) == 1, "{} was built {} times:\n{}".format(tag, len(built), "\n".join(progress))
        assert {r["tag"] for r in records} == {image.tag}
        ran = [r["worker"] for r in records if r["ran"]]
        assert len(ran) == 1, f"Bazelisk's download step ran on {ran}; expected exactly one worker"
        outcomes = {str(r["outcome"]) for r in records}
        assert len(outcomes) == 1, outcomes
        outcome = outcomes.pop()
        assert outcome == "7.4.1" or outcome.startswith("Bazelisk could not download Bazel 7.4.1: "), outcome
    finally:
        for tag in (image.tag, image.base.tag):
            subprocess.run(["docker", "rmi", "-f", tag], capture_output=True, check=False)
