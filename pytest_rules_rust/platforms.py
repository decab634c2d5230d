"""Platforms as values: ``linux/amd64``, ``linux/arm64``, Rust triples and their aliases.

>>> Platform.parse("linux/arm64").triple("musl")
'aarch64-unknown-linux-musl'
>>> Platform.parse("x86_64-unknown-linux-gnu").docker
'linux/amd64'
"""

from __future__ import annotations

import platform as _host_platform
from dataclasses import dataclass
from typing import Literal

from .errors import UsageError

Arch = Literal["amd64", "arm64"]
Libc = Literal["gnu", "musl"]

LIBCS: tuple[Libc, ...] = ("gnu", "musl")
_ARCH_ALIASES: dict[str, Arch] = {
    "amd64": "amd64",
    "x86_64": "amd64",
    "x86-64": "amd64",
    "arm64": "arm64",
    "aarch64": "arm64",
    "arm64/v8": "arm64",
}
_RUST_CPU: dict[Arch, str] = {"amd64": "x86_64", "arm64": "aarch64"}


@dataclass(frozen=True, order=True)
class Platform:
    """An operating system and a CPU architecture, in Docker's vocabulary."""

    os: str
    arch: Arch

    @classmethod
    def parse(cls, text: str) -> Platform:
        """Accept ``linux/amd64``, ``linux/arm64/v8``, ``amd64``, ``aarch64`` or a Rust triple."""
        value = text.strip().lower()
        if value.count("-") >= 2:  # a Rust target triple
            cpu, *_rest, last = value.split("-")
            if cpu in _ARCH_ALIASES and last in ("gnu", "musl") and "linux" in value:
                return cls("linux", _ARCH_ALIASES[cpu])
        else:
            os_name, _, arch = value.partition("/") if "/" in value else ("linux", "", value)
            arch = arch.removesuffix("/v8")
            if os_name == "linux" and arch in _ARCH_ALIASES:
                return cls("linux", _ARCH_ALIASES[arch])
        raise UsageError(
            f"unknown platform {text!r}",
            hint="use linux/amd64 or linux/arm64 (aliases: x86_64, aarch64, or a linux Rust triple)",
        )

    @classmethod
    def host(cls) -> Platform:
        return cls.parse(_host_platform.machine())

    @property
    def docker(self) -> str:
        """The ``--platform`` value Docker expects."""
        return f"{self.os}/{self.arch}"

    @property
    def cpu(self) -> str:
        """The CPU name as Rust, Bazel's ``@platforms//cpu`` and ELF tools say it."""
        return _RUST_CPU[self.arch]

    def triple(self, libc: Libc = "gnu") -> str:
        if libc not in LIBCS:
            raise UsageError(f"unknown libc {libc!r}", hint="use gnu or musl")
        return f"{self.cpu}-unknown-linux-{libc}"

    @property
    def slug(self) -> str:
        """A file-name-safe form, e.g. ``linux-arm64``."""
        return f"{self.os}-{self.arch}"

    def is_foreign(self, host: Platform | None = None) -> bool:
        """True when running code for this platform needs emulation on ``host``."""
        return self != (host or Platform.host())

    def __str__(self) -> str:
        return self.docker


AMD64 = Platform("linux", "amd64")
ARM64 = Platform("linux", "arm64")
ALL_PLATFORMS = (AMD64, ARM64)


def triple_libc(triple: str) -> Libc:
    """The libc named by a Rust triple's last component."""
    last = triple.rsplit("-", 1)[-1]
    if last not in LIBCS:
        raise UsageError(
            f"triple {triple!r} names no supported libc", hint="use a *-linux-gnu or *-linux-musl triple"
        )
    return "gnu" if last == "gnu" else "musl"
