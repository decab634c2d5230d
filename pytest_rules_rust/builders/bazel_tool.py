"""Which Bazel the Bazel builder runs, and why: the user's own binary, or Bazelisk and a version.

The user's binary (``--rr-bazel-binary``) is mounted read-only and used as is; it must be an
executable ELF for the builder container's architecture (the build host: linux/amd64 unless a
build asks for an emulated linux/arm64 host). Otherwise Bazelisk runs, told the version with
``USE_BAZEL_VERSION``, chosen in this order:

1. the workspace's ``.bazelversion``: the version Bazelisk, and a developer running ``bazel`` in
   that workspace, would use, so the harness builds what the workspace pins. Templates render
   it from their ``bazel_version`` parameter, so ``--rr-bazel-version`` cells and
   ``--rr-set bazel_version=...`` reach it through the parameter;
2. the workspace's ``bazel_version`` parameter (a template that does not render the file);
3. the first ``--rr-bazel-version``: a workspace of your own with neither gets it;
4. :data:`DEFAULT_BAZEL_VERSION`, the parameter catalogue's default.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ..errors import UsageError
from ..platforms import AMD64, ARM64, Platform
from ..workspace_params import CATALOGUE

DEFAULT_BAZEL_VERSION = str(CATALOGUE["bazel_version"].default)
CONTAINER_BINARY = "/rr-bazel/bin/bazel"
_ELF_MACHINES = {62: AMD64, 183: ARM64}  # e_machine: EM_X86_64, EM_AARCH64
#: How Bazel's release files name the architectures (bazel-7.4.1-linux-x86_64, ...-linux-arm64).
RELEASE_ARCH = {AMD64: "x86_64", ARM64: "arm64"}


@dataclass(frozen=True)
class BazelVersion:
    """The Bazel version Bazelisk is asked for and where that choice came from."""

    version: str
    source: str


@dataclass(frozen=True)
class BazelBinary:
    """A Bazel binary of the user's, checked: an executable ELF for ``platform``."""

    path: Path
    platform: Platform


def resolve_version(
    workspace_root: Path | None, params: Mapping[str, object], fallback: str | None = None
) -> BazelVersion:
    """The version for Bazelisk, in the order of the module docstring."""
    if workspace_root is not None:
        pinned = workspace_root / ".bazelversion"
        if pinned.is_file():
            lines = [ln.strip() for ln in pinned.read_text(errors="replace").splitlines()]
            first = next((ln for ln in lines if ln and not ln.startswith("#")), "")
            if first:
                return BazelVersion(first, f"{pinned.name} of the workspace")
    param = str(params.get("bazel_version") or "").strip()
    if param:
        return BazelVersion(param, "the workspace's bazel_version parameter")
    if fallback:
        return BazelVersion(fallback, "--rr-bazel-version")
    return BazelVersion(DEFAULT_BAZEL_VERSION, "the harness's default")


def elf_platform(path: Path) -> Platform | None:
    """The Linux platform of an ELF executable (x86-64 or aarch64), None for anything else."""
    with path.open("rb") as fh:
        header = fh.read(20)
    if len(header) < 20 or header[:4] != b"\x7fELF" or header[5] not in (1, 2):
        return None
    (machine,) = struct.unpack_from("<H" if header[5] == 1 else ">H", header, 18)
    return _ELF_MACHINES.get(machine)


def check_binary(path: Path, host: Platform, what: str = "--rr-bazel-binary") -> BazelBinary:
    """``path`` as a :class:`BazelBinary` for ``host`` containers, or a :class:`UsageError` saying why not."""
    hint = f"give a Bazel release binary for {host}, e.g. bazel-7.4.1-linux-{RELEASE_ARCH[host]}"
    if not path.exists():
        raise UsageError(f"{what}: {path} does not exist", hint=hint)
    if not path.is_file():
        raise UsageError(f"{what}: {path} is not a file", hint=hint)
    if not os.access(path, os.X_OK):
        raise UsageError(f"{what}: {path} is not executable", hint=f"`chmod +x {path}`, or {hint}")
    platform = elf_platform(path)
    if platform is None:
        raise UsageError(
            f"{what}: {path} is not an ELF executable for linux/amd64 or linux/arm64 "
            "(a wrapper script cannot run in the builder container)",
            hint=hint,
        )
    if platform != host:
        raise UsageError(
            f"{what}: {path} is an {platform.cpu} ELF, but the Bazel builder's container is {host}",
            hint=hint,
        )
    return BazelBinary(path.resolve(), platform)
