"""Fault-injection soak: builds and pytest sessions killed at random points on one shared cache.

2-4 workers run, concurrently and against one cache directory, CLI builds and pytest sessions
(``rules_rust_build``) of small fixture workspaces, and inject faults: SIGINT, SIGTERM or SIGKILL
at a random moment, a build error (a workspace whose Rust does not compile) or a timeout
(``--timeout`` shorter than the build). It stops after ``--faults`` faults or ``--minutes``,
whichever comes first. Then it checks, and prints:

* leftovers: containers/networks/volumes of the soak's session still present once the reap time
  (10 s) has passed, and the slowest removal seen after any run ended;
* corrupted entries: vendored crates whose files no longer match cargo's checksums, complete
  cache entries without content, and stale ``.partial`` fill directories;
* a final, unfaulted build of every workspace and platform used, each checked as an ELF file.

Containers run with ``--network none``; the only network use is the warm-up's one-time vendoring
of crates into a fresh cache (skipped when ``--cache-dir`` already holds them).

    .venv/bin/python benchmarks/soak_faults.py [--faults 50] [--workers 3] [--minutes 20] [--seed N]
"""

from __future__ import annotations

import argparse
import collections
import hashlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from pytest_rules_rust.cache import COMPLETE
from pytest_rules_rust.containers import Engine, detect_engine, labelled_resources
from pytest_rules_rust.containers.ownership import SESSION_ENV
from pytest_rules_rust.inspect.elf import inspect_binary

REPO = Path(__file__).resolve().parent.parent
WORKSPACES = ("cross", "from_cargo")
PLATFORMS = ("linux/amd64", "linux/arm64")  # arm64 is cross-compiled in the amd64 builder
REAP_WITHIN_S = 10.0
SIGNALS = {"SIGINT": signal.SIGINT, "SIGTERM": signal.SIGTERM, "SIGKILL": signal.SIGKILL}
PYTEST_MODULE = """
def test_build(rules_rust_build):
    result = rules_rust_build({workspace!r}, platform={platform!r})
    assert result.artifacts
"""


@dataclass(frozen=True)
class Run:
    """One run of the soak and what happened to it."""

    kind: str  # cli, pytest, build-error, timeout
    workspace: str
    platform: str
    fault: str  # SIGINT/SIGTERM/SIGKILL or timeout that took effect, build-error, or "" (none)
    rc: int
    seconds: float
    removal_s: float  # how long its resources outlived it (0 when none did)
    leftover: bool  # resources still there REAP_WITHIN_S after it ended


class Soak:
    def __init__(self, root: Path, cache: Path, engine: Engine, rng: random.Random) -> None:
        self.root = root
        self.cache = cache
        self.engine = engine
        self.rng = rng
        self.session = f"soak-{uuid.uuid4().hex[:8]}"
        self.env = dict(os.environ) | {
            SESSION_ENV: self.session,
            "PYTHONPATH": str(REPO),
            "PYTHONUNBUFFERED": "1",
        }
        self.lock = threading.Lock()
        self.counter = 0
        self.broken = self._broken_workspace()

    def _broken_workspace(self) -> Path:
        """A materialised ``cross`` workspace whose Rust does not compile (a real build error)."""
        path = self.root / "broken"
        self._cli(["materialise", "cross", str(path)]).wait(timeout=120)
        sources = sorted(path.rglob("*.rs"))
        sources[0].write_text(sources[0].read_text() + "\nfn broken( {\n")
        return path

    def _cli(self, args: list[str]) -> subprocess.Popen[bytes]:
        argv = [sys.executable, "-m", "pytest_rules_rust", *args]
        return subprocess.Popen(argv, env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def _next_dir(self) -> Path:
        with self.lock:
            self.counter += 1
            number = self.counter
        path = self.root / f"run-{number:04d}"
        path.mkdir()
        return path

    def _build_args(self, workspace: str, platform: str, out: Path) -> list[str]:
        return ["build", workspace, "--platform", platform, "--out", str(out), "--cache-dir", str(self.cache)]

    def one(self) -> Run:
        with self.lock:
            kind = self.rng.choices(["cli", "pytest", "build-error", "timeout"], [45, 25, 15, 15])[0]
            workspace, platform = self.rng.choice(WORKSPACES), self.rng.choice(PLATFORMS)
            signame = self.rng.choice(list(SIGNALS))
            delay = self.rng.uniform(0.3, 15.0 if kind == "pytest" else 8.0)
        here = self._next_dir()
        if kind == "build-error":
            workspace = "broken"
        if kind == "pytest":
            (here / "test_soak.py").write_text(PYTEST_MODULE.format(workspace=workspace, platform=platform))
            argv = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rr-cache-dir"]
            proc = subprocess.Popen(
                [*argv, str(self.cache), "--basetemp", str(here / "tmp"), str(here / "test_soak.py")],
                env=self.env,
                cwd=here,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        elif kind == "build-error":
            proc = self._cli(self._build_args(str(self.broken), platform, here / "out"))
        elif kind == "timeout":
            limit = f"{self.rng.uniform(0.1, 4.0):.2f}"
            proc = self._cli([*self._build_args(workspace, platform, here / "out"), "--timeout", limit])
        else:
            proc = self._cli(self._build_args(workspace, platform, here / "out"))
        start = time.monotonic()
        fault = kind if kind in ("build-error", "timeout") else ""
        if kind in ("cli", "pytest"):
            try:
                proc.wait(timeout=delay)
            except subprocess.TimeoutExpired:
                proc.send_signal(SIGNALS[signame])
                fault = signame
        rc = proc.wait(timeout=900)
        ended = time.monotonic()
        if rc == 0 and fault != "build-error":
            fault = ""  # the signal or the time limit came after the work was done: no fault
        removal = self._removal_time(proc.pid, ended)
        return Run(kind, workspace, platform, fault, rc, ended - start, removal, removal > REAP_WITHIN_S)

    def _removal_time(self, pid: int, ended: float) -> float:
        """Seconds from the process's end until none of its resources is left (checked up to just
        past the reap time)."""
        while labelled_resources(self.engine, pid=pid, session=self.session):
            if time.monotonic() - ended > REAP_WITHIN_S + 2:
                break
            time.sleep(0.25)
        return time.monotonic() - ended

    def warm_up(self) -> None:
        """Build every workspace once, unfaulted (vendors crates into a fresh cache)."""
        for workspace in WORKSPACES:
            done = self._cli(self._build_args(workspace, PLATFORMS[0], self.root / f"warm-{workspace}"))
            if done.wait(timeout=1800) != 0:
                raise SystemExit(f"warm-up build of {workspace} failed (exit {done.returncode})")


def verify_cache(cache: Path) -> tuple[int, int, list[str]]:
    """Vendored crates checked against cargo's checksums; complete entries and stale fills checked.

    Returns (crates verified, files verified, problems)."""
    problems: list[str] = []
    crates = files = 0
    for checksum in cache.glob("crates/*/vendor/*/.cargo-checksum.json"):
        crates += 1
        for rel, want in json.loads(checksum.read_text()).get("files", {}).items():
            files += 1
            path = checksum.parent / rel
            if not path.is_file() or hashlib.sha256(path.read_bytes()).hexdigest() != want:
                problems.append(f"{path}: does not match its .cargo-checksum.json")
    for marker in cache.rglob(COMPLETE):
        if not any(p.name != COMPLETE for p in marker.parent.iterdir()):
            problems.append(f"{marker.parent}: marked complete but empty")
    for partial in cache.rglob(".*.partial-*"):
        pid = partial.name.rsplit("-", 1)[-1]
        if pid.isdigit() and not Path(f"/proc/{pid}").exists():
            problems.append(f"{partial}: a killed fill's staging directory is still there")
    return crates, files, problems


def final_builds(soak: Soak, used: set[tuple[str, str]]) -> list[str]:
    """Build each (workspace, platform) once more, unfaulted; check each binary is a sound ELF."""
    lines = []
    for workspace, platform in sorted(used):
        out = soak.root / f"final-{workspace}-{platform.replace('/', '-')}"
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "pytest_rules_rust",
                *soak._build_args(workspace, platform, out),
                "--json",
            ],
            env=soak.env,
            capture_output=True,
            text=True,
            timeout=1800,
        )
        if proc.returncode != 0:
            lines.append(f"{workspace} {platform}: FAILED (exit {proc.returncode}) {proc.stderr[-300:]}")
            continue
        doc = json.loads(proc.stdout)
        binaries = [a for a in doc["artifacts"] if a["kind"] == "binary"]
        machines = {inspect_binary(Path(a["path"])).machine for a in binaries}
        lines.append(
            f"{workspace} {platform}: ok in {doc['duration_s']:.1f} s ({', '.join(sorted(machines))})"
        )
    return lines


def _counts(counter: collections.Counter[str]) -> str:
    return ", ".join(f"{key} {n}" for key, n in sorted(counter.items()))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--faults", type=int, default=50, help="stop after this many faults (default 50)")
    parser.add_argument("--workers", type=int, default=3, choices=(2, 3, 4), help="concurrent runs")
    parser.add_argument("--minutes", type=float, default=20.0, help="stop starting runs after this long")
    parser.add_argument("--seed", type=int, default=None, help="random seed (printed)")
    parser.add_argument("--cache-dir", type=Path, help="shared cache (default: a fresh temporary one)")
    args = parser.parse_args()
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    # A job started in the background (`cmd &`) inherits SIGINT ignored, and so would every run:
    # catching it here makes the runs start with the default disposition, as from a terminal.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    engine = detect_engine()
    with tempfile.TemporaryDirectory(prefix="rr-soak-") as tmp:
        root = Path(tmp)
        cache = (args.cache_dir or root / "cache").resolve()
        soak = Soak(root, cache, engine, random.Random(seed))
        print(f"seed {seed}, {args.workers} workers, cache {cache}, session label {soak.session}", flush=True)
        soak.warm_up()
        runs: list[Run] = []
        deadline = time.monotonic() + args.minutes * 60
        started = time.monotonic()

        def worker() -> None:
            while time.monotonic() < deadline:
                with soak.lock:
                    if sum(1 for r in runs if r.fault) >= args.faults:
                        return
                run = soak.one()
                with soak.lock:
                    runs.append(run)
                    print(
                        f"  {len(runs):3d} {run.kind:11} {run.workspace:10} {run.platform:11} "
                        f"fault={run.fault or '-':11} exit={run.rc:4d} {run.seconds:5.1f} s "
                        f"removal={run.removal_s:4.1f} s",
                        flush=True,
                    )

        with ThreadPoolExecutor(args.workers) as pool:
            for future in [pool.submit(worker) for _ in range(args.workers)]:
                future.result()
        soak_s = time.monotonic() - started
        time.sleep(REAP_WITHIN_S)
        leftovers = labelled_resources(engine, session=soak.session)
        crates, files, problems = verify_cache(cache)
        used = {(r.workspace, r.platform) for r in runs if r.kind != "build-error"}
        wrong = [r for r in runs if r.kind == "build-error" and r.rc != 1]
        finals = final_builds(soak, used)
        faults = collections.Counter(r.fault for r in runs if r.fault)
        kinds = collections.Counter(r.kind for r in runs)
        print()
        print(f"runs: {len(runs)} in {soak_s / 60:.1f} min ({_counts(kinds)})")
        print(f"faults injected: {sum(faults.values())} ({_counts(faults)})")
        print(
            f"leftovers: {len(leftovers)} (after {REAP_WITHIN_S:.0f} s); runs whose resources outlived them "
            f"by > {REAP_WITHIN_S:.0f} s: {sum(r.leftover for r in runs)}; slowest removal "
            f"{max((r.removal_s for r in runs), default=0):.1f} s"
        )
        for item in leftovers:
            print(f"  leftover: {item}")
        print(f"corrupted entries: {len(problems)} ({crates} vendored crates, {files} files verified)")
        for problem in problems:
            print(f"  corrupted: {problem}")
        print(f"wrong results: {len(wrong)} (a broken workspace that did not fail its build)")
        print("final builds:")
        for line in finals:
            print(f"  {line}")
        failed = bool(leftovers or problems or wrong or any("FAILED" in line for line in finals))
        if args.cache_dir is None:
            shutil.rmtree(cache, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
