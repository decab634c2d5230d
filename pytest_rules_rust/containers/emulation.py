"""qemu-user emulation through binfmt_misc: detect it, prove it, explain or apply the fix.

Containers for linux/arm64 on an amd64 host run through the host's binfmt_misc entry for
qemu-aarch64. It works inside containers only with the ``F`` (fix binary) flag, which makes the
kernel open the interpreter at registration time. :func:`emulation_status` reads the entry and
runs a tiny static aarch64 program to prove it works; :func:`require_emulation` raises
:class:`EmulationError` with the exact commands; :func:`register_emulation` applies them.

``python -m pytest_rules_rust.containers.emulation [--register] [--json]``
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import struct
import subprocess
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

from ..cache import Cache
from ..errors import EmulationError

BINFMT = Path("/proc/sys/fs/binfmt_misc")
BINFMT_D = Path("/usr/lib/binfmt.d")
PROBE_VERSION = "1"
_PROBE_C = '#include <stdio.h>\nint main(void) { puts("pytest-rules-rust emulation ok"); return 0; }\n'
_PROBE_OUT = "pytest-rules-rust emulation ok"
_CROSS_CC = {"aarch64": "aarch64-linux-gnu-gcc"}


@dataclass(frozen=True)
class EmulationStatus:
    """What binfmt_misc says about ``qemu-<arch>`` and whether a foreign program really ran."""

    arch: str
    registered: bool
    enabled: bool
    fix_binary: bool  # the F flag: needed for the entry to work inside containers
    interpreter: str | None
    works: bool
    fix: str  # shell commands that repair it ("" when nothing is wrong)
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.registered and self.enabled and self.fix_binary and self.works


def _conf(arch: str) -> Path:
    return BINFMT_D / f"qemu-{arch}.conf"


def fix_commands(arch: str = "aarch64", *, mounted: bool = True, registered: bool = False) -> str:
    """The root shell commands that register ``qemu-<arch>`` with the F flag."""
    conf = _conf(arch)
    cmds = []
    if not conf.exists():
        cmds.append("apt-get install -y qemu-user-static")
    if not mounted:
        cmds.append(f"mount -t binfmt_misc binfmt_misc {BINFMT}")
    if registered:
        cmds.append(f"echo -1 > {BINFMT}/qemu-{arch}")
    cmds.append(f"cat {conf} > {BINFMT}/register")
    return " && ".join(cmds)


def emulation_status(arch: str = "aarch64", *, cache: Cache | None = None) -> EmulationStatus:
    """Read ``/proc/sys/fs/binfmt_misc/qemu-<arch>`` and run a static ``arch`` program to prove it."""
    mounted = (BINFMT / "status").exists()
    entry = BINFMT / f"qemu-{arch}"
    registered = mounted and entry.exists()
    enabled, flags, interpreter = False, "", None
    if registered:
        for line in entry.read_text().splitlines():
            key, _, value = line.partition(" ")
            if key in ("enabled", "disabled"):
                enabled = key == "enabled"
            elif key == "flags:":
                flags = value.strip()
            elif key == "interpreter":
                interpreter = value.strip()
    fix_binary = "F" in flags
    works, detail = _probe(arch, cache or Cache())
    if not mounted:
        detail = f"binfmt_misc is not mounted at {BINFMT}; " + detail
    elif not registered:
        detail = f"no qemu-{arch} entry in {BINFMT}; " + detail
    elif interpreter and not Path(interpreter).exists():
        detail += f"; interpreter {interpreter} is missing on the host"
    needs_fix = not (registered and enabled and fix_binary and works)
    fix = fix_commands(arch, mounted=mounted, registered=registered) if needs_fix else ""
    return EmulationStatus(arch, registered, enabled, fix_binary, interpreter, works, fix, detail)


def require_emulation(arch: str = "aarch64") -> None:
    """Raise :class:`EmulationError` with the exact fix unless ``arch`` programs run (also in containers)."""
    status = emulation_status(arch)
    if status.ok:
        return
    problems = []
    if not status.registered:
        problems.append("not registered")
    elif not status.enabled:
        problems.append("registered but disabled")
    elif not status.fix_binary:
        problems.append("registered without the F flag (it then fails inside containers)")
    if not status.works:
        problems.append(f"a static {arch} test program did not run ({status.detail})")
    raise EmulationError(
        f"binfmt_misc qemu-{arch}: {'; '.join(problems)}",
        hint=f"as root run: {status.fix}",
    )


def register_emulation(arch: str = "aarch64") -> EmulationStatus:
    """Register ``qemu-<arch>`` with the F flag (root only); a working entry is left alone."""
    status = emulation_status(arch)
    if status.ok:
        return status
    conf = _conf(arch)
    if not conf.exists():
        raise EmulationError(f"{conf} is missing", hint="apt-get install -y qemu-user-static")
    try:
        if not (BINFMT / "status").exists():
            subprocess.run(["mount", "-t", "binfmt_misc", "binfmt_misc", str(BINFMT)], check=True)
        entry = BINFMT / f"qemu-{arch}"
        if entry.exists():
            entry.write_text("-1")
        line = next(x for x in conf.read_text().splitlines() if x.startswith(":"))
        if not line.rsplit(":", 1)[1].count("F"):
            line += "F"
        (BINFMT / "register").write_text(line)
    except (OSError, subprocess.CalledProcessError, StopIteration) as exc:
        raise EmulationError(
            f"could not register qemu-{arch} in binfmt_misc: {exc}",
            hint=f"as root run: {fix_commands(arch, registered=True)}",
        ) from exc
    return emulation_status(arch)


# --- the probe program --------------------------------------------------------------------------


def probe_binary(arch: str, cache: Cache) -> Path:
    """A static ``arch`` program printing one line: built once with the cross gcc into the cache,
    or (no cross gcc) a 200-byte ELF written directly."""

    def fill(d: Path) -> None:
        cc = shutil.which(_CROSS_CC.get(arch, ""))
        if cc:
            (d / "probe.c").write_text(_PROBE_C)
            subprocess.run([cc, "-static", "-O2", "-o", str(d / "probe"), str(d / "probe.c")], check=True)
        elif arch == "aarch64":
            (d / "probe").write_bytes(_minimal_aarch64_elf(_PROBE_OUT.encode() + b"\n"))
            (d / "probe").chmod(0o755)
        else:
            raise EmulationError(
                f"no way to build a {arch} probe", hint=f"install {_CROSS_CC.get(arch, 'a cross gcc')}"
            )

    return cache.ensure(f"emulation/probe-{arch}-v{PROBE_VERSION}", fill) / "probe"


def _probe(arch: str, cache: Cache) -> tuple[bool, str]:
    try:
        probe = probe_binary(arch, cache)
        proc = subprocess.run([str(probe)], capture_output=True, text=True, timeout=60, check=False)
    except (OSError, subprocess.SubprocessError, EmulationError) as exc:
        return False, f"probe failed: {exc}"
    if proc.returncode == 0 and proc.stdout.strip() == _PROBE_OUT:
        return True, f"{probe} ran"
    return False, f"probe {probe} exited {proc.returncode}: {(proc.stderr or proc.stdout).strip()[:200]}"


def _minimal_aarch64_elf(message: bytes) -> bytes:
    """write(1, message) + exit(0) as a static aarch64 ELF, assembled by hand (no toolchain needed)."""
    base, code_off = 0x400000, 64 + 56
    n = len(message)
    insns = [
        0xD2800020,  # mov x0, #1
        0x10000000 | ((28 >> 2) << 5) | 1,  # adr x1, message (7 instructions ahead)
        0xD2800002 | (n << 5),  # mov x2, #n
        0xD2800808,  # mov x8, #64 (write)
        0xD4000001,  # svc #0
        0xD2800000,  # mov x0, #0
        0xD2800BA8,  # mov x8, #93 (exit)
        0xD4000001,  # svc #0
    ]
    code = b"".join(struct.pack("<I", i) for i in insns) + message
    size = code_off + len(code)
    ehdr = b"\x7fELF\x02\x01\x01" + b"\0" * 9
    ehdr += struct.pack("<HHIQQQIHHHHHH", 2, 0xB7, 1, base + code_off, 64, 0, 0, 64, 56, 1, 0, 0, 0)
    phdr = struct.pack("<IIQQQQQQ", 1, 5, 0, base, base, size, size, 0x1000)
    return ehdr + phdr + code


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m pytest_rules_rust.containers.emulation", description=__doc__
    )
    parser.add_argument("--arch", default="aarch64")
    parser.add_argument("--register", action="store_true", help="register qemu-ARCH with the F flag (root)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    try:
        status = register_emulation(args.arch) if args.register else emulation_status(args.arch)
    except EmulationError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(asdict(status) | {"ok": status.ok}, indent=2))
    else:
        print(f"qemu-{status.arch}: {'ok' if status.ok else 'NOT WORKING'} ({status.detail})")
        if status.fix:
            print(f"fix (as root): {status.fix}")
    return 0 if status.ok else 1


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
