"""Write OCI layouts the way the document's rules_oci pipeline does, reproducibly.

binary → ``pkg_tar`` layer → ``oci_image`` (scratch base) per platform → ``oci_image_index``
(a top ``index.json`` with one image-index descriptor pointing at a nested index that lists each
platform's manifest) → ``<name>.json.sha256`` → short tag (``build_sha265_tag``).

Reproducibility: tar members sorted, mtime 0, uid/gid 0, owner names empty, modes fixed (files
0o555 as ``pkg_tar``'s default, directories 0o755); config ``created`` is 1970-01-01; JSON is
written with sorted keys and no whitespace. Layers are uncompressed
``application/vnd.oci.image.layer.v1.tar`` by default, as rules_oci records a plain ``pkg_tar``
output; ``compress=True`` writes gzip with mtime 0 and no file name instead.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from ..errors import EngineError, UsageError
from ..inspect.oci import MT_OCI_INDEX, MT_OCI_MANIFEST, inspect_image, short_tag_of
from ..platforms import Platform

MT_CONFIG = "application/vnd.oci.image.config.v1+json"
MT_LAYER_TAR = "application/vnd.oci.image.layer.v1.tar"
MT_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
EPOCH = "1970-01-01T00:00:00Z"
FILE_MODE = 0o555
DIR_MODE = 0o755


@dataclass(frozen=True)
class Layout:
    """A written OCI layout: its directory, top descriptor and the files rules_oci writes beside it."""

    path: Path
    digest: str  # the top descriptor's digest (what <name>.json.sha256 holds)
    media_type: str
    size: int
    digest_file: Path  # <name>.json.sha256
    tag_file: Path  # <name>_tag.txt, the build_sha265_tag output
    platform: Platform | None = None  # set for a single-platform image

    @property
    def short_tag(self) -> str:
        return short_tag_of(self.digest)

    def descriptor(self) -> dict[str, Any]:
        return {"mediaType": self.media_type, "digest": self.digest, "size": self.size}


def _canonical(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":")).encode()


def _sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _put_blob(out_dir: Path, data: bytes) -> str:
    digest = _sha256(data)
    target = out_dir / "blobs" / "sha256" / digest[7:]
    target.parent.mkdir(parents=True, exist_ok=True)
    if not target.exists():
        target.write_bytes(data)
    return digest


def _tar_info(name: str, *, kind: bytes, size: int = 0, mode: int = FILE_MODE) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.size, info.mode = kind, size, mode
    info.mtime = info.uid = info.gid = 0
    info.uname = info.gname = ""
    return info


def layer_tar(files: Mapping[str, Path | bytes]) -> bytes:
    """A reproducible tar of ``files`` (destination path → source file or content), parents included."""
    contents: dict[str, bytes] = {}
    for dest, source in files.items():
        clean = PurePosixPath("/", dest)
        if not dest.startswith("/") or ".." in clean.parts or clean == PurePosixPath("/"):
            raise UsageError(
                f"image file destination {dest!r} must be an absolute path without '..'",
                hint="use paths like /bin or /etc/app.toml",
            )
        if isinstance(source, Path):
            if not source.is_file():
                raise UsageError(f"image file source {source} for {dest} is not a file")
            contents[str(clean)[1:]] = source.read_bytes()
        else:
            contents[str(clean)[1:]] = bytes(source)
    dirs = {str(parent) for name in contents for parent in PurePosixPath(name).parents if str(parent) != "."}
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name in sorted(dirs | set(contents)):
            if name in contents:
                tar.addfile(
                    _tar_info(name, kind=tarfile.REGTYPE, size=len(contents[name])),
                    io.BytesIO(contents[name]),
                )
            else:
                tar.addfile(_tar_info(name + "/", kind=tarfile.DIRTYPE, mode=DIR_MODE))
    return buffer.getvalue()


def _side_files(out_dir: Path, digest: str) -> tuple[Path, Path]:
    digest_file = out_dir.parent / f"{out_dir.name}.json.sha256"
    digest_file.write_text(digest + "\n")
    tag_file = out_dir.parent / f"{out_dir.name}_tag.txt"
    tag_file.write_text(short_tag_of(digest_file.read_text()) + "\n")
    return digest_file, tag_file


def _fresh_layout(out_dir: Path) -> None:
    if out_dir.exists():
        shutil.rmtree(out_dir)
    out_dir.mkdir(parents=True)
    (out_dir / "oci-layout").write_bytes(_canonical({"imageLayoutVersion": "1.0.0"}))


def _ports(exposed_ports: Sequence[str | int]) -> dict[str, dict[str, Any]]:
    ports: dict[str, dict[str, Any]] = {}
    for port in exposed_ports:
        text = str(port)
        number, _, proto = text.partition("/")
        if not number.isdigit() or not 0 < int(number) < 65536 or proto not in ("", "tcp", "udp", "sctp"):
            raise UsageError(
                f"exposed port {text!r} is not PORT or PORT/PROTO", hint='e.g. "3232" or "3232/tcp"'
            )
        ports[f"{int(number)}/{proto or 'tcp'}"] = {}
    return ports


def write_image(
    out_dir: Path,
    *,
    files: Mapping[str, Path | bytes],
    platform: Platform,
    entrypoint: Sequence[str],
    exposed_ports: Sequence[str | int] = (),
    cmd: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
    labels: Mapping[str, str] | None = None,
    user: str = "",
    workdir: str = "",
    compress: bool = False,
) -> Layout:
    """Write a one-layer scratch image for ``platform`` as rules_oci's ``oci_image`` does.

    ``index.json`` lists the manifest (no annotations); ``<out_dir>.json.sha256`` holds its digest.
    """
    out_dir = Path(out_dir)
    _fresh_layout(out_dir)
    raw = layer_tar(files)
    layer = gzip.compress(raw, mtime=0) if compress else raw
    layer_digest = _put_blob(out_dir, layer)
    inner: dict[str, Any] = {"Entrypoint": list(entrypoint)}
    if cmd:
        inner["Cmd"] = list(cmd)
    if env:
        inner["Env"] = [f"{k}={v}" for k, v in env.items()]
    if exposed_ports:
        inner["ExposedPorts"] = _ports(exposed_ports)
    if labels:
        inner["Labels"] = dict(labels)
    if user:
        inner["User"] = user
    if workdir:
        inner["WorkingDir"] = workdir
    config: dict[str, Any] = {
        "created": EPOCH,
        "architecture": platform.arch,
        "os": platform.os,
        "config": inner,
        "rootfs": {"type": "layers", "diff_ids": [_sha256(raw)]},
        "history": [{"created": EPOCH, "created_by": "pytest-rules-rust oci_write (pkg_tar layer)"}],
    }
    if platform.arch == "arm64":
        config["variant"] = "v8"
    config_bytes = _canonical(config)
    manifest = {
        "schemaVersion": 2,
        "mediaType": MT_OCI_MANIFEST,
        "config": {
            "mediaType": MT_CONFIG,
            "digest": _put_blob(out_dir, config_bytes),
            "size": len(config_bytes),
        },
        "layers": [
            {
                "mediaType": MT_LAYER_GZIP if compress else MT_LAYER_TAR,
                "digest": layer_digest,
                "size": len(layer),
            }
        ],
    }
    manifest_bytes = _canonical(manifest)
    digest = _put_blob(out_dir, manifest_bytes)
    top = {"mediaType": MT_OCI_MANIFEST, "digest": digest, "size": len(manifest_bytes)}
    (out_dir / "index.json").write_bytes(_canonical({"schemaVersion": 2, "manifests": [top]}))
    digest_file, tag_file = _side_files(out_dir, digest)
    return Layout(out_dir, digest, MT_OCI_MANIFEST, len(manifest_bytes), digest_file, tag_file, platform)


def _platform_of(image: Layout) -> dict[str, str]:
    manifest = json.loads((image.path / "blobs" / "sha256" / image.digest[7:]).read_bytes())
    config = json.loads((image.path / "blobs" / "sha256" / manifest["config"]["digest"][7:]).read_bytes())
    platform = {"architecture": config["architecture"], "os": config["os"]}
    if config.get("variant"):
        platform["variant"] = config["variant"]
    return platform


def write_index(out_dir: Path, images: Sequence[Layout]) -> Layout:
    """Combine single-platform image layouts into a nested image index as ``oci_image_index`` does.

    The nested index lists each manifest with the ``platform`` copied from its config; the top
    ``index.json`` holds one descriptor of type image index, whose digest goes to ``<out_dir>.json.sha256``.
    """
    if not images:
        raise UsageError("write_index needs at least one image layout")
    out_dir = Path(out_dir)
    _fresh_layout(out_dir)
    manifests = []
    for image in images:
        for blob in sorted((image.path / "blobs" / "sha256").iterdir()):
            _put_blob(out_dir, blob.read_bytes())
        manifests.append({**image.descriptor(), "platform": _platform_of(image)})
    nested = _canonical({"schemaVersion": 2, "mediaType": MT_OCI_INDEX, "manifests": manifests})
    digest = _put_blob(out_dir, nested)
    top = {"mediaType": MT_OCI_INDEX, "digest": digest, "size": len(nested)}
    (out_dir / "index.json").write_bytes(_canonical({"schemaVersion": 2, "manifests": [top]}))
    digest_file, tag_file = _side_files(out_dir, digest)
    return Layout(out_dir, digest, MT_OCI_INDEX, len(nested), digest_file, tag_file)


def short_tag(layout: Layout | Path) -> str:
    """The document's short tag: first 7 hex of the digest in ``<name>.json.sha256``."""
    if isinstance(layout, Layout):
        return short_tag_of(layout.digest_file.read_text())

    return inspect_image(layout).short_tag


def assemble_service_image(
    binaries: Mapping[Platform, Path],
    out_dir: Path,
    entrypoint: Sequence[str],
    ports: Sequence[str | int],
    *,
    binary_path: str | None = None,
    labels: Mapping[str, str] | None = None,
    compress: bool = False,
) -> Layout:
    """binary per platform → scratch image per platform → image index, like the musl_jemalloc_oci BUILD file.

    Each binary is placed at ``binary_path`` (default: ``entrypoint[0]``, the document's ``/bin``).
    Per-platform layouts are written next to ``out_dir`` as ``<out_dir>-<os>-<arch>``.
    """
    if not binaries:
        raise UsageError("assemble_service_image needs at least one platform binary")
    if not entrypoint:
        raise UsageError("assemble_service_image needs an entrypoint", hint='e.g. entrypoint=["/bin"]')
    out_dir = Path(out_dir)
    dest = binary_path or entrypoint[0]
    images = [
        write_image(
            out_dir.parent / f"{out_dir.name}-{platform.slug}",
            files={dest: binary},
            platform=platform,
            entrypoint=entrypoint,
            exposed_ports=ports,
            labels=labels,
            compress=compress,
        )
        for platform, binary in sorted(binaries.items())
    ]
    return write_index(out_dir, images)


def push_index(
    layout: Layout | Path, repository: str, tags: Sequence[str], *, tls_verify: bool = True
) -> str:
    """The ``oci_push`` step: copy the whole index to ``repository`` under each tag; return the pushed digest.

    Digests are preserved (``--preserve-digests``), as crane does for rules_oci, so the registry's
    index digest is the layout's and the short tag still names it.
    """
    path = layout.path if isinstance(layout, Layout) else Path(layout)
    if not tags:
        raise UsageError("push_index needs at least one tag", hint="e.g. tags=[short_tag(layout)]")
    pushed = ""
    for tag in tags:
        with tempfile.TemporaryDirectory(prefix="rr-push-") as tmp:
            digest_file = Path(tmp) / "digest"
            argv = [
                "skopeo",
                "copy",
                "--quiet",
                "--all",
                "--preserve-digests",
                f"--dest-tls-verify={str(tls_verify).lower()}",
                "--digestfile",
                str(digest_file),
                f"oci:{path}",
                f"docker://{repository}:{tag}",
            ]
            done = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=300)
            if done.returncode != 0:
                raise EngineError(
                    f"pushing {path} to {repository}:{tag} failed: {done.stderr.strip()[-400:]}",
                    hint="is the registry running and reachable? (plain HTTP needs tls_verify=False)",
                )
            pushed = digest_file.read_text().strip()
    return pushed
