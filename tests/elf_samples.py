"""Real sample binaries for the ELF tests, built with the host's compilers once per machine.

Each sample is one cache entry (``<cache>/test-samples/elf-<hash of this file>/<name>``), filled
once under a file lock, so xdist workers and later sessions reuse it. A sample whose compiler is
missing skips the tests that need it, naming the Debian package that provides it.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from pytest_rules_rust.cache import Cache

# The program: prints "hello <argc>"; "rc N" exits N, "sleep" sleeps, "stderr" writes to stderr,
# "cat" copies stdin to stdout. malloc/printf/strerror pull the libc parts the inspector looks for.
HELLO_C = r"""
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <errno.h>
int main(int argc, char **argv) {
    char *p = malloc(64);
    strcpy(p, "hello");
    printf("%s %d\n", p, argc);
    free(p);
    fflush(stdout);
    if (argc > 2 && strcmp(argv[1], "rc") == 0) return atoi(argv[2]);
    if (argc > 1 && strcmp(argv[1], "sleep") == 0) sleep(120);
    if (argc > 1 && strcmp(argv[1], "stderr") == 0) fprintf(stderr, "oops: %s\n", strerror(ENOENT));
    if (argc > 1 && strcmp(argv[1], "cat") == 0) {
        int c;
        while ((c = getchar()) != EOF) putchar(c);
    }
    return 0;
}
"""

HELLO_RS = r"""
fn main() {
    let args: Vec<String> = std::env::args().collect();
    println!("hello {}", args.len());
}
"""

# No libc at all: the exit syscall from _start.
NOLIBC_C = r"""
void _start(void) {
    __asm__ volatile("mov $60, %eax\n\txor %edi, %edi\n\tsyscall");
    for (;;) {}
}
"""

MIMALLOC_CRATE = "libmimalloc-sys"
MIMALLOC_VERSION = "=0.1.49"  # bundles mimalloc's C sources (c_src/mimalloc/v2)

PACKAGES = {
    "gcc": "gcc",
    "musl-gcc": "musl-tools",
    "aarch64-linux-gnu-gcc": "gcc-aarch64-linux-gnu",
    "aarch64-linux-musl-gcc": "musl-dev:arm64 (and musl-tools)",
    "aarch64-linux-gnu-strip": "binutils-aarch64-linux-gnu",
    "strip": "binutils",
    "rustc": "rustc (or rustup)",
    "cargo": "cargo (or rustup)",
}


@dataclass(frozen=True)
class Sample:
    """How to build one sample: the tools it needs and a build function ``(workdir, out) -> None``."""

    name: str
    tools: tuple[str, ...]
    build: Callable[[Path, Path], None]
    libs: tuple[str, ...] = ()  # files that must exist (e.g. Debian's libjemalloc_pic.a)


def _run(*cmd: str | Path, cwd: Path | None = None) -> None:
    proc = subprocess.run([str(c) for c in cmd], cwd=cwd, capture_output=True, text=True, timeout=600)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, cmd))} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")


def _c(
    cc: str, *flags: str, extra: tuple[str, ...] = (), strip: str | None = None
) -> Callable[[Path, Path], None]:
    def build(work: Path, out: Path) -> None:
        src = work / "hello.c"
        src.write_text(HELLO_C)
        _run(cc, "-O1", *flags, "-o", out, src, *extra)
        if strip:
            _run(strip, out)

    return build


def _mimalloc_static(cc: str, strip: str | None) -> Callable[[Path, Path], None]:
    """musl static + mimalloc compiled from its single-TU ``static.c`` (recipe from notes/toolchains.md)."""

    def build(work: Path, out: Path) -> None:
        src = mimalloc_sources()
        obj = work / "mimalloc.o"
        _run(
            cc, "-O2", "-DNDEBUG", "-DMI_MALLOC_OVERRIDE", "-D__USE_ISOC11=1", "-fvisibility=hidden",
            "-ftls-model=initial-exec", "-fno-builtin-malloc", f"-I{src / 'include'}", "-c",
            src / "src" / "static.c", "-o", obj,
        )  # fmt: skip
        (work / "hello.c").write_text(HELLO_C)
        _run(cc, "-static", "-O1", "-o", out, work / "hello.c", obj)
        if strip:
            _run(strip, out)

    return build


def _rust(*flags: str) -> Callable[[Path, Path], None]:
    def build(work: Path, out: Path) -> None:
        (work / "hello.rs").write_text(HELLO_RS)
        _run("rustc", "--edition", "2021", *flags, "-o", out, work / "hello.rs")

    return build


def _nolibc(work: Path, out: Path) -> None:
    (work / "nolibc.c").write_text(NOLIBC_C)
    _run("gcc", "-nostdlib", "-static", "-no-pie", "-O1", "-o", out, work / "nolibc.c")


def _object(work: Path, out: Path) -> None:
    (work / "hello.c").write_text(HELLO_C)
    _run("gcc", "-c", "-O1", "-o", out, work / "hello.c")


# What hardening guides ask for, and every protection turned off (with an executable stack).
HARDENED = ("-O2", "-D_FORTIFY_SOURCE=2", "-fstack-protector-all", "-fPIE", "-pie", "-Wl,-z,relro,-z,now")
UNHARDENED = ("-fno-stack-protector", "-U_FORTIFY_SOURCE", "-no-pie", "-Wl,-z,norelro,-z,lazy,-z,execstack")
JE_PIC = "/usr/lib/x86_64-linux-gnu/libjemalloc_pic.a"
SAMPLES = {
    s.name: s
    for s in (
        Sample("glibc-dynamic", ("gcc",), _c("gcc")),
        Sample("glibc-dynamic-stripped", ("gcc", "strip"), _c("gcc", strip="strip")),
        Sample("glibc-static", ("gcc",), _c("gcc", "-static")),
        Sample("glibc-static-stripped", ("gcc", "strip"), _c("gcc", "-static", strip="strip")),
        Sample("glibc-static-pie", ("gcc",), _c("gcc", "-static-pie")),
        Sample("musl-static", ("musl-gcc",), _c("musl-gcc", "-static")),
        Sample("musl-static-stripped", ("musl-gcc", "strip"), _c("musl-gcc", "-static", strip="strip")),
        Sample("musl-dynamic", ("musl-gcc",), _c("musl-gcc")),
        Sample("aarch64-glibc-dynamic", ("aarch64-linux-gnu-gcc",), _c("aarch64-linux-gnu-gcc")),
        Sample("aarch64-glibc-static", ("aarch64-linux-gnu-gcc",), _c("aarch64-linux-gnu-gcc", "-static")),
        Sample(
            "aarch64-musl-static-stripped",
            ("aarch64-linux-musl-gcc", "aarch64-linux-gnu-strip"),
            _c("aarch64-linux-musl-gcc", "-static", strip="aarch64-linux-gnu-strip"),
        ),
        Sample("jemalloc-dynamic", ("gcc",), _c("gcc", extra=("-ljemalloc",)), ("/usr/include/jemalloc",)),
        Sample("mimalloc-dynamic", ("gcc",), _c("gcc", extra=("-lmimalloc",)), ("/usr/include/mimalloc.h",)),
        Sample(
            "jemalloc-static", ("gcc",), _c("gcc", "-static", extra=(JE_PIC, "-lpthread", "-lm")), (JE_PIC,)
        ),
        Sample(
            "jemalloc-static-stripped",
            ("gcc", "strip"),
            _c("gcc", "-static", extra=(JE_PIC, "-lpthread", "-lm"), strip="strip"),
            (JE_PIC,),
        ),
        Sample("musl-mimalloc-static", ("musl-gcc", "cargo"), _mimalloc_static("musl-gcc", None)),
        Sample(
            "musl-mimalloc-static-stripped",
            ("musl-gcc", "cargo", "strip"),
            _mimalloc_static("musl-gcc", "strip"),
        ),
        Sample("rust-dynamic", ("rustc",), _rust()),
        Sample("rust-static-pie", ("rustc",), _rust("-C", "target-feature=+crt-static")),
        Sample("nolibc-static", ("gcc",), _nolibc),
        Sample("hardened", ("gcc",), _c("gcc", *HARDENED)),
        Sample("aarch64-hardened", ("aarch64-linux-gnu-gcc",), _c("aarch64-linux-gnu-gcc", *HARDENED)),
        Sample("unhardened", ("gcc",), _c("gcc", *UNHARDENED)),
        Sample("object-file", ("gcc",), _object),
    )
}


def _key() -> str:
    return hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:12]


def mimalloc_sources(cache: Cache | None = None) -> Path:
    """mimalloc's C sources from the ``libmimalloc-sys`` crate, fetched once with ``cargo vendor``."""
    cache = cache or Cache()

    def fill(d: Path) -> None:
        (d / "src").mkdir()
        (d / "src" / "main.rs").write_text("fn main() {}\n")
        (d / "Cargo.toml").write_text(
            '[package]\nname = "mifetch"\nversion = "0.0.0"\nedition = "2021"\n'
            f"[dependencies]\n{MIMALLOC_CRATE} = "
            f'{{ version = "{MIMALLOC_VERSION}", default-features = false }}\n'
        )
        _run("cargo", "vendor", "--versioned-dirs", "vendor", cwd=d)

    root = cache.ensure(f"test-samples/mimalloc-src-{MIMALLOC_VERSION.strip('=')}", fill)
    found = sorted(root.glob(f"vendor/{MIMALLOC_CRATE}-*/c_src/mimalloc/v2"))
    if not found:
        raise RuntimeError(f"no c_src/mimalloc/v2 under {root}/vendor")
    return found[0]


class ElfSamples:
    """Builds samples on demand into the cache; ``get(name)`` returns the binary's path or skips."""

    def __init__(self, cache: Cache) -> None:
        self.cache = cache
        self.prefix = f"test-samples/elf-{_key()}"

    def get(self, name: str) -> Path:
        sample = SAMPLES[name]
        for tool in sample.tools:
            if shutil.which(tool) is None:
                pytest.skip(f"sample {name} needs {tool}: apt-get install {PACKAGES.get(tool, tool)}")
        for lib in sample.libs:
            if not Path(lib).exists():
                pytest.skip(f"sample {name} needs {lib}: apt-get install libjemalloc-dev libmimalloc-dev")
        if "cargo" in sample.tools:
            try:
                mimalloc_sources(self.cache)
            except RuntimeError as exc:  # crates.io unreachable: say so, do not hide it as a pass
                pytest.skip(f"sample {name} needs mimalloc sources from crates.io ({MIMALLOC_CRATE}): {exc}")

        def fill(d: Path) -> None:
            work = d / "work"
            work.mkdir()
            sample.build(work, d / name)
            shutil.rmtree(work)

        return self.cache.ensure(f"{self.prefix}/{name}", fill) / name


_SHARED: list[ElfSamples] = []


def shared_samples() -> ElfSamples:
    """The process-wide sample set (test modules wrap it in a session fixture named ``samples``)."""
    if not _SHARED:
        _SHARED.append(ElfSamples(Cache()))
    return _SHARED[0]
