"""OCI layouts: the rules_oci-style writer, the verifying reader, skopeo and umoci as independent parties."""

from __future__ import annotations

import gzip
import json
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest

from pytest_rules_rust.containers.oci_write import Layout, assemble_service_image, write_image
from pytest_rules_rust.errors import InspectError
from pytest_rules_rust.inspect.oci import inspect_image, short_tag_from_file
from pytest_rules_rust.platforms import AMD64, ARM64, Platform

needs_skopeo = pytest.mark.skipif(
    shutil.which("skopeo") is None, reason="needs skopeo: apt-get install skopeo (scripts/provision.sh)"
)


def _skopeo(*args: str) -> str:
    return subprocess.run(["skopeo", *args], check=True, capture_output=True, text=True).stdout


def _blob(layout: Path, digest: str) -> Path:
    return layout / "blobs" / "sha256" / digest.removeprefix("sha256:")


@pytest.fixture
def service_index(tmp_path: Path, responders: dict[Platform, Path]) -> Layout:
    return assemble_service_image(responders, tmp_path / "image_index", ["/bin"], ["3232"])


def test_index_is_nested_like_rules_oci(service_index: Layout, responders: dict[Platform, Path]) -> None:
    top = json.loads((service_index.path / "index.json").read_text())
    assert [m["mediaType"] for m in top["manifests"]] == ["application/vnd.oci.image.index.v1+json"]
    nested = json.loads(_blob(service_index.path, top["manifests"][0]["digest"]).read_text())
    assert [m["platform"] for m in nested["manifests"]] == [
        {"architecture": "amd64", "os": "linux"},
        {"architecture": "arm64", "os": "linux", "variant": "v8"},
    ]
    info = inspect_image(service_index.path)
    assert info.digest == service_index.digest == top["manifests"][0]["digest"]
    assert info.short_tag == service_index.digest[7:14] == short_tag_from_file(service_index.digest_file)
    assert service_index.tag_file.read_text().strip() == info.short_tag
    for image in info.platforms:
        assert image.entrypoint == ("/bin",)
        assert image.exposed_ports == ("3232/tcp",)
        entry = image.filesystem()["/bin"]
        assert (entry.kind, entry.mode, entry.uid, entry.gid) == ("file", 0o555, 0, 0)
        platform = Platform.parse(image.architecture)
        assert entry.size == responders[platform].stat().st_size
        assert info.read_file(image, "/bin") == responders[platform].read_bytes()
    assert [p.platform for p in info.platforms] == ["linux/amd64", "linux/arm64/v8"]


def test_reproducible_digests(tmp_path: Path, responders: dict[Platform, Path]) -> None:
    first = assemble_service_image(responders, tmp_path / "a" / "idx", ["/bin"], ["3232"])
    second = assemble_service_image(responders, tmp_path / "b" / "idx", ["/bin"], ["3232"])
    again = assemble_service_image(responders, tmp_path / "a" / "idx", ["/bin"], ["3232"])
    assert first.digest == second.digest == again.digest
    changed = assemble_service_image(responders, tmp_path / "c" / "idx", ["/bin"], ["3233"])
    assert changed.digest != first.digest


def test_gzip_layers_are_reproducible_and_read(tmp_path: Path) -> None:
    files: dict[str, Path | bytes] = {"/etc/app.toml": b"port = 3232\n", "/app/run": b"#!nothing\n"}
    one, two = (
        write_image(
            tmp_path / name,
            files=files,
            platform=ARM64,
            entrypoint=["/app/run"],
            compress=True,
            env={"RUST_LOG": "info"},
            labels={"org.opencontainers.image.title": "x"},
            user="65532",
            workdir="/app",
            cmd=["--serve"],
        )
        for name in ("one", "two")
    )
    assert one.digest == two.digest
    (image,) = inspect_image(one.path).platforms
    assert image.layers[0].media_type == "application/vnd.oci.image.layer.v1.tar+gzip"
    assert (image.cmd, image.env, image.user, image.workdir) == (
        ("--serve",),
        ("RUST_LOG=info",),
        "65532",
        "/app",
    )
    assert image.labels == {"org.opencontainers.image.title": "x"}
    assert image.files == ("/app", "/app/run", "/etc", "/etc/app.toml")
    assert image.filesystem()["/etc"].mode == 0o755
    assert inspect_image(one.path).read_file(image, "/etc/app.toml") == b"port = 3232\n"


def test_tampered_layer_blob_names_both_digests(service_index: Layout) -> None:
    info = inspect_image(service_index.path)
    layer = info.platforms[1].layers[0].digest
    blob = _blob(service_index.path, layer)
    data = bytearray(blob.read_bytes())
    data[600] ^= 0xFF
    blob.write_bytes(bytes(data))
    with pytest.raises(InspectError) as caught:
        inspect_image(service_index.path)
    message = str(caught.value)
    assert f"digest mismatch for blob {layer}" in message
    assert "sha256:" + __import__("hashlib").sha256(bytes(data)).hexdigest() in message


def test_tampered_nested_index_is_refused(service_index: Layout) -> None:
    blob = _blob(service_index.path, service_index.digest)
    blob.write_text(blob.read_text().replace('"arm64"', '"s390x"'))
    with pytest.raises(InspectError, match=f"digest mismatch for blob {service_index.digest} \\(image index"):
        inspect_image(service_index.path)


def test_tampered_top_index_pointing_elsewhere_is_refused(service_index: Layout) -> None:
    index = service_index.path / "index.json"
    bogus = "sha256:" + "0" * 64
    index.write_text(index.read_text().replace(service_index.digest, bogus))
    with pytest.raises(InspectError, match=f"blob {bogus} .* is missing"):
        inspect_image(service_index.path)


def test_missing_blob(service_index: Layout) -> None:
    config = inspect_image(service_index.path).platforms[0].config_digest
    _blob(service_index.path, config).unlink()
    with pytest.raises(InspectError, match=f"blob {config} \\(config of manifest .*\\) is missing"):
        inspect_image(service_index.path)


def test_not_a_layout(tmp_path: Path) -> None:
    with pytest.raises(InspectError, match="not an OCI layout"):
        inspect_image(tmp_path)
    (tmp_path / "junk").write_bytes(b"\x7fELF not a tar")
    with pytest.raises(InspectError, match="not a tar archive"):
        inspect_image(tmp_path / "junk")


def test_layout_tarball(service_index: Layout, tmp_path: Path) -> None:
    tarball = tmp_path / "layout.tar"
    with tarfile.open(tarball, "w") as tar:
        for item in sorted(service_index.path.rglob("*")):
            tar.add(item, arcname=str(item.relative_to(service_index.path)), recursive=False)
    info = inspect_image(tarball)
    assert info.format == "oci-tar"
    assert info.to_json() == inspect_image(service_index.path).to_json()


@needs_skopeo
def test_skopeo_reads_our_layout(service_index: Layout, tmp_path: Path) -> None:
    raw = json.loads(_skopeo("inspect", "--raw", f"oci:{service_index.path}"))
    assert raw["mediaType"] == "application/vnd.oci.image.index.v1+json"
    assert {m["platform"]["architecture"] for m in raw["manifests"]} == {"amd64", "arm64"}
    config = json.loads(
        _skopeo("inspect", "--config", "--override-arch", "arm64", f"oci:{service_index.path}")
    )
    assert (config["architecture"], config["variant"]) == ("arm64", "v8")
    assert config["config"]["Entrypoint"] == ["/bin"] and config["config"]["ExposedPorts"] == {"3232/tcp": {}}
    digest = _skopeo("inspect", "--format", "{{.Digest}}", f"oci:{service_index.path}").strip()
    assert digest == service_index.digest
    # skopeo 1.9 gzips uncompressed layers on the way to oci: unless told to keep digests (crane keeps them)
    _skopeo(
        "copy",
        "--quiet",
        "--all",
        "--preserve-digests",
        f"oci:{service_index.path}",
        f"oci:{tmp_path / 'copy'}:latest",
    )
    assert inspect_image(tmp_path / "copy").digest == service_index.digest


@needs_skopeo
def test_skopeo_copy_all_keeps_a_gzip_index_digest(tmp_path: Path, responders: dict[Platform, Path]) -> None:
    index = assemble_service_image(responders, tmp_path / "gz", ["/bin"], [3232], compress=True)
    _skopeo("copy", "--quiet", "--all", f"oci:{index.path}", f"oci:{tmp_path / 'copy'}:latest")
    copied = inspect_image(tmp_path / "copy")
    assert copied.digest == index.digest
    assert [la.media_type for p in copied.platforms for la in p.layers] == [
        "application/vnd.oci.image.layer.v1.tar+gzip"
    ] * 2


@needs_skopeo
def test_docker_archive_made_by_skopeo(service_index: Layout, tmp_path: Path) -> None:
    archive = tmp_path / "arm64.tar"
    _skopeo(
        "copy",
        "--quiet",
        "--override-arch",
        "arm64",
        f"oci:{service_index.path}",
        f"docker-archive:{archive}:rr/test:arm64",
    )
    info = inspect_image(archive)
    (image,) = info.platforms
    ours = inspect_image(service_index.path).platform("linux/arm64")
    assert info.format == "docker-archive"
    assert image.config_digest == ours.config_digest == info.digest
    assert (image.architecture, image.entrypoint, image.exposed_ports) == ("arm64", ("/bin",), ("3232/tcp",))
    assert image.files == ("/bin",)
    assert info.read_file(image, "/bin") == inspect_image(service_index.path).read_file(ours, "/bin")


@needs_skopeo
def test_docker_archive_with_tampered_layer(service_index: Layout, tmp_path: Path) -> None:
    archive = tmp_path / "amd64.tar"
    _skopeo(
        "copy",
        "--quiet",
        "--override-arch",
        "amd64",
        f"oci:{service_index.path}",
        f"docker-archive:{archive}:rr/test:amd64",
    )
    patched = tmp_path / "patched.tar"
    with tarfile.open(archive) as src, tarfile.open(patched, "w") as dst:
        manifest = json.loads(src.extractfile("manifest.json").read())  # type: ignore[union-attr]
        layer_name = manifest[0]["Layers"][0]
        for member in src.getmembers():
            data = src.extractfile(member).read() if member.isfile() else None  # type: ignore[union-attr]
            if member.name == layer_name and data is not None:
                data = data[:700] + bytes([data[700] ^ 1]) + data[701:]
            dst.addfile(member, __import__("io").BytesIO(data) if data is not None else None)
    with pytest.raises(InspectError, match=f"digest mismatch for layer {layer_name}"):
        inspect_image(patched)


umoci = shutil.which("umoci")


@pytest.mark.skipif(
    umoci is None, reason="needs umoci for an independently made layout: apt-get install umoci"
)
@needs_skopeo
def test_reader_tells_the_truth_on_a_umoci_layout(tmp_path: Path, responders: dict[Platform, Path]) -> None:
    layout = tmp_path / "um"
    rootfs = tmp_path / "rootfs" / "app"
    rootfs.mkdir(parents=True)
    shutil.copy(responders[ARM64], rootfs / "responder")
    (rootfs / "responder").chmod(0o750)
    steps = [
        ["init", "--layout", str(layout)],
        ["new", "--image", f"{layout}:v1"],
        ["insert", "--image", f"{layout}:v1", str(rootfs), "/app"],
        [
            "config",
            "--image",
            f"{layout}:v1",
            "--architecture",
            "arm64",
            "--os",
            "linux",
            "--config.entrypoint",
            "/app/responder",
            "--config.cmd",
            "8080",
            "--config.exposedports",
            "8080/tcp",
            "--config.env",
            "MODE=test",
            "--config.user",
            "1000:1000",
            "--config.workingdir",
            "/app",
            "--config.label",
            "org.example=umoci",
        ],
    ]
    for step in steps:
        subprocess.run(["umoci", *step], check=True, capture_output=True)
    info = inspect_image(layout)
    (image,) = info.platforms
    skopeo = json.loads(_skopeo("inspect", f"oci:{layout}:v1"))
    config = json.loads(_skopeo("inspect", "--config", f"oci:{layout}:v1"))["config"]
    assert info.digest == skopeo["Digest"]
    assert image.architecture == skopeo["Architecture"] == "arm64"
    assert [la.digest for la in image.layers] == skopeo["Layers"]
    assert list(image.entrypoint) == config["Entrypoint"] and list(image.cmd) == config["Cmd"]
    assert list(image.exposed_ports) == sorted(config["ExposedPorts"])
    assert (image.user, image.workdir, dict(image.labels)) == (
        config["User"],
        config["WorkingDir"],
        config["Labels"],
    )
    assert list(image.env) == config["Env"]
    entry = image.filesystem()["/app/responder"]
    assert (entry.mode, entry.size) == (0o750, responders[ARM64].stat().st_size)
    assert info.read_file(image, "/app/responder") == responders[ARM64].read_bytes()


def test_gzip_layer_with_wrong_diff_id(tmp_path: Path) -> None:
    layout = write_image(
        tmp_path / "img", files={"/x": b"x"}, platform=AMD64, entrypoint=["/x"], compress=True
    )
    info = inspect_image(layout.path)
    layer = info.platforms[0].layers[0]
    # Re-compress the same tar with a different gzip header: blob digest changes, diff_id must not.
    blob = _blob(layout.path, layer.digest)
    recompressed = gzip.compress(gzip.decompress(blob.read_bytes()), mtime=12345)
    assert recompressed != blob.read_bytes()
    blob.write_bytes(recompressed)
    with pytest.raises(InspectError, match="digest mismatch for blob"):
        inspect_image(layout.path)
