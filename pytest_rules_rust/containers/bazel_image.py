"""The Bazel builder's own image: the local builder image plus Bazelisk, as one thin layer.

``FROM <builder image>`` + ``COPY bazelisk /usr/local/bin/bazelisk`` for linux/amd64 and
linux/arm64. Its tag hashes the base recipe's digest with Bazelisk's npm integrity
(:data:`~pytest_rules_rust.containers.bazelisk.BAZELISK`), so a new Bazelisk rebuilds this layer in seconds
and never the Debian base (15-25 minutes cold), and a new base rebuilds the layer once. Built at
most once per machine under a file lock, like the base; nothing is ever pulled.
"""

from __future__ import annotations

import io
import tarfile
import time
from dataclasses import dataclass
from pathlib import Path

from ..cache import Cache
from ..platforms import Platform
from ..progress import Progress
from . import Engine, detect_engine
from .bazelisk import BAZELISK, NpmPin, fetch_package, read_binary
from .images import (
    LABEL_RECIPE,
    Recipe,
    build_once,
    builder_recipe,
    docker_build,
    ensure_image,
    inputs_digest,
    local_tag,
)

#: Bump when the layer's Dockerfile changes in a way the inputs below do not show.
LAYER_VERSION = "1"
BAZELISK_PATH = "/usr/local/bin/bazelisk"


@dataclass(frozen=True)
class BazelImage:
    """A base recipe plus Bazelisk from ``bazelisk`` (an npm pin)."""

    base: Recipe
    bazelisk: NpmPin = BAZELISK
    name: str = "builder-bazel"

    @property
    def platform(self) -> Platform:
        return self.base.platform

    @property
    def digest(self) -> str:
        """Hash of the base recipe's digest, Bazelisk's integrity and this layer's recipe."""
        return inputs_digest(
            {
                "base": self.base.digest,
                "bazelisk": [self.bazelisk.spec, self.bazelisk.integrity],
                "path": BAZELISK_PATH,
                "layer": LAYER_VERSION,
            }
        )

    @property
    def tag(self) -> str:
        return local_tag(self.name, self.digest, self.platform)

    def dockerfile(self) -> str:
        return (
            f"FROM {self.base.tag}\n"
            f"COPY bazelisk {BAZELISK_PATH}\n"
            f"LABEL {LABEL_RECIPE}={self.digest} pytest-rules-rust.bazelisk={self.bazelisk.version}\n"
        )


def bazel_image(platform: Platform) -> BazelImage:
    """The Bazel builder image for ``platform``: the local builder image plus Bazelisk."""
    return BazelImage(builder_recipe(platform))


def ensure_bazel_image(
    image: BazelImage, cache: Cache, *, engine: Engine | None = None, progress: Progress = print
) -> str:
    """Build ``image`` (and its base) unless the engine has it; parallel callers wait on file locks."""
    engine = engine or detect_engine()

    def build(work: Path) -> None:
        ensure_image(image.base, cache, engine=engine, progress=progress)  # under the base's own lock
        started = time.monotonic()
        progress(f"building {image.tag}: {image.base.tag} + Bazelisk {image.bazelisk.version}")
        binary = read_binary(fetch_package(cache, image.bazelisk), image.platform)
        docker_build(
            _context(image.dockerfile(), binary), image.tag, image.platform, engine, work / "build.log"
        )
        progress(f"built {image.tag} in {time.monotonic() - started:.0f} s")

    return build_once(image, cache, engine, progress, build)


def _context(dockerfile: str, bazelisk: bytes) -> io.BytesIO:
    context = io.BytesIO()
    with tarfile.open(fileobj=context, mode="w") as tar:
        for name, data, mode in (("Dockerfile", dockerfile.encode(), 0o644), ("bazelisk", bazelisk, 0o755)):
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), mode
            tar.addfile(info, io.BytesIO(data))
    context.seek(0)
    return context
