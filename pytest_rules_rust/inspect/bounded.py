"""Reading untrusted image files with bounded memory and time.

An OCI layout or image tarball comes from anywhere, so nothing here trusts a size, a file type or
a compression ratio: blobs are opened only as regular files (never through a symlink), their size
is compared with what the descriptor declares before a byte is read, they are hashed in chunks,
gzip layers are inflated as a stream with a cap on the unpacked bytes (per image and per
compression ratio), tar headers that would be read whole (pax, GNU long names) have a size cap,
and JSON documents have a size and nesting-depth cap. Every limit is a field of
:class:`InspectLimits`; exceeding one raises :class:`InspectError` naming the file and the limit.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import stat
import tarfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO, Any

from ..errors import InspectError

GiB = 1 << 30
MiB = 1 << 20
CHUNK = 1 << 20


@dataclass(frozen=True)
class InspectLimits:
    """How much an inspection may read and unpack; the defaults suit images of a few GiB."""

    max_unpacked_bytes: int = 8 * GiB  # all layers of one inspection together, uncompressed
    max_ratio: float = 100.0  # unpacked / compressed size of one gzip layer ...
    ratio_floor_bytes: int = 64 * MiB  # ... enforced once a layer has unpacked this much
    max_json_bytes: int = 4 * MiB  # index.json, manifests, configs
    max_json_depth: int = 64
    max_entries: int = 200_000  # tar entries kept for the whole image (each costs memory)
    max_header_bytes: int = 1 * MiB  # one pax / GNU long-name header
    max_read_bytes: int = 64 * MiB  # one file read out of a layer (read_file)
    max_archive_members: int = 10_000  # members of an image tarball (a few per layer)


DEFAULT_LIMITS = InspectLimits()


def size_text(n: float) -> str:
    """``8 GiB``, ``1.5 MiB``, ``512 bytes``."""
    for unit, scale in (("GiB", GiB), ("MiB", MiB), ("KiB", 1024)):
        if n >= scale:
            return f"{n / scale:.3g} {unit}"
    return f"{int(n)} bytes"


def parse_size(text: str) -> int:
    """``8G``, ``512M``, ``100k`` or a plain byte count; raises ``ValueError`` otherwise."""
    match = re.fullmatch(r"\s*(\d+)\s*([kKmMgGtT]?)(i?[bB])?\s*", text)
    if not match:
        raise ValueError(f"not a size: {text[:40]!r} (e.g. 8G, 512M)")
    scale = {"": 1, "k": 1 << 10, "m": MiB, "g": GiB, "t": 1 << 40}[match.group(2).lower()]
    return int(match.group(1)) * scale


# ---------------------------------------------------------------- opening blobs


def open_regular(root: Path, name: str) -> tuple[IO[bytes], int] | None:
    """Open ``root/name`` for reading only if every part below ``root`` is a real directory and the
    file a regular file: a symlink (to ``/etc/shadow`` or another layout), a FIFO or a device is an
    error, not something to follow or block on. None when the file does not exist."""
    current = root
    parts = PurePosixPath(name).parts
    for part in parts:
        current = current / part
        try:
            info = os.lstat(current)
        except FileNotFoundError:
            return None
        last = part is parts[-1]
        if stat.S_ISLNK(info.st_mode):
            raise InspectError(
                f"{root}: {current.relative_to(root)} is a symlink (to {os.readlink(current)[:200]!r}); "
                "a layout's files must be regular files in real directories",
                hint="copy the layout with its files, not links (e.g. `cp -rL` from a trusted source)",
            )
        if not last and not stat.S_ISDIR(info.st_mode):
            return None
        if last and not stat.S_ISREG(info.st_mode):
            raise InspectError(f"{root}: {name} is not a regular file")
    fd = os.open(current, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    handle = os.fdopen(fd, "rb")
    info = os.fstat(handle.fileno())
    if not stat.S_ISREG(info.st_mode):  # replaced between lstat and open
        handle.close()
        raise InspectError(f"{root}: {name} is not a regular file")
    return handle, info.st_size


_WHOLE_HEADERS = (
    tarfile.GNUTYPE_LONGNAME,
    tarfile.GNUTYPE_LONGLINK,
    tarfile.XHDTYPE,
    tarfile.XGLTYPE,
    tarfile.SOLARIS_XHDTYPE,
)


class BoundedTarInfo(tarfile.TarInfo):
    """A ``TarInfo`` that refuses headers tarfile would otherwise read whole into memory."""

    max_header_bytes = DEFAULT_LIMITS.max_header_bytes

    # tarfile's hook for the member types it reads whole (pax and GNU long-name headers)
    def _proc_member(self, archive: tarfile.TarFile) -> tarfile.TarInfo:
        if self.type in _WHOLE_HEADERS and self.size > self.max_header_bytes:
            raise InspectError(
                f"a tar extended header is {size_text(self.size)} (limit {size_text(self.max_header_bytes)})"
            )
        member: tarfile.TarInfo = super()._proc_member(archive)  # type: ignore[misc]
        return member


def bounded_tarinfo(limits: InspectLimits) -> type[BoundedTarInfo]:
    """A ``TarInfo`` class with ``limits``' header cap (pass as ``tarfile.open(tarinfo=...)``)."""
    return type("LimitedTarInfo", (BoundedTarInfo,), {"max_header_bytes": limits.max_header_bytes})


# ---------------------------------------------------------------- JSON


def json_depth_ok(data: bytes, max_depth: int) -> bool:
    """True when ``data``'s arrays/objects nest at most ``max_depth`` deep (strings ignored)."""
    brackets = re.sub(rb'"(?:[^"\\]|\\.)*"', b"", data).translate(
        None, bytes(range(256)).translate(None, b"[]{}")
    )
    depth = 0
    for byte in brackets:
        depth += 1 if byte in b"[{" else -1
        if depth > max_depth:
            return False
    return True


def load_json(handle: IO[bytes], size: int, what: str, where: Path, limits: InspectLimits) -> Any:
    """Parse a JSON document of at most ``limits.max_json_bytes`` and ``max_json_depth``."""
    if size > limits.max_json_bytes:
        raise InspectError(
            f"{where}: {what} is {size_text(size)}, more than the {size_text(limits.max_json_bytes)} "
            "allowed for a JSON document",
            hint="an image's index, manifests and configs are a few KiB; this file is not one",
        )
    data = handle.read(limits.max_json_bytes + 1)
    if len(data) > limits.max_json_bytes:
        raise InspectError(f"{where}: {what} is larger than {size_text(limits.max_json_bytes)}")
    if not json_depth_ok(data, limits.max_json_depth):
        raise InspectError(f"{where}: {what} nests deeper than {limits.max_json_depth} levels")
    try:
        return json.loads(data)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise InspectError(f"{where}: {what} is not valid JSON ({str(exc)[:200]})") from None


# ---------------------------------------------------------------- layers as streams


class UnpackBudget:
    """Unpacked bytes left for one inspection (shared by its layers)."""

    def __init__(self, limits: InspectLimits) -> None:
        self.limits = limits
        self.used = 0
        self.entries = 0


class LayerStream(io.RawIOBase):
    """A layer blob read once, in chunks: hashes the raw bytes and (for gzip) the inflated ones,
    counting both against the declared size and the unpack budget. ``tarfile.open(mode="r|")``
    reads the uncompressed tar from it."""

    def __init__(self, blob: IO[bytes], *, size: int, gzipped: bool, what: str, budget: UnpackBudget) -> None:
        super().__init__()
        self._blob = blob
        self._size = size
        self._what = what
        self._budget = budget
        self._inflate = zlib.decompressobj(16 + zlib.MAX_WBITS) if gzipped else None
        self._pending = b""
        self._blob_done = False
        self._padded = False
        self.raw_hash = hashlib.sha256()
        self.tar_hash = hashlib.sha256()
        self.raw_bytes = 0
        self.tar_bytes = 0

    def readable(self) -> bool:
        return True

    def _raw_chunk(self) -> bytes:
        chunk = self._blob.read(CHUNK)
        self.raw_bytes += len(chunk)
        if self.raw_bytes > self._size:
            raise InspectError(f"{self._what} is longer than the {self._size} bytes declared")
        self.raw_hash.update(chunk)
        if not chunk:
            self._blob_done = True
        return chunk

    def _inflated(self) -> bytes:
        assert self._inflate is not None
        while True:
            if self._inflate.unconsumed_tail:
                data = self._inflate.decompress(self._inflate.unconsumed_tail, CHUNK)
            elif self._inflate.eof:
                rest = self._inflate.unused_data + (b"" if self._blob_done else self._raw_chunk())
                if not rest.strip(b"\0"):
                    if self._blob_done:
                        return b""
                    continue
                self._inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)  # another gzip member
                data = self._inflate.decompress(rest, CHUNK)
            else:
                chunk = self._raw_chunk()
                if not chunk:
                    raise InspectError(f"{self._what} is not valid gzip (it ends inside the stream)")
                data = self._inflate.decompress(chunk, CHUNK)
            if data:
                return data

    def _next(self) -> bytes:
        try:
            data = self._inflated() if self._inflate is not None else self._raw_chunk()
        except zlib.error as exc:
            raise InspectError(f"{self._what} is not valid gzip ({exc})") from None
        self.tar_bytes += len(data)
        self.tar_hash.update(data)
        self._budget.used += len(data)
        limits = self._budget.limits
        if self._budget.used > limits.max_unpacked_bytes:
            raise InspectError(
                f"{self._what} unpacks past the limit of {size_text(limits.max_unpacked_bytes)} "
                "for the whole image",
                hint="raise --max-unpacked (InspectLimits.max_unpacked_bytes) if the image is that big",
            )
        ratio = self.tar_bytes / max(self._size, 1)
        if (
            self._inflate is not None
            and self.tar_bytes > limits.ratio_floor_bytes
            and ratio > limits.max_ratio
        ):
            raise InspectError(
                f"{self._what} unpacks to more than {limits.max_ratio:g} times its compressed size "
                f"({size_text(self._size)} → over {size_text(self.tar_bytes)}): a decompression bomb?",
                hint="raise the limit with --max-ratio (InspectLimits.max_ratio) if the layer is genuine",
            )
        return data

    def read(self, n: int = -1) -> bytes:
        if not self._pending:
            self._pending = self._next()
            if not self._pending and not self._padded:
                # Some writers (umoci 0.4.7) omit the block padding and end-of-archive blocks;
                # Docker accepts such layers, so supply them (neither hashed nor counted).
                self._padded = True
                self._pending = b"\0" * (-self.tar_bytes % 512 + 1024)
        if n < 0:
            n = len(self._pending)
        out, self._pending = self._pending[:n], self._pending[n:]
        return out

    def drain(self) -> None:
        """Read to the end (so both hashes cover the whole blob)."""
        self._pending = b""
        while self._next():
            pass

    def drain_raw(self) -> str:
        """Hash the rest of the raw blob without unpacking it; returns its sha256 digest."""
        while not self._blob_done:
            self._raw_chunk()
        return "sha256:" + self.raw_hash.hexdigest()
