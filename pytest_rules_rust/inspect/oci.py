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

import gzip
import hashlib
import io
import json
import re
import stat
import tarfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Protocol

from ..errors import InspectError

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


@dataclass(frozen=True)
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
        from ..platforms import Platform

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
    """Where blobs live: named files addressed by digest or by path."""

    path: Path
    format: str

    def read_path(self, name: str) -> bytes | None: ...


class _DirStore:
    format = "oci-dir"

    def __init__(self, path: Path) -> None:
        self.path = path

    def read_path(self, name: str) -> bytes | None:
        target = self.path / name
        return target.read_bytes() if target.is_file() else None


class _TarStore:
    def __init__(self, path: Path, format: str) -> None:
        self.path = path
        self.format = format
        self._tar = tarfile.open(path)  # noqa: SIM115 - kept open for the inspection's lifetime
        self._members = {m.name.removeprefix("./"): m for m in self._tar.getmembers()}

    def read_path(self, name: str) -> bytes | None:
        member = self._members.get(name)
        if member is None or not member.isfile():
            return None
        handle = self._tar.extractfile(member)
        return handle.read() if handle else None

    def names(self) -> set[str]:
        return set(self._members)


def _open_store(path: Path) -> Store:
    if path.is_dir():
        if not (path / "index.json").is_file():
            raise InspectError(
                f"{path}: not an OCI layout (no index.json)",
                hint="pass an OCI layout directory, an OCI layout tarball or a docker-archive tarball",
            )
        return _DirStore(path)
    if not path.exists():
        raise InspectError(f"{path}: no such file or directory")
    try:
        tar = _TarStore(path, "oci-tar")
    except (tarfile.TarError, OSError) as exc:
        raise InspectError(
            f"{path}: not a tar archive ({exc})",
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


def _blob(store: Store, descriptor: Mapping[str, Any], what: str) -> bytes:
    digest = str(descriptor.get("digest", ""))
    if not _DIGEST_RE.match(digest):
        raise InspectError(
            f"{store.path}: {what} has an invalid digest {digest!r} (only sha256 is supported)"
        )
    data = store.read_path(f"blobs/sha256/{digest[7:]}")
    if data is None:
        raise InspectError(
            f"{store.path}: blob {digest} ({what}) is missing from blobs/sha256/",
            hint="the layout is incomplete; rebuild or re-copy it",
        )
    actual = _sha256(data)
    if actual != digest:
        raise InspectError(
            f"{store.path}: digest mismatch for blob {digest} ({what}): its content has {actual}",
            hint="the blob was modified after the layout was written; rebuild the image",
        )
    size = descriptor.get("size")
    if size is not None and int(size) != len(data):
        raise InspectError(
            f"{store.path}: blob {digest} ({what}) is {len(data)} bytes, descriptor says {size}"
        )
    return data


def _json(data: bytes, what: str, where: Path) -> dict[str, Any]:
    try:
        value = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InspectError(f"{where}: {what} is not valid JSON ({exc})") from exc
    if not isinstance(value, dict):
        raise InspectError(f"{where}: {what} is not a JSON object")
    return value


def _layer_tar(data: bytes, media_type: str, where: str) -> bytes:
    if media_type in _TAR_LAYERS:
        return data
    if media_type in _GZIP_LAYERS or media_type.endswith("+gzip"):
        try:
            return gzip.decompress(data)
        except (OSError, EOFError) as exc:
            raise InspectError(f"{where}: layer is not valid gzip ({exc})") from exc
    raise InspectError(
        f"{where}: unsupported layer media type {media_type!r}",
        hint="supported: uncompressed tar and tar+gzip layers",
    )


def _padded(raw: bytes) -> bytes:
    """Add the block padding and end-of-archive blocks some writers omit (umoci 0.4.7 does).

    Docker accepts such layers, so we do too; a member whose *data* is cut short is still an error
    (checked against the original length in ``_entries``).
    """
    return raw + b"\0" * (-len(raw) % 512) + b"\0" * 1024


def _entries(raw: bytes, where: str) -> tuple[tuple[FileEntry, ...], tuple[str, ...]]:
    entries: list[FileEntry] = []
    whiteouts: list[str] = []
    try:
        with tarfile.open(fileobj=io.BytesIO(_padded(raw)), mode="r:") as tar:
            for member in tar:
                if member.isfile() and member.offset_data + member.size > len(raw):
                    raise InspectError(f"{where}: layer tar is truncated inside {member.name}")
                path = "/" + str(PurePosixPath("/", member.name).relative_to("/"))
                path = "/" if path == "/." else path
                base = PurePosixPath(path).name
                if base.startswith(".wh."):
                    parent = str(PurePosixPath(path).parent).rstrip("/")
                    opaque = base == ".wh..wh..opq"
                    whiteouts.append(f"{parent}/.wh..wh..opq" if opaque else f"{parent}/{base[4:]}")
                    continue
                kind = (
                    "dir"
                    if member.isdir()
                    else "symlink"
                    if member.issym()
                    else "hardlink"
                    if member.islnk()
                    else "file"
                    if member.isfile()
                    else "other"
                )
                entries.append(
                    FileEntry(
                        path,
                        kind,
                        member.mode & 0o7777,
                        member.uid,
                        member.gid,
                        member.size if member.isfile() else 0,
                        member.linkname,
                    )
                )
    except tarfile.TarError as exc:
        raise InspectError(f"{where}: layer is not a valid tar ({exc})") from exc
    return tuple(entries), tuple(whiteouts)


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
        blob = store.read_path(layer.blob_path) or b""
        raw = gzip.decompress(blob) if blob[:2] == b"\x1f\x8b" else blob
        with tarfile.open(fileobj=io.BytesIO(_padded(raw)), mode="r:") as tar:
            for member in tar:
                if "/" + str(PurePosixPath("/", member.name).relative_to("/")) == wanted:
                    if member.islnk():
                        return _read_from_layers(store, image, "/" + member.linkname, depth + 1)
                    handle = tar.extractfile(member)
                    return handle.read() if handle else b""
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


def _oci_manifest(store: Store, descriptor: Mapping[str, Any]) -> PlatformImage:
    digest = descriptor["digest"]
    manifest = _json(_blob(store, descriptor, f"manifest {digest}"), f"manifest {digest}", store.path)
    config_desc = manifest.get("config") or {}
    config = _json(_blob(store, config_desc, f"config of manifest {digest}"), "config", store.path)
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
        raw = _layer_tar(_blob(store, layer_desc, what), str(layer_desc.get("mediaType", "")), what)
        diff_id = _sha256(raw)
        if diff_ids and diff_ids[number] != diff_id:
            raise InspectError(
                f"{store.path}: digest mismatch for {what}: config diff_id {diff_ids[number]}, "
                f"uncompressed content has {diff_id}"
            )
        entries, whiteouts = _entries(raw, f"{store.path}: {what}")
        layers.append(
            LayerInfo(
                layer_desc["digest"],
                str(layer_desc.get("mediaType", "")),
                int(layer_desc.get("size", 0)),
                diff_id,
                entries,
                whiteouts,
                f"blobs/sha256/{layer_desc['digest'][7:]}",
            )
        )
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


def _walk(store: Store, descriptor: Mapping[str, Any], depth: int = 0) -> Iterator[PlatformImage]:
    media_type = descriptor.get("mediaType", "")
    if media_type in INDEX_TYPES:
        if depth > 4:
            raise InspectError(f"{store.path}: image indexes nested deeper than 4 levels")
        index = _json(
            _blob(store, descriptor, f"image index {descriptor['digest']}"), "image index", store.path
        )
        for child in index.get("manifests") or []:
            yield from _walk(store, child, depth + 1)
    elif media_type in MANIFEST_TYPES:
        yield _oci_manifest(store, descriptor)
    else:
        raise InspectError(
            f"{store.path}: descriptor {descriptor.get('digest')} has unsupported media type {media_type!r}"
        )


def _inspect_oci(store: Store) -> ImageInfo:
    raw_index = store.read_path("index.json")
    if raw_index is None:
        raise InspectError(f"{store.path}: index.json is missing")
    index = _json(raw_index, "index.json", store.path)
    descriptors = index.get("manifests") or []
    if not descriptors:
        raise InspectError(f"{store.path}: index.json lists no manifests")
    platforms = tuple(p for d in descriptors for p in _walk(store, d))
    if len(descriptors) == 1:  # rules_oci: one descriptor, its digest is <name>.json.sha256
        top_digest, media_type = str(descriptors[0]["digest"]), str(descriptors[0].get("mediaType", ""))
    else:  # a flat index with several entries (umoci, skopeo): the index itself is the top object
        top_digest, media_type = _sha256(raw_index), MT_OCI_INDEX
    return ImageInfo(store.path, store.format, top_digest, media_type, platforms, store)


# ---------------------------------------------------------------- docker-archive


def _inspect_docker_archive(store: Store) -> ImageInfo:
    manifest_raw = store.read_path("manifest.json") or b"[]"
    try:
        entries = json.loads(manifest_raw)
    except ValueError as exc:
        raise InspectError(f"{store.path}: manifest.json is not valid JSON ({exc})") from exc
    if not isinstance(entries, list) or not entries:
        raise InspectError(f"{store.path}: manifest.json lists no images")
    platforms: list[PlatformImage] = []
    for entry in entries:
        config_name = str(entry.get("Config", ""))
        config_raw = store.read_path(config_name)
        if config_raw is None:
            raise InspectError(f"{store.path}: config {config_name} named in manifest.json is missing")
        config_digest = _sha256(config_raw)
        stem = PurePosixPath(config_name).name.removesuffix(".json").removeprefix("sha256:")
        if re.fullmatch(r"[0-9a-f]{64}", stem) and f"sha256:{stem}" != config_digest:
            raise InspectError(
                f"{store.path}: digest mismatch for config sha256:{stem}: content has {config_digest}"
            )
        config = _json(config_raw, config_name, store.path)
        diff_ids = list((config.get("rootfs") or {}).get("diff_ids") or [])
        layer_names = list(entry.get("Layers") or [])
        if len(diff_ids) != len(layer_names):
            raise InspectError(
                f"{store.path}: {len(layer_names)} layers but {len(diff_ids)} diff_ids in {config_name}"
            )
        layers = []
        for name, diff_id in zip(layer_names, diff_ids, strict=True):
            data = store.read_path(name)
            if data is None:
                raise InspectError(f"{store.path}: layer {name} (diff_id {diff_id}) is missing")
            raw = gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data
            if _sha256(raw) != diff_id:
                raise InspectError(
                    f"{store.path}: digest mismatch for layer {name}: config says {diff_id}, "
                    f"content has {_sha256(raw)}"
                )
            entries_, whiteouts = _entries(raw, f"{store.path}: {name}")
            media_type = _GZIP_LAYERS[2] if raw is not data else _TAR_LAYERS[1]
            layers.append(LayerInfo(diff_id, media_type, len(data), diff_id, entries_, whiteouts, name))
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


def inspect_image(path: Path | str) -> ImageInfo:
    """Inspect an OCI layout directory or tarball, or a docker-archive tarball, verifying every blob."""
    store = _open_store(Path(path))
    return _READERS[store.format](store)
