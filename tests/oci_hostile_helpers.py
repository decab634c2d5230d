"""Build OCI layouts around arbitrary layer bytes, hostile ones included (tests and benchmarks)."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
import zlib
from collections.abc import Iterable, Sequence
from pathlib import Path

MiB = 1 << 20
GZIP_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
TAR_LAYER = "application/vnd.oci.image.layer.v1.tar"


def _digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _put(layout: Path, data: bytes) -> str:
    return _put_chunks(layout, [data])[0]


def _put_chunks(layout: Path, chunks: Iterable[bytes]) -> tuple[str, int]:
    """Store a blob written chunk by chunk (a 1 GiB layer never sits in memory); digest and size."""
    blobs = layout / "blobs" / "sha256"
    blobs.mkdir(parents=True, exist_ok=True)
    partial = blobs / "partial"
    hasher, size = hashlib.sha256(), 0
    with partial.open("wb") as out:
        for chunk in chunks:
            hasher.update(chunk)
            size += len(chunk)
            out.write(chunk)
    partial.rename(blobs / hasher.hexdigest())
    return "sha256:" + hasher.hexdigest(), size


def write_layout(
    layout: Path, layer: bytes | Iterable[bytes], *, media_type: str = TAR_LAYER, diff_id: str = ""
) -> str:
    """A one-layer linux/amd64 OCI layout around ``layer`` (the bytes as stored, or chunks of them).

    ``diff_id`` is the uncompressed tar's digest (default: the layer's own, right for a plain tar).
    Returns the layer's digest.
    """
    layer_digest, layer_size = _put_chunks(layout, [layer] if isinstance(layer, bytes) else layer)
    config = {
        "architecture": "amd64",
        "os": "linux",
        "config": {"Entrypoint": ["/x"]},
        "rootfs": {"type": "layers", "diff_ids": [diff_id or layer_digest]},
    }
    config_bytes = json.dumps(config).encode()
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {
            "mediaType": "application/vnd.oci.image.config.v1+json",
            "digest": _put(layout, config_bytes),
            "size": len(config_bytes),
        },
        "layers": [{"mediaType": media_type, "digest": layer_digest, "size": layer_size}],
    }
    manifest_bytes = json.dumps(manifest).encode()
    index = {
        "schemaVersion": 2,
        "manifests": [
            {
                "mediaType": manifest["mediaType"],
                "digest": _put(layout, manifest_bytes),
                "size": len(manifest_bytes),
            }
        ],
    }
    (layout / "index.json").write_text(json.dumps(index))
    (layout / "oci-layout").write_text('{"imageLayoutVersion": "1.0.0"}')
    return layer_digest


def tar_of(members: Sequence[tuple[tarfile.TarInfo, bytes]], **options: object) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", **options) as tar:  # type: ignore[call-overload]
        for info, data in members:
            tar.addfile(info, io.BytesIO(data) if data else None)
    return buf.getvalue()


def member(
    name: str, data: bytes = b"", kind: bytes = tarfile.REGTYPE, **fields: object
) -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.type, info.size, info.mode = kind, len(data), 0o755
    for key, value in fields.items():
        setattr(info, key, value)
    return info, data


def one_file_tar(name: str, size: int, fill: bytes = b"\0") -> Iterable[bytes]:
    """The chunks of a tar holding one ``size``-byte file of ``fill`` bytes (``size`` a multiple of 1 MiB)."""
    info = tarfile.TarInfo(name)
    info.size, info.mode = size, 0o644
    yield info.tobuf()
    block = fill * MiB
    for _ in range(size // MiB):
        yield block
    yield b"\0" * 1024


def zero_bomb(unpacked: int) -> tuple[bytes, str]:
    """A gzip layer holding one file of ``unpacked`` zero bytes, and the diff_id of its tar."""
    squeeze = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    plain = hashlib.sha256()
    out = []
    for chunk in one_file_tar("zeros", unpacked):
        plain.update(chunk)
        out.append(squeeze.compress(chunk))
    out.append(squeeze.flush())
    return b"".join(out), "sha256:" + plain.hexdigest()
