"""Builder images: built locally from Debian packages (offline default), or public references.

A :class:`Recipe` says what goes into a root filesystem; its hash names the image
(``pytest-rules-rust/builder:<hash>-<arch>``). :func:`ensure_image` builds it at most once per
machine: under a file lock, parallel workers wait for the first one and then find the image.
The root filesystem is made by mmdebstrap (arm64 through qemu-user via binfmt), turned into an
image with ``FROM scratch`` + ``ADD rootfs.tar /`` and a platform-specific ``docker build`` (not
``docker import``: dockerd 20.10 labels an imported arm64 image amd64), and deleted afterwards.

``python -m pytest_rules_rust.containers.images [--platform linux/amd64 ...]`` builds the builder images.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import time
from collections.abc import Callable, Iterable, Mapping
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

from ..cache import Cache
from ..errors import ImageError
from ..platforms import ALL_PLATFORMS, AMD64, ARM64, Platform
from ..progress import Progress
from . import Engine, detect_engine, image_exists

#: Bump when the build procedure changes in a way the package lists do not show.
SCRIPT_VERSION = "3"
SUITE = "bookworm"
REPOSITORY = "pytest-rules-rust"
LABEL_RECIPE = "pytest-rules-rust.recipe"

Source = Literal["local", "public"]
BuilderKind = Literal["cargo", "bazel"]

#: Public multi-arch references for users with registry access (never pulled in offline mode).
PUBLIC_IMAGES: dict[str, str] = {
    "cargo": "docker.io/library/rust:1.96-bookworm",
    # carries Bazelisk; gcr.io/bazel-public/bazel is amd64-only. The local default (our builder
    # image plus Bazelisk, bazel_image.py) serves both architectures without a registry.
    "bazel": "gcr.io/bazel-public/ubuntu2404",
}

COMMON_PACKAGES: tuple[str, ...] = (
    "build-essential",
    "ca-certificates",
    "pkg-config",
    "git",
    "make",
    "file",
    "rustc-web",
    "cargo-web",
    "rust-web-src",
    "musl-tools",
    "musl-dev",
    "protobuf-compiler",
    "libprotobuf-dev",
    "libunwind-14-dev",  # LLVM libunwind for the musl -Zbuild-std recipe
)
CROSS_PACKAGES: tuple[str, ...] = (
    "gcc-aarch64-linux-gnu",
    "libc6-dev-arm64-cross",
    "libstd-rust-web-dev:arm64",
    "musl-dev:arm64",  # ships aarch64-linux-musl-gcc
)
#: Packages unpacked (``dpkg -x``) rather than installed. libunwind-14-dev is Multi-Arch: same but
#: both architectures ship a different /usr/lib/llvm-14/lib/libunwind.a, so dpkg refuses both.
CROSS_UNPACKED: tuple[tuple[str, str], ...] = (("libunwind-14-dev:arm64", "/opt/libunwind-14-arm64"),)

ENV = {
    "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "LANG": "C.UTF-8",
    "HOME": "/tmp",  # containers run as the caller's uid, which has no home in the image
    "RUSTC": "/usr/bin/rustc",
}


@dataclass(frozen=True)
class Recipe:
    """What an image holds. ``kind="debian"``: mmdebstrap; ``kind="busybox"``: a tiny test image."""

    name: str
    platform: Platform
    kind: Literal["debian", "busybox"] = "debian"
    packages: tuple[str, ...] = ()
    suite: str = SUITE
    unpacked: tuple[tuple[str, str], ...] = ()  # (package, directory): dpkg -x, not installed

    def dockerfile(self) -> str:
        env = " ".join(f"{k}={v}" for k, v in ENV.items())
        return (
            "FROM scratch\n"
            "ADD rootfs.tar /\n"
            f"ENV {env}\n"
            f"LABEL {LABEL_RECIPE}={self.digest}\n"
            'CMD ["/bin/sh"]\n'
        )

    @property
    def digest(self) -> str:
        """A hash of everything that decides the image's content (not of the mirror's host name)."""
        return inputs_digest(
            {
                "kind": self.kind,
                "platform": self.platform.docker,
                "packages": sorted(self.packages),
                "suite": self.suite,
                "unpacked": sorted(self.unpacked),
                "script": SCRIPT_VERSION,
                "env": ENV,
            }
        )

    @property
    def tag(self) -> str:
        return local_tag(self.name, self.digest, self.platform)


def inputs_digest(inputs: Mapping[str, Any]) -> str:
    """The short hash a local image's tag carries: of everything that decides its content."""
    return hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()[:12]


def local_tag(name: str, digest: str, platform: Platform) -> str:
    """``pytest-rules-rust/<name>:<digest>-<arch>``: how every image built here is tagged."""
    return f"{REPOSITORY}/{name}:{digest}-{platform.arch}"


def builder_recipe(platform: Platform) -> Recipe:
    """The offline builder image for ``platform``; the amd64 one also cross-compiles to aarch64."""
    if platform == AMD64:
        return Recipe(
            "builder", platform, "debian", COMMON_PACKAGES + CROSS_PACKAGES, unpacked=CROSS_UNPACKED
        )
    return Recipe("builder", platform, "debian", COMMON_PACKAGES)


def busybox_recipe(name: str = "busybox") -> Recipe:
    """A seconds-to-build amd64 image holding Debian's busybox-static: tests the build/lock path cheaply."""
    return Recipe(name, AMD64, "busybox", ("busybox-static",))


def builder_image_ref(platform: Platform, source: Source = "local", builder: BuilderKind = "cargo") -> str:
    """The image reference for a builder: the local recipe's tag, or the public multi-arch image."""
    if source == "public":
        return PUBLIC_IMAGES[builder]
    if source != "local":
        raise ImageError(f"unknown image source {source!r}", hint="use local or public")
    if builder == "bazel":
        from .bazel_image import bazel_image

        return bazel_image(platform).tag
    return builder_recipe(platform).tag


def ensure_builder_image(
    platform: Platform, cache: Cache, *, engine: Engine | None = None, progress: Progress = print
) -> str:
    """Return the local builder image tag for ``platform``, building it once per machine if missing."""
    return ensure_image(builder_recipe(platform), cache, engine=engine, progress=progress)


def require_image(ref: str, platform: Platform, *, engine: Engine | None = None) -> str:
    """Check that ``ref`` is present for ``platform`` (never pulls); :class:`ImageError` otherwise."""
    engine = engine or detect_engine()
    if not image_exists(engine, ref, platform):
        raise ImageError(
            f"image {ref} for {platform} is not present on the Docker engine (offline mode never pulls)",
            hint=f"`docker pull --platform {platform} {ref}` where a registry is reachable, "
            "or use the local builder images (source=local)",
        )
    return ref


def ensure_image(
    recipe: Recipe, cache: Cache, *, engine: Engine | None = None, progress: Progress = print
) -> str:
    """Build ``recipe``'s image unless the engine has it; parallel callers wait on one file lock."""
    engine = engine or detect_engine()
    return build_once(recipe, cache, engine, progress, lambda work: _build(recipe, work, engine, progress))


class LocalImage(Protocol):
    """An image this machine builds itself, named by the hash of its inputs."""

    @property
    def name(self) -> str: ...
    @property
    def platform(self) -> Platform: ...
    @property
    def digest(self) -> str: ...
    @property
    def tag(self) -> str: ...


def build_once(
    image: LocalImage, cache: Cache, engine: Engine, progress: Progress, build: Callable[[Path], None]
) -> str:
    """``image``'s tag, calling ``build(work_dir)`` first unless the engine has the image: under a
    file lock named after it, so parallel workers wait for the first one and then find the image."""
    if image_exists(engine, image.tag, image.platform):
        return image.tag
    key = f"{image.name}-{image.digest}-{image.platform.arch}"
    with cache.lock(f"image-{key}"):
        if image_exists(engine, image.tag, image.platform):
            progress(f"image {image.tag} was built by another worker")
            return image.tag
        work = cache.path("images", key)
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        build(work)
    return image.tag


def image_info(engine: Engine, ref: str) -> dict[str, Any]:
    """Size, architecture and id of a local image (for reports)."""
    attrs = engine.client.images.get(ref).attrs
    return {"id": attrs["Id"], "arch": attrs.get("Architecture"), "size": attrs.get("Size")}


def _build(recipe: Recipe, work: Path, engine: Engine, progress: Progress) -> None:
    log = work / "build.log"
    rootfs = work / "rootfs.tar"
    started = time.monotonic()
    try:
        progress(f"building {recipe.tag}: root filesystem ({recipe.kind}) ... log: {log}")
        if recipe.kind == "busybox":
            _busybox_rootfs(rootfs)
        else:
            _mmdebstrap_rootfs(recipe, rootfs, log, progress)
        rootfs_s = time.monotonic() - started
        progress(f"building {recipe.tag}: rootfs {rootfs.stat().st_size / 1e6:.0f} MB in {rootfs_s:.0f} s")
        _docker_build(recipe, rootfs, engine, log)
    except ImageError:
        raise
    except Exception as exc:
        raise ImageError(f"building image {recipe.tag} failed: {exc}", paths={"log": log}) from exc
    finally:
        rootfs.unlink(missing_ok=True)  # 1-2 GB: the image holds it now
    total = time.monotonic() - started
    info = image_info(engine, recipe.tag) | {"tag": recipe.tag, "seconds": round(total, 1)}
    (work / "image.json").write_text(json.dumps(info, indent=2))
    progress(f"built {recipe.tag} ({info['size'] / 1e6:.0f} MB) in {total:.0f} s")


# --- root filesystems ----------------------------------------------------------------------------


def host_apt_sources(paths: Iterable[Path] | None = None, suite: str = SUITE) -> list[str]:
    """One-line ``deb URI SUITE COMPONENTS`` entries for ``suite*`` from the host's apt configuration.

    Reads ``/etc/apt/sources.list`` and ``sources.list.d/*.list``/``*.sources`` (deb822), so the
    mirror is whatever this machine uses; only Debian suites of ``suite`` are kept.
    """
    if paths is None:
        etc = Path("/etc/apt")
        paths = [etc / "sources.list", *sorted((etc / "sources.list.d").glob("*.list"))]
        paths += sorted((etc / "sources.list.d").glob("*.sources"))
    lines: list[str] = []
    for path in paths:
        if not path.is_file():
            continue
        text = path.read_text(errors="replace")
        entries = _deb822_entries(text) if path.suffix == ".sources" else _one_line_entries(text)
        for uri, suites, comps in entries:
            for s in suites:
                if s == suite or s.startswith(f"{suite}-"):
                    lines.append(f"deb {uri} {s} {' '.join(comps)}")
    return list(dict.fromkeys(lines))


def _one_line_entries(text: str) -> list[tuple[str, list[str], list[str]]]:
    out = []
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line.startswith("deb "):
            continue
        words = re.sub(r"\[[^\]]*\]", "", line).split()
        if len(words) >= 3:
            out.append((words[1], [words[2]], words[3:] or ["main"]))
    return out


def _deb822_entries(text: str) -> list[tuple[str, list[str], list[str]]]:
    out = []
    for block in re.split(r"\n\s*\n", text):
        fields: dict[str, str] = {}
        for line in block.splitlines():
            if line.startswith("#") or ":" not in line or line[:1].isspace():
                continue
            key, _, value = line.partition(":")
            fields[key.strip().lower()] = value.strip()
        if "deb" not in fields.get("types", "").split() or fields.get("enabled", "yes").lower() == "no":
            continue
        for uri in fields.get("uris", "").split():
            out.append((uri, fields.get("suites", "").split(), fields.get("components", "main").split()))
    return out


def _mmdebstrap_rootfs(recipe: Recipe, rootfs: Path, log: Path, progress: Progress) -> None:
    mmdebstrap = shutil.which("mmdebstrap")
    if mmdebstrap is None:
        raise ImageError(
            "mmdebstrap is not installed (needed to build the local builder images)",
            hint="`apt-get install mmdebstrap arch-test` (as root)",
        )
    sources = host_apt_sources(suite=recipe.suite)
    if not sources:
        raise ImageError(
            f"the host's apt configuration has no Debian {recipe.suite} source to build images from",
            hint="add a Debian bookworm (+ bookworm-security) entry to /etc/apt/sources.list.d/",
            paths={"apt sources": Path("/etc/apt/sources.list.d")},
        )
    arches = [recipe.platform.arch]
    if any(p.endswith(":arm64") for p in recipe.packages) and recipe.platform != ARM64:
        arches.append("arm64")
    cmd = [
        "nice",
        "-n",
        "10",
        mmdebstrap,
        "--variant=apt",
        f"--architectures={','.join(arches)}",
        f"--include={','.join(recipe.packages)}",
        '--aptopt=Acquire::Retries "3"',
        "--dpkgopt=path-exclude=/usr/share/man/*",
        "--dpkgopt=path-exclude=/usr/share/locale/*",
        "--dpkgopt=path-exclude=/usr/share/doc/*",
        "--dpkgopt=path-include=/usr/share/doc/*/copyright",
        *(f"--customize-hook={_unpack_hook(pkg, dest)}" for pkg, dest in recipe.unpacked),
        recipe.suite,
        str(rootfs),
        *sources,
    ]
    with log.open("a") as out:
        out.write("$ " + " ".join(cmd) + "\n")
        out.flush()
        proc = subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, text=True
        )
        assert proc.stdout is not None
        try:
            for line in proc.stdout:
                out.write(line)
                if line.startswith("I: ") and "..." in line:  # mmdebstrap's stage lines
                    progress(f"{recipe.tag}: {line[3:].strip()}")
            proc.wait()
        except BaseException:  # interrupted: let mmdebstrap clean up its chroot (it handles TERM)
            proc.terminate()
            with suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=300)
            raise
    if proc.returncode != 0:
        raise ImageError(
            f"mmdebstrap failed (exit {proc.returncode}) for {recipe.tag}",
            hint="see the log; for arm64 check qemu-aarch64 in binfmt_misc (`pytest-rules-rust doctor`)",
            paths={"log": log},
        )


def _unpack_hook(package: str, dest: str) -> str:
    """A customize hook: download ``package`` with the chroot's apt config and ``dpkg -x`` it to ``dest``."""
    name, _, arch = package.partition(":")
    pattern = f"{name}_*_{arch or '*'}.deb"
    return (
        'set -e; cd "$1/tmp"; APT_CONFIG="$MMDEBSTRAP_APT_CONFIG" apt-get download '
        f'{package}; dpkg-deb -x {pattern} "$1{dest}"; rm -f {pattern}'
    )


def _busybox_rootfs(rootfs: Path) -> None:
    busybox = Path("/bin/busybox")
    if not busybox.exists():
        raise ImageError("/bin/busybox is missing", hint="`apt-get install busybox-static`")
    with tarfile.open(rootfs, "w") as tar:
        for d in ("bin", "tmp", "etc"):
            info = tarfile.TarInfo(d)
            info.type, info.mode = tarfile.DIRTYPE, 0o1777 if d == "tmp" else 0o755
            tar.addfile(info)
        tar.add(busybox, "bin/busybox")
        for applet in (
            "sh",
            "sleep",
            "true",
            "false",
            "cat",
            "echo",
            "id",
            "uname",
            "touch",
            "ls",
            "nslookup",
        ):
            info = tarfile.TarInfo(f"bin/{applet}")
            info.type, info.linkname = tarfile.SYMTYPE, "busybox"
            tar.addfile(info)


# --- docker build with a streamed context ------------------------------------------------------


class _ContextStream(io.RawIOBase):
    """A tar build context (Dockerfile + rootfs.tar) streamed without copying the rootfs."""

    def __init__(self, dockerfile: str, rootfs: Path) -> None:
        df = dockerfile.encode()
        size = rootfs.stat().st_size
        self._parts: list[bytes | Path] = [
            self._header("Dockerfile", len(df)) + df + self._pad(len(df)),
            self._header("rootfs.tar", size),
            rootfs,
            self._pad(size) + b"\0" * 1024,
        ]
        self._length = sum(len(p) if isinstance(p, bytes) else size for p in self._parts)
        self._index = 0
        self._offset = 0
        self._file: io.BufferedReader | None = None

    @staticmethod
    def _header(name: str, size: int) -> bytes:
        info = tarfile.TarInfo(name)
        info.size, info.mode, info.mtime = size, 0o644, 0
        return info.tobuf(format=tarfile.PAX_FORMAT)

    @staticmethod
    def _pad(size: int) -> bytes:
        return b"\0" * (-size % 512)

    def __len__(self) -> int:
        return self._length

    def readable(self) -> bool:
        return True

    def read(self, n: int | None = -1) -> bytes:
        want = self._length if n is None or n < 0 else n
        chunks: list[bytes] = []
        while want > 0 and self._index < len(self._parts):
            part = self._parts[self._index]
            if isinstance(part, bytes):
                chunk = part[self._offset : self._offset + want]
                self._offset += len(chunk)
                done = self._offset >= len(part)
            else:
                if self._file is None:
                    self._file = part.open("rb")
                chunk = self._file.read(min(want, 1 << 20))
                done = not chunk
                if done:
                    self._file.close()
                    self._file = None
            chunks.append(chunk)
            want -= len(chunk)
            if done:
                self._index, self._offset = self._index + 1, 0
        return b"".join(chunks)


def _docker_build(recipe: Recipe, rootfs: Path, engine: Engine, log: Path) -> None:
    docker_build(_ContextStream(recipe.dockerfile(), rootfs), recipe.tag, recipe.platform, engine, log)


def docker_build(context: io.IOBase, tag: str, platform: Platform, engine: Engine, log: Path) -> None:
    """``docker build`` of a streamed tar context for ``platform``, never pulling; output to ``log``."""
    stream = engine.client.api.build(
        fileobj=context,  # type: ignore[arg-type]  # any readable file object streams
        custom_context=True,
        tag=tag,
        platform=platform.docker,
        rm=True,
        forcerm=True,
        pull=False,
        decode=True,
        timeout=3600,
    )
    error = None
    with log.open("a") as out:
        for event in stream:
            if "stream" in event:
                out.write(str(event["stream"]))
            if "error" in event:
                error = str(event["error"]).strip()
                out.write(f"ERROR: {error}\n")
    if error or not image_exists(engine, tag, platform):
        raise ImageError(
            f"docker build of {tag} failed: {error or 'image missing or of the wrong architecture'}",
            paths={"log": log},
        )


def main(argv: list[str] | None = None) -> int:
    """Build the local builder images ahead of a run (the fixtures build them on first use anyway)."""
    parser = argparse.ArgumentParser(
        prog="python -m pytest_rules_rust.containers.images", description=main.__doc__
    )
    parser.add_argument("--platform", action="append", help="linux/amd64 and/or linux/arm64 (default: both)")
    parser.add_argument("--cache-dir", type=Path, default=None)
    parser.add_argument("--print-tags", action="store_true", help="print the tags only, build nothing")
    parser.add_argument("--bazel", action="store_true", help="also the Bazel images (builder + Bazelisk)")
    args = parser.parse_args(argv)
    platforms = [Platform.parse(p) for p in args.platform] if args.platform else list(ALL_PLATFORMS)
    kinds: list[BuilderKind] = ["cargo", "bazel"] if args.bazel else ["cargo"]
    if args.print_tags:
        for p in platforms:
            for kind in kinds:
                print(builder_image_ref(p, builder=kind))
        return 0
    cache = Cache(args.cache_dir)
    try:
        for p in platforms:
            print(ensure_builder_image(p, cache))
            if args.bazel:
                from .bazel_image import bazel_image, ensure_bazel_image

                print(ensure_bazel_image(bazel_image(p), cache))
    except ImageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
