"""Read OCI image layouts (directory or tarball) and docker-archive tarballs, without Docker.

The walk is index → (nested index, as rules_oci's ``oci_image_index`` writes it) → per-platform
manifests → configs → layers (files with modes and owners, read from the tar). Every blob's
sha256 is checked against the descriptor that names it; a mismatch raises ``InspectError``
naming the blob and both digests.

Three stores sit behind one interface, picked by what the path holds (habit: a registry of
readers by name): ``oci-dir``, ``oci-tar`` and ``docker-archive``.

>>> info = inspect_image("out/image_index")          # doctest: +SKIP
>>> info.short_tag, [p.architecture for p in info.platforms]   # doctest: +SKIP
('77f0604', ['amd64', 'arm64'])
"""

from __future__ import annotations

import hashlib
import io
import re
import stat
import tarfile
import zlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import IO, Any, Protocol

from ..errors import InspectError
from ..platforms import Platform
from .bounded import (
    DEFAULT_LIMITS,
    InspectLimits,
    LayerStream,
    UnpackBudget,
    bounded_tarinfo,
    load_json,
    open_regular,
    size_text,
)

MT_OCI_INDEX = "application/vnd.oci.image.index.v1+json"
MT_OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MT_DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
MT_DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
INDEX_TYPES = (MT_OCI_INDEX, MT_DOCKER_LIST)
MANIFEST_TYPES = (MT_OCI_MANIFEST, MT_DOCKER_MANIFEST)
_GZIP_LAYERS = (
    "application/vnd.oci.image.layer.v1.tar+gzip",
    "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
    "application/vnd.docker.image.rootfs.diff.tar.gzip",
)
_TAR_LAYERS = ("application/vnd.oci.image.layer.v1.tar", "application/vnd.docker.image.rootfs.diff.tar")
_DIGEST_RE = re.compile(r"^sha256:[0-9a-f]{64}$")
# The document's build_sha265_tag rule: sed -n 's/.*sha256:\([[:alnum:]]\{7\}\).*/\1/p'
_SHORT_TAG_RE = re.compile(r".*sha256:([0-9A-Za-z]{7})")


# ---------------------------------------------------------------- values


@dataclass(frozen=True, slots=True)
class FileEntry:
    """One entry of a layer tar (or of the merged file system of an image)."""

    path: str  # absolute, normalised: "/bin"
    kind: str  # "file", "dir", "symlink", "hardlink", "other"
    mode: int  # permission bits (0o7777 mask)
    uid: int
    gid: int
    size: int
    linkname: str = ""

    @property
    def permissions(self) -> str:
        """``-rwxr-xr-x`` as ``ls -l`` and container-structure-test print it."""
        type_char = {"dir": "d", "symlink": "L", "file": "-"}.get(self.kind, "-")
        return type_char + stat.filemode(self.mode)[1:]

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "kind": self.kind,
            "mode": f"{self.mode:04o}",
            "uid": self.uid,
            "gid": self.gid,
            "size": self.size,
            "linkname": self.linkname,
        }


@dataclass(frozen=True)
class LayerInfo:
    digest: str
    media_type: str
    size: int
    diff_id: str  # sha256 of the uncompressed tar
    entries: tuple[FileEntry, ...]
    whiteouts: tuple[str, ...] = ()
    blob_path: str = ""  # where the blob lives inside the layout or archive
    findings: tuple[str, ...] = ()  # entries unsafe to extract: absolute/.. paths, devices


@dataclass(frozen=True)
class PlatformImage:
    """One platform's manifest, config and layers."""

    os: str
    architecture: str
    variant: str
    digest: str  # manifest digest (config digest for a docker-archive, which has no manifest blob)
    config_digest: str
    entrypoint: tuple[str, ...]
    cmd: tuple[str, ...]
    env: tuple[str, ...]
    exposed_ports: tuple[str, ...]
    user: str
    workdir: str
    labels: Mapping[str, str]
    layers: tuple[LayerInfo, ...]

    @property
    def platform(self) -> str:
        return "/".join(p for p in (self.os, self.architecture, self.variant) if p)

    @property
    def env_map(self) -> dict[str, str]:
        return dict(item.partition("=")[::2] for item in self.env)

    def filesystem(self) -> dict[str, FileEntry]:
        """The merged view of all layers, whiteouts applied (path → entry)."""
        merged: dict[str, FileEntry] = {}
        for layer in self.layers:
            for gone in layer.whiteouts:
                if gone.endswith("/.wh..wh..opq"):
                    prefix = gone.removesuffix(".wh..wh..opq")
                    merged = {p: e for p, e in merged.items() if not p.startswith(prefix)}
                    continue
                merged = {p: e for p, e in merged.items() if p != gone and not p.startswith(gone + "/")}
            for entry in layer.entries:
                merged[entry.path] = entry
        return merged

    @property
    def files(self) -> tuple[str, ...]:
        return tuple(sorted(self.filesystem()))

    @property
    def findings(self) -> tuple[str, ...]:
        """Every layer's unsafe entries (absolute or ``..`` paths, hard links out, device nodes)."""
        return tuple(f for layer in self.layers for f in layer.findings)

    def to_json(self) -> dict[str, Any]:
        return {
            "os": self.os,
            "architecture": self.architecture,
            "variant": self.variant,
            "digest": self.digest,
            "entrypoint": list(self.entrypoint),
            "cmd": list(self.cmd),
            "env": list(self.env),
            "exposed_ports": list(self.exposed_ports),
            "user": self.user,
            "workdir": self.workdir,
            "labels": dict(self.labels),
            "layers": [
                {"digest": la.digest, "media_type": la.media_type, "size": la.size} for la in self.layers
            ],
            "files": list(self.files),
            "findings": list(self.findings),
        }


@dataclass(frozen=True)
class ImageInfo:
    """What ``inspect_image`` found: the top digest, its short tag and every platform."""

    path: Path
    format: str  # "oci-dir", "oci-tar" or "docker-archive"
    digest: str
    media_type: str
    platforms: tuple[PlatformImage, ...]
    _store: Store | None = field(default=None, repr=False, compare=False)

    @property
    def short_tag(self) -> str:
        return short_tag_of(self.digest)

    def platform(self, wanted: str) -> PlatformImage:
        """The image for ``linux/arm64`` (or ``arm64``, ``aarch64``); an error lists what exists."""
        want = Platform.parse(wanted)
        for image in self.platforms:
            if image.os == want.os and image.architecture == want.arch:
                return image
        have = ", ".join(p.platform for p in self.platforms) or "none"
        raise InspectError(f"{self.path}: no image for {want} (platforms: {have})")

    def read_file(self, image: PlatformImage, path: str) -> bytes:
        """The content of ``path`` in ``image``'s merged file system (symlinks followed)."""
        if self._store is None:
            raise InspectError(f"{self.path}: this ImageInfo was built without its blob store")
        return _read_from_layers(self._store, image, path)

    def to_json(self) -> dict[str, Any]:
        return {
            "digest": self.digest,
            "short_tag": self.short_tag,
            "platforms": [p.to_json() for p in self.platforms],
        }


def short_tag_of(digest_text: str) -> str:
    """First 7 characters after ``sha256:``, exactly as the document's ``build_sha265_tag`` sed does."""
    for line in digest_text.splitlines():
        match = _SHORT_TAG_RE.match(line)
        if match:
            return match.group(1)
    return ""


def short_tag_from_file(digest_file: Path) -> str:
    """Apply the ``build_sha265_tag`` rule to a ``<name>.json.sha256`` file."""
    return short_tag_of(digest_file.read_text())


# ---------------------------------------------------------------- stores


class Store(Protocol):
    """Where blobs live: named regular files, opened as ``(handle, size)``; None when absent."""

    path: Path
    format: str
    limits: InspectLimits

    def open(self, name: str) -> tuple[IO[bytes], int] | None: ...


class _DirStore:
    format = "oci-dir"

    def __init__(self, path: Path, limits: InspectLimits) -> None:
        self.path = path
        self.limits = limits

    def open(self, name: str) -> tuple[IO[bytes], int] | None:
        return open_regular(self.path, name)


class _TarStore:
    def __init__(self, path: Path, format: str, limits: InspectLimits) -> None:
        self.path = path
        self.format = format
        self.limits = limits
        self._tar = tarfile.open(path, tarinfo=bounded_tarinfo(limits))  # noqa: SIM115 - kept open
        self._members: dict[str, tarfile.TarInfo] = {}
        for member in self._tar:
            if len(self._members) >= limits.max_archive_members:
                raise InspectError(
                    f"{path}: the tarball has more than {limits.max_archive_members} members; "
                    "an image layout or archive has a few per layer"
                )
            self._members[member.name.removeprefix("./")] = member
            _forget_members(self._tar)

    def open(self, name: str) -> tuple[IO[bytes], int] | None:
        member = self._members.get(name)
        if member is None:
            return None
        if not member.isfile():
            kind = "a symlink" if member.issym() else "a hard link" if member.islnk() else "not a file"
            raise InspectError(f"{self.path}: {name} in the tarball is {kind}; blobs must be regular files")
        handle = self._tar.extractfile(member)
        return (handle, member.size) if handle else None

    def names(self) -> set[str]:
        return set(self._members)


def _open_store(path: Path, limits: InspectLimits) -> Store:
    if path.is_dir():
        if not (path / "index.json").exists():
            raise InspectError(
                f"{path}: not an OCI layout (no index.json)",
                hint="pass an OCI layout directory, an OCI layout tarball or a docker-archive tarball",
            )
        return _DirStore(path, limits)
    if not path.exists():
        raise InspectError(f"{path}: no such file or directory")
    try:
        tar = _TarStore(path, "oci-tar", limits)
    except (tarfile.TarError, OSError, EOFError, zlib.error) as exc:
        raise InspectError(
            f"{path}: not a tar archive ({str(exc)[:200]})",
            hint="pass an OCI layout directory or tarball, or a docker-archive tarball",
        ) from exc
    names = tar.names()
    if "index.json" in names:
        return tar
    if "manifest.json" in names:
        tar.format = "docker-archive"
        return tar
    raise InspectError(
        f"{path}: tarball has neither index.json (OCI layout) nor manifest.json (docker-archive)"
    )


# ---------------------------------------------------------------- verified reads


def _sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _descriptor_blob(store: Store, descriptor: Mapping[str, Any], what: str) -> tuple[IO[bytes], int, str]:
    """Open the blob ``descriptor`` names, after checking its digest's form and its declared size."""
    digest = str(descriptor.get("digest", ""))
    if not _DIGEST_RE.match(digest):
        raise InspectError(
            f"{store.path}: {what} has an invalid digest {digest[:80]!r} (only sha256 is supported)"
        )
    declared = descriptor.get("size")
    if not isinstance(declared, int) or isinstance(declared, bool) or declared < 0:
        raise InspectError(f"{store.path}: {what} ({digest}) declares no valid size ({str(declared)[:40]!r})")
    opened = store.open(f"blobs/sha256/{digest[7:]}")
    if opened is None:
        raise InspectError(
            f"{store.path}: blob {digest} ({what}) is missing from blobs/sha256/",
            hint="the layout is incomplete; rebuild or re-copy it",
        )
    handle, size = opened
    if size != declared:
        handle.close()
        raise InspectError(
            f"{store.path}: blob {digest} ({what}) is {size} bytes, descriptor says {declared}"
        )
    return handle, size, digest


def _mismatch(store: Store, digest: str, what: str, actual: str) -> InspectError:
    return InspectError(
        f"{store.path}: digest mismatch for blob {digest} ({what}): its content has {actual}",
        hint="the blob was modified after the layout was written; rebuild the image",
    )


def _json_blob(store: Store, descriptor: Mapping[str, Any], what: str) -> tuple[dict[str, Any], bytes]:
    """A verified JSON blob (manifest, config, index), size- and depth-limited."""
    handle, size, digest = _descriptor_blob(store, descriptor, what)
    with handle:
        if size > store.limits.max_json_bytes:
            raise InspectError(
                f"{store.path}: {what} ({digest}) is {size_text(size)}, more than the "
                f"{size_text(store.limits.max_json_bytes)} allowed for a JSON document"
            )
        data = handle.read(size + 1)
    if _sha256(data) != digest:
        raise _mismatch(store, digest, what, _sha256(data))
    return _json(io.BytesIO(data), len(data), what, store), data


def _json(handle: IO[bytes], size: int, what: str, store: Store) -> dict[str, Any]:
    value = load_json(handle, size, what, store.path, store.limits)
    if not isinstance(value, dict):
        raise InspectError(f"{store.path}: {what} is not a JSON object")
    return value


def _named_json(store: Store, name: str) -> tuple[Any, bytes] | None:
    """A JSON file named in the layout (index.json, manifest.json): the value and its bytes."""
    opened = store.open(name)
    if opened is None:
        return None
    handle, size = opened
    with handle:
        data = handle.read(min(size, store.limits.max_json_bytes) + 1)
    return load_json(io.BytesIO(data), size, name, store.path, store.limits), data


def _gzipped(media_type: str, where: str) -> bool:
    if media_type in _TAR_LAYERS:
        return False
    if media_type in _GZIP_LAYERS or media_type.endswith("+gzip"):
        return True
    raise InspectError(
        f"{where}: unsupported layer media type {media_type[:80]!r}",
        hint="supported: uncompressed tar and tar+gzip layers",
    )


@dataclass(frozen=True)
class _ReadLayer:
    """What one pass over a layer blob found."""

    blob_digest: str
    diff_id: str
    entries: tuple[FileEntry, ...]
    whiteouts: tuple[str, ...]
    findings: tuple[str, ...]

    def layer(self, digest: str, media_type: str, size: int, blob_path: str) -> LayerInfo:
        """The layer as the image lists it, with what this pass found in its content."""
        return LayerInfo(
            digest, media_type, size, self.diff_id, self.entries, self.whiteouts, blob_path, self.findings
        )


def _read_layer(
    store: Store, handle: IO[bytes], size: int, gzipped: bool, where: str, budget: UnpackBudget
) -> _ReadLayer:
    """One streaming pass: hashes of the blob and of its tar, the entries and their findings."""
    stream = LayerStream(handle, size=size, gzipped=gzipped, what=where, budget=budget)
    try:
        entries, whiteouts, findings = _entries(stream, where, store.limits, budget)
        stream.drain()
    except (InspectError, tarfile.TarError, EOFError, OSError) as exc:
        raise _Unreadable(stream, exc) from None
    return _ReadLayer(
        "sha256:" + stream.raw_hash.hexdigest(),
        "sha256:" + stream.tar_hash.hexdigest(),
        entries,
        whiteouts,
        findings,
    )


class _Unreadable(Exception):
    """A layer failed to parse; the caller decides whether a digest mismatch explains it."""

    def __init__(self, stream: LayerStream, cause: BaseException) -> None:
        super().__init__(str(cause))
        self.stream = stream
        self.cause = cause

    def error(self, where: str) -> InspectError:
        if isinstance(self.cause, InspectError):
            return self.cause
        return InspectError(f"{where}: layer is not a valid tar ({str(self.cause)[:200]})")


def _kind(member: tarfile.TarInfo) -> str:
    if member.isdir():
        return "dir"
    if member.issym():
        return "symlink"
    if member.islnk():
        return "hardlink"
    return "file" if member.isfile() else "other"


def _unsafe(member: tarfile.TarInfo) -> str:
    """Why extracting ``member`` could write outside the root or create a device ('' if it cannot)."""
    name = member.name
    if name.startswith("/"):
        return f"absolute path {name[:200]!r}"
    if ".." in PurePosixPath(name).parts:
        return f"path traversal {name[:200]!r}"
    if member.islnk() and (member.linkname.startswith("/") or ".." in PurePosixPath(member.linkname).parts):
        return f"hard link {name[:200]!r} points outside the layer ({member.linkname[:200]!r})"
    if member.ischr() or member.isblk():
        kind = "character" if member.ischr() else "block"
        return f"{kind} device {name[:200]!r} ({member.devmajor},{member.devminor})"
    return ""


def _forget_members(tar: tarfile.TarFile) -> None:
    """Drop the TarInfo list tarfile keeps while iterating (it would grow with every entry)."""
    vars(tar)["members"].clear()


def _entries(
    stream: LayerStream, where: str, limits: InspectLimits, budget: UnpackBudget
) -> tuple[tuple[FileEntry, ...], tuple[str, ...], tuple[str, ...]]:
    entries: list[FileEntry] = []
    whiteouts: list[str] = []
    findings: list[str] = []
    data_end = 0
    with tarfile.open(fileobj=stream, mode="r|", tarinfo=bounded_tarinfo(limits)) as tar:
        for member in tar:
            budget.entries += 1
            if budget.entries > limits.max_entries:
                raise InspectError(
                    f"{where}: the image has more than {limits.max_entries} file entries",
                    hint="raise InspectLimits.max_entries if the image is genuinely that large",
                )
            if member.isfile():
                data_end = max(data_end, member.offset_data + member.size)
            problem = _unsafe(member)
            if problem:
                findings.append(f"{where}: {problem}")
            path = _normal(member.name)
            base = PurePosixPath(path).name
            if base.startswith(".wh."):
                parent = str(PurePosixPath(path).parent).rstrip("/")
                opaque = base == ".wh..wh..opq"
                whiteouts.append(f"{parent}/.wh..wh..opq" if opaque else f"{parent}/{base[4:]}")
                continue
            entries.append(
                FileEntry(
                    path,
                    _kind(member),
                    member.mode & 0o7777,
                    member.uid,
                    member.gid,
                    member.size if member.isfile() else 0,
                    member.linkname,
                )
            )
            _forget_members(tar)
    stream.drain()
    if data_end > stream.tar_bytes:
        raise InspectError(f"{where}: layer tar is truncated inside its last file")
    return tuple(entries), tuple(whiteouts), tuple(findings)


def _normal(name: str) -> str:
    path = "/" + str(PurePosixPath("/", name).relative_to("/"))
    return "/" if path == "/." else path


def _read_from_layers(store: Store, image: PlatformImage, path: str, depth: int = 0) -> bytes:
    wanted = "/" + path.strip("/")
    entry = image.filesystem().get(wanted)
    if entry is None:
        raise InspectError(f"{store.path}: {wanted} does not exist in the {image.platform} image")
    if entry.kind == "symlink" and depth < 16:
        target = (
            entry.linkname
            if entry.linkname.startswith("/")
            else str(PurePosixPath(wanted).parent / entry.linkname)
        )
        return _read_from_layers(store, image, target, depth + 1)
    for layer in reversed(image.layers):
        if not any(e.path == wanted for e in layer.entries):
            continue
        opened = store.open(layer.blob_path)
        if opened is None:
            break
        handle, size = opened
        with handle:
            gzipped = handle.read(2) == b"\x1f\x8b"
            handle.seek(0)
            budget = UnpackBudget(store.limits)
            stream = LayerStream(handle, size=size, gzipped=gzipped, what=layer.blob_path, budget=budget)
            with tarfile.open(fileobj=stream, mode="r|", tarinfo=bounded_tarinfo(store.limits)) as tar:
                for member in tar:
                    if _normal(member.name) != wanted:
                        continue
                    if member.islnk():
                        return _read_from_layers(store, image, "/" + member.linkname, depth + 1)
                    if member.size > store.limits.max_read_bytes:
                        raise InspectError(
                            f"{store.path}: {wanted} is {size_text(member.size)}, more than the "
                            f"{size_text(store.limits.max_read_bytes)} a file read may take"
                        )
                    content = tar.extractfile(member)
                    return content.read() if content else b""
    raise InspectError(f"{store.path}: {wanted} in the {image.platform} image is not a regular file")


# ---------------------------------------------------------------- OCI walk


def _config_values(config: Mapping[str, Any]) -> dict[str, Any]:
    inner = config.get("config") or {}
    return {
        "entrypoint": tuple(inner.get("Entrypoint") or ()),
        "cmd": tuple(inner.get("Cmd") or ()),
        "env": tuple(inner.get("Env") or ()),
        "exposed_ports": tuple(sorted(inner.get("ExposedPorts") or {})),
        "user": str(inner.get("User") or ""),
        "workdir": str(inner.get("WorkingDir") or ""),
        "labels": dict(inner.get("Labels") or {}),
    }


def _oci_manifest(store: Store, descriptor: Mapping[str, Any], budget: UnpackBudget) -> PlatformImage:
    digest = str(descriptor["digest"])
    manifest, _ = _json_blob(store, descriptor, f"manifest {digest}")
    config_desc = manifest.get("config") or {}
    if not isinstance(config_desc, dict):
        raise InspectError(f"{store.path}: manifest {digest} has no config descriptor")
    config, _ = _json_blob(store, config_desc, f"config of manifest {digest}")
    diff_ids = list((config.get("rootfs") or {}).get("diff_ids") or [])
    layers: list[LayerInfo] = []
    layer_descs = manifest.get("layers") or []
    if diff_ids and len(diff_ids) != len(layer_descs):
        raise InspectError(
            f"{store.path}: manifest {digest} has {len(layer_descs)} layers "
            f"but its config lists {len(diff_ids)} diff_ids"
        )
    for number, layer_desc in enumerate(layer_descs):
        what = f"layer {number} of manifest {digest}"
        media_type = str(layer_desc.get("mediaType", ""))
        gzipped = _gzipped(media_type, f"{store.path}: {what}")
        handle, size, blob_digest = _descriptor_blob(store, layer_desc, what)
        with handle:
            try:
                read = _read_layer(store, handle, size, gzipped, f"{store.path}: {what}", budget)
            except _Unreadable as failed:
                actual = failed.stream.drain_raw()
                if actual != blob_digest:
                    raise _mismatch(store, blob_digest, what, actual) from None
                raise failed.error(f"{store.path}: {what}") from None
        if read.blob_digest != blob_digest:
            raise _mismatch(store, blob_digest, what, read.blob_digest)
        if diff_ids and diff_ids[number] != read.diff_id:
            raise InspectError(
                f"{store.path}: digest mismatch for {what}: config diff_id {str(diff_ids[number])[:80]}, "
                f"uncompressed content has {read.diff_id}"
            )
        layers.append(read.layer(blob_digest, media_type, size, f"blobs/sha256/{blob_digest[7:]}"))
    platform = descriptor.get("platform") or {}
    return PlatformImage(
        os=str(platform.get("os") or config.get("os") or ""),
        architecture=str(platform.get("architecture") or config.get("architecture") or ""),
        variant=str(platform.get("variant") or config.get("variant") or ""),
        digest=digest,
        config_digest=str(config_desc.get("digest", "")),
        layers=tuple(layers),
        **_config_values(config),
    )


def _walk(
    store: Store, descriptor: Mapping[str, Any], budget: UnpackBudget, depth: int = 0
) -> Iterator[PlatformImage]:
    if not isinstance(descriptor, dict):
        raise InspectError(f"{store.path}: an index entry is not a descriptor object")
    media_type = str(descriptor.get("mediaType", ""))
    if media_type in INDEX_TYPES:
        if depth > 4:
            raise InspectError(f"{store.path}: image indexes nested deeper than 4 levels")
        index, _ = _json_blob(store, descriptor, f"image index {descriptor.get('digest')}")
        for child in index.get("manifests") or []:
            yield from _walk(store, child, budget, depth + 1)
    elif media_type in MANIFEST_TYPES:
        yield _oci_manifest(store, descriptor, budget)
    else:
        raise InspectError(
            f"{store.path}: descriptor {str(descriptor.get('digest'))[:80]} has unsupported media type "
            f"{media_type[:80]!r}"
        )


def _inspect_oci(store: Store) -> ImageInfo:
    found = _named_json(store, "index.json")
    if found is None:
        raise InspectError(f"{store.path}: index.json is missing")
    index, raw_index = found
    if not isinstance(index, dict):
        raise InspectError(f"{store.path}: index.json is not a JSON object")
    descriptors = index.get("manifests") or []
    if not descriptors or not isinstance(descriptors, list):
        raise InspectError(f"{store.path}: index.json lists no manifests")
    budget = UnpackBudget(store.limits)
    platforms = tuple(p for d in descriptors for p in _walk(store, d, budget))
    if len(descriptors) == 1:  # rules_oci: one descriptor, its digest is <name>.json.sha256
        top_digest, media_type = str(descriptors[0]["digest"]), str(descriptors[0].get("mediaType", ""))
    else:  # a flat index with several entries (umoci, skopeo): the index itself is the top object
        top_digest, media_type = _sha256(raw_index), MT_OCI_INDEX
    return ImageInfo(store.path, store.format, top_digest, media_type, platforms, store)


# ---------------------------------------------------------------- docker-archive


def _archive_layer(store: Store, name: str, diff_id: str, budget: UnpackBudget) -> LayerInfo:
    opened = store.open(name)
    if opened is None:
        raise InspectError(f"{store.path}: layer {name[:200]} (diff_id {diff_id[:80]}) is missing")
    handle, size = opened
    with handle:
        gzipped = handle.read(2) == b"\x1f\x8b"
        handle.seek(0)
        try:
            read = _read_layer(store, handle, size, gzipped, f"{store.path}: {name}", budget)
        except _Unreadable as failed:
            raise failed.error(f"{store.path}: {name}") from None
    if read.diff_id != diff_id:
        raise InspectError(
            f"{store.path}: digest mismatch for layer {name}: config says {diff_id[:80]}, "
            f"content has {read.diff_id}"
        )
    media_type = _GZIP_LAYERS[2] if gzipped else _TAR_LAYERS[1]
    return read.layer(diff_id, media_type, size, name)


def _inspect_docker_archive(store: Store) -> ImageInfo:
    found = _named_json(store, "manifest.json")
    entries, manifest_raw = found if found is not None else ([], b"[]")
    if not isinstance(entries, list) or not entries or not all(isinstance(e, dict) for e in entries):
        raise InspectError(f"{store.path}: manifest.json lists no images")
    budget = UnpackBudget(store.limits)
    platforms: list[PlatformImage] = []
    for entry in entries:
        config_name = str(entry.get("Config", ""))
        config_found = _named_json(store, config_name)
        if config_found is None:
            raise InspectError(f"{store.path}: config {config_name[:200]} named in manifest.json is missing")
        config, config_raw = config_found
        config_digest = _sha256(config_raw)
        stem = PurePosixPath(config_name).name.removesuffix(".json").removeprefix("sha256:")
        if re.fullmatch(r"[0-9a-f]{64}", stem) and f"sha256:{stem}" != config_digest:
            raise InspectError(
                f"{store.path}: digest mismatch for config sha256:{stem}: content has {config_digest}"
            )
        if not isinstance(config, dict):
            raise InspectError(f"{store.path}: {config_name[:200]} is not a JSON object")
        diff_ids = [str(d) for d in (config.get("rootfs") or {}).get("diff_ids") or []]
        layer_names = [str(n) for n in entry.get("Layers") or []]
        if len(diff_ids) != len(layer_names):
            raise InspectError(
                f"{store.path}: {len(layer_names)} layers but {len(diff_ids)} diff_ids in {config_name[:200]}"
            )
        layers = [
            _archive_layer(store, name, diff_id, budget)
            for name, diff_id in zip(layer_names, diff_ids, strict=True)
        ]
        platforms.append(
            PlatformImage(
                os=str(config.get("os", "")),
                architecture=str(config.get("architecture", "")),
                variant=str(config.get("variant", "")),
                digest=config_digest,
                config_digest=config_digest,
                layers=tuple(layers),
                **_config_values(config),
            )
        )
    top = platforms[0].digest if len(platforms) == 1 else _sha256(manifest_raw)
    return ImageInfo(
        store.path,
        store.format,
        top,
        "application/vnd.docker.container.image.v1+json",
        tuple(platforms),
        store,
    )


_READERS: dict[str, Callable[[Store], ImageInfo]] = {
    "oci-dir": _inspect_oci,
    "oci-tar": _inspect_oci,
    "docker-archive": _inspect_docker_archive,
}


def inspect_image(path: Path | str, *, limits: InspectLimits = DEFAULT_LIMITS) -> ImageInfo:
    """Inspect an OCI layout directory or tarball, or a docker-archive tarball, verifying every blob.

    Memory stays bounded whatever the input (see :class:`InspectLimits`); unsafe layer entries
    (absolute or ``..`` paths, device nodes) are reported in :attr:`PlatformImage.findings`.
    """
    store = _open_store(Path(path), limits)
    return _READERS[store.format](store)
