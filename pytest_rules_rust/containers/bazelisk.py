"""Bazelisk from its npm package: fetched once, checked against the registry's integrity.

``@bazel/bazelisk`` ships Bazelisk's static Go binaries, among them ``package/bazelisk-linux_amd64``
and ``package/bazelisk-linux_arm64``. :data:`BAZELISK` pins the version together with the
registry's ``dist.integrity`` for it (``npm view @bazel/bazelisk@1.28.1 dist.integrity``), so the
Bazel image's recipe hash is known without a network and a tarball that differs is refused.
The tarball is fetched with ``npm pack`` (npm's own registry settings and cache apply) into the
shared cache, once per machine under the cache's file lock.
"""

from __future__ import annotations

import base64
import hashlib
import shutil
import subprocess
import tarfile
from dataclasses import dataclass
from pathlib import Path

from ..cache import Cache
from ..errors import ImageError
from ..platforms import Platform


@dataclass(frozen=True)
class NpmPin:
    """One npm package version and the integrity the registry states for its tarball."""

    package: str
    version: str
    integrity: str  # "sha512-<base64>", the registry's dist.integrity

    @property
    def spec(self) -> str:
        return f"{self.package}@{self.version}"

    @property
    def cache_entry(self) -> str:
        short = hashlib.sha256(self.integrity.encode()).hexdigest()[:12]
        return f"npm/{self.package.strip('@').replace('/', '-')}-{self.version}-{short}"


BAZELISK = NpmPin(
    "@bazel/bazelisk",
    "1.28.1",
    "sha512-K21x83NXOtd0yb2qzjMES3UV4xEWZ1q1vnXFhADA1u7IoiMVQkJAVQRK3oZ5txpnrGafY15HS+YYr2nmsEP4Tg==",
)


def integrity_of(path: Path) -> str:
    """The npm-style ``sha512-<base64>`` integrity string of a file."""
    digest = hashlib.sha512()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return "sha512-" + base64.b64encode(digest.digest()).decode()


def verify(tarball: Path, pin: NpmPin) -> None:
    """Refuse a tarball whose sha512 is not the registry's stated integrity for ``pin``."""
    actual = integrity_of(tarball)
    if actual != pin.integrity:
        raise ImageError(
            f"{tarball} is not {pin.spec} as the npm registry states it: integrity {actual}, "
            f"expected {pin.integrity}",
            hint="delete the file and retry; if it persists, the registry or a proxy serves other content",
            paths={"tarball": tarball},
        )


def _npm_pack(pin: NpmPin, dest: Path) -> None:
    npm = shutil.which("npm")
    if npm is None:
        raise ImageError(
            f"npm is not installed (needed once to fetch {pin.spec} for the Bazel builder image)",
            hint="`apt-get install npm`, or run scripts/provision.sh",
        )
    try:
        proc = subprocess.run(
            [npm, "pack", pin.spec, "--silent"],
            cwd=dest,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired as exc:
        raise ImageError(f"`npm pack {pin.spec}` did not finish in 10 minutes") from exc
    tarballs = sorted(dest.glob("*.tgz"))
    if proc.returncode != 0 or len(tarballs) != 1:
        tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-5:])
        raise ImageError(
            f"`npm pack {pin.spec}` failed (exit {proc.returncode}):\n{tail}",
            hint="the npm registry must be reachable once to fetch Bazelisk (npm's proxy settings apply)",
        )
    tarballs[0].rename(dest / "package.tgz")


def fetch_package(cache: Cache, pin: NpmPin = BAZELISK) -> Path:
    """The verified tarball of ``pin`` in the shared cache, fetched with ``npm pack`` the first time."""

    def fill(directory: Path) -> None:
        _npm_pack(pin, directory)
        verify(directory / "package.tgz", pin)

    tarball = cache.ensure(pin.cache_entry, fill) / "package.tgz"
    verify(tarball, pin)  # a cache entry edited since is refused too (about 0.1 s for 21 MB)
    return tarball


def binary_member(platform: Platform) -> str:
    """The tarball member holding Bazelisk for ``platform`` (``package/bazelisk-linux_arm64``)."""
    return f"package/bazelisk-linux_{platform.arch}"


def read_binary(tarball: Path, platform: Platform) -> bytes:
    """Bazelisk's binary for ``platform`` from the package tarball."""
    member = binary_member(platform)
    with tarfile.open(tarball, "r:gz") as tar:
        try:
            fh = tar.extractfile(member)
        except KeyError:
            fh = None
        if fh is None:
            raise ImageError(f"{tarball} has no {member}", hint="pin a Bazelisk release that ships it")
        return fh.read()
