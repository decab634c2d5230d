"""The oci_push step against a session-local registry (Debian docker-registry, via pytest-docker)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from pytest_rules_rust.containers.oci_write import push_index, short_tag
from pytest_rules_rust.containers.ownership import this_process
from pytest_rules_rust.containers.registry import Registry
from pytest_rules_rust.inspect.oci import inspect_image

pytestmark = [
    pytest.mark.container,
    pytest.mark.skipif(shutil.which("skopeo") is None, reason="needs skopeo: apt-get install skopeo"),
]


def _skopeo_raw(ref: str) -> tuple[bytes, dict]:  # type: ignore[type-arg]
    out = subprocess.run(
        ["skopeo", "inspect", "--raw", "--tls-verify=false", ref], check=True, capture_output=True
    ).stdout
    return out, json.loads(out)


def test_push_index_and_pull_it_back(local_registry: Registry, oci_image_assembler, responders) -> None:  # type: ignore[no-untyped-def]
    index = oci_image_assembler(responders)
    tag = short_tag(index)
    assert tag == index.tag_file.read_text().strip() == index.digest[7:14]
    repository = f"{local_registry.host_port}/musl"
    pushed = push_index(index, repository, [tag, "latest"], tls_verify=False)
    assert pushed == index.digest

    raw, pulled = _skopeo_raw(f"docker://{repository}:{tag}")
    assert "sha256:" + __import__("hashlib").sha256(raw).hexdigest() == index.digest
    assert pulled["mediaType"] == "application/vnd.oci.image.index.v1+json"
    assert sorted((m["platform"]["os"], m["platform"]["architecture"]) for m in pulled["manifests"]) == [
        ("linux", "amd64"),
        ("linux", "arm64"),
    ]
    tags = subprocess.run(
        ["skopeo", "list-tags", "--tls-verify=false", f"docker://{repository}"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    assert sorted(json.loads(tags)["Tags"]) == sorted([tag, "latest"])

    # pull the whole index back into a layout and read it with our verifying reader
    back = Path(index.path.parent / "pulled")
    subprocess.run(
        [
            "skopeo",
            "copy",
            "--quiet",
            "--all",
            "--preserve-digests",
            "--src-tls-verify=false",
            f"docker://{repository}:{tag}",
            f"oci:{back}:{tag}",
        ],
        check=True,
        capture_output=True,
    )
    info = inspect_image(back)
    assert info.digest == index.digest and info.short_tag == tag
    assert [p.architecture for p in info.platforms] == ["amd64", "arm64"]
    assert all(p.entrypoint == ("/bin",) and p.exposed_ports == ("3232/tcp",) for p in info.platforms)


def test_registry_container_is_labelled_and_local_only(local_registry: Registry) -> None:
    ids = subprocess.run(
        ["docker", "ps", "-q", "--filter", "label=pytest-rules-rust.session"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    ports = [
        subprocess.run(["docker", "port", cid], check=True, capture_output=True, text=True).stdout
        for cid in ids
    ]
    mine = [p for p in ports if f":{local_registry.port}" in p]
    assert len(mine) == 1
    assert all(line.split(" -> ")[1].startswith("127.0.0.1:") for line in mine[0].splitlines())


def test_registry_carries_this_process_owner_labels(local_registry: Registry) -> None:
    """Compose writes the same owner labels as the SDK runner, so the reaper and the sweep judge it."""
    owner = this_process().labels()
    flt = ["--filter", f"label=pytest-rules-rust.pid={os.getpid()}", "--format", "{{json .Labels}}"]
    for kind in ("ps", "network ls"):
        listed = subprocess.run(["docker", *kind.split(), *flt], check=True, capture_output=True, text=True)
        assert listed.stdout.strip(), f"no {kind} entry carries this process's pid label"
        for line in listed.stdout.splitlines():
            labels = dict(item.split("=", 1) for item in json.loads(line).split(","))
            assert {k: labels.get(k) for k in owner} == owner
