"""The C twin of the Rust benchmark: same workloads, same JSON line, built with musl-gcc -static.

It links musl's own malloc, jemalloc or mimalloc built from Debian's sources, so when the Rust and
the C numbers agree, the numbers measure the allocator and not Rust. Sources come from
``apt-get source jemalloc mimalloc`` (needs a deb-src entry; the one network step), fetched once
into the cache; the binaries are built once per target and recipe under the cache's file lock,
inside the amd64 builder image when a Docker engine answers, otherwise on the host.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from importlib import resources
from pathlib import Path
from typing import Literal

from ..cache import Cache
from ..containers import Mount, RunSpec, detect_engine, run
from ..containers.images import ensure_builder_image
from ..errors import BenchError, RulesRustError
from ..platforms import AMD64
from ..progress import Progress
from .runner import ALLOCATORS, BenchBinary

TARGETS = ("x86_64-unknown-linux-musl", "aarch64-unknown-linux-musl")
Where = Literal["auto", "container", "host"]
SOURCES_ENTRY = "bench/allocator-sources/bookworm"
DEB_SRC_HINT = (
    "`apt-get source` needs a deb-src entry: add "
    "/etc/apt/sources.list.d/pytest-rules-rust-deb-src.sources with `Types: deb-src`, "
    "`URIs: http://deb.debian.org/debian`, `Suites: bookworm bookworm-updates`, `Components: main`, "
    "then `apt-get update`"
)


def data_dir() -> Path:
    """The shipped C sources: ``alloc_bench.c`` and ``build.sh``."""
    return Path(str(resources.files("pytest_rules_rust") / "data" / "alloc_bench_c"))


def recipe_digest() -> str:
    """A hash of the C program and its build script: a new recipe gets a new cache entry."""
    h = hashlib.sha256()
    for name in ("alloc_bench.c", "build.sh"):
        h.update((data_dir() / name).read_bytes())
    return h.hexdigest()[:12]


def fetch_allocator_sources(cache: Cache, *, progress: Progress = print) -> Path:
    """Debian's jemalloc and mimalloc sources, unpacked once into the cache (needs network)."""

    def fill(tmp: Path) -> None:
        if shutil.which("apt-get") is None:
            raise BenchError("apt-get is not available to fetch jemalloc/mimalloc sources", hint=DEB_SRC_HINT)
        progress("fetching Debian sources of jemalloc and mimalloc (apt-get source)")
        proc = subprocess.run(
            ["apt-get", "source", "-qq", "jemalloc", "mimalloc"],
            cwd=tmp,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        if proc.returncode != 0:
            missing_src = "deb-src" in proc.stderr or "source URIs" in proc.stderr
            raise BenchError(
                f"`apt-get source jemalloc mimalloc` failed ({proc.returncode}): "
                f"{proc.stderr.strip()[-600:]}",
                hint=DEB_SRC_HINT if missing_src else "check the Debian mirror is reachable and retry",
            )
        for pattern in ("*.dsc", "*.tar.*"):
            for archive in tmp.glob(pattern):
                archive.unlink()

    entry = cache.ensure(SOURCES_ENTRY, fill)
    for name in ("jemalloc-*", "mimalloc-*"):
        if not any(entry.glob(name)):
            raise BenchError(f"cache entry {entry} lacks {name}", hint=f"delete {entry} and run again")
    return entry


def build_c_twin(
    target: str,
    cache: Cache,
    *,
    where: Where = "auto",
    allocators: tuple[str, ...] = ALLOCATORS,
    progress: Progress = print,
) -> tuple[BenchBinary, ...]:
    """Build (once) and return the C twin for a musl ``target``, one binary per allocator."""
    if target not in TARGETS:
        raise BenchError(
            f"the C twin is built for musl targets only, not {target!r}",
            hint=f"use one of {', '.join(TARGETS)}",
        )
    unknown = [a for a in allocators if a not in ALLOCATORS]
    if unknown:
        raise BenchError(f"unknown allocator {unknown[0]!r}", hint=f"choose from {', '.join(ALLOCATORS)}")
    sources = fetch_allocator_sources(cache, progress=progress)
    chosen = resolve_where(where)

    def fill(out: Path) -> None:
        progress(f"building the C twin for {target} ({chosen}); jemalloc takes about a minute")
        log = out / "build.log"
        if chosen == "container":
            _build_in_container(target, sources, out, log, cache, progress)
        else:
            _build_on_host(target, sources, out, log)
        (out / "built-in").write_text(chosen + "\n")

    entry = cache.ensure(f"bench/c-twin/{recipe_digest()}/{target}", fill)
    return tuple(BenchBinary("c", target, a, entry / f"alloc_bench-{a}") for a in allocators)


def resolve_where(where: Where) -> Literal["container", "host"]:
    """``auto``: the builder container when a Docker engine answers, else the host."""
    if where != "auto":
        return where
    try:
        detect_engine()
    except (ImportError, RulesRustError):
        return "host"
    return "container"


def _build_on_host(target: str, sources: Path, out: Path, log: Path) -> None:
    cc = "musl-gcc" if target.startswith("x86_64") else "aarch64-linux-musl-gcc"
    if shutil.which(cc) is None:
        raise BenchError(
            f"{cc} is not installed, needed to build the C twin for {target} on the host",
            hint="`apt-get install musl-tools musl-dev musl-dev:arm64`",
        )
    cmd = [
        "sh",
        str(data_dir() / "build.sh"),
        str(data_dir() / "alloc_bench.c"),
        str(sources),
        str(out),
        target,
    ]
    with log.open("w") as fh:
        proc = subprocess.run(["nice", *cmd], stdout=fh, stderr=subprocess.STDOUT, timeout=1800, check=False)
    if proc.returncode != 0:
        _fail(target, log, out)


def _build_in_container(
    target: str, sources: Path, out: Path, log: Path, cache: Cache, progress: Progress
) -> None:
    image = ensure_builder_image(AMD64, cache, progress=progress)
    spec = RunSpec(
        image=image,
        command=("nice", "sh", "/twin/build.sh", "/twin/alloc_bench.c", "/sources", "/out", target),
        platform=AMD64,
        mounts=(
            Mount(data_dir(), "/twin", read_only=True),
            Mount(sources, "/sources", read_only=True),
            Mount(out, "/out"),
        ),
        workdir="/out",
        timeout_s=1800.0,
    )
    result = run(spec, log)
    if result.failed:
        _fail(target, log, out)


def _fail(target: str, log: Path, out: Path) -> None:
    kept = out.parent / f"{out.name}.failed.log"
    shutil.copyfile(log, kept)
    tail = "\n".join(log.read_text(errors="replace").splitlines()[-15:])
    raise BenchError(
        f"building the C twin for {target} failed:\n{tail}",
        hint="read the whole log; the recipes and their pitfalls are in build.sh",
        paths={"log": kept},
    )
