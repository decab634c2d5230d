"""``inspect-binary`` (and ``inspect-image``): what a built artifact is, from the command line.

    python -m pytest_rules_rust inspect-binary FILE [--json]

A file that is not a sound ELF file exits 1 with one line naming the file, the problem and what to do.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from ..errors import InspectError
from ..inspect.elf import inspect_binary

BINARY_HINT = "pass the path of an ELF executable or library, e.g. an artifact path printed by `build --json`"
IMAGE_HINT = "rebuild the image, or pass an OCI layout directory or tarball, or a docker-archive tarball"


def one_line(exc: InspectError, default_hint: str) -> InspectError:
    """The error as a single line that still says what to do (``... (hint: ...)``)."""
    return InspectError(f"{exc.message} (hint: {exc.hint or default_hint})")


def register(sub: Any) -> None:
    binary = sub.add_parser(
        "inspect-binary",
        help="report machine, linkage, libc, allocators, hardening, glibc floor… of an ELF file",
    )
    binary.add_argument("file", metavar="FILE", type=Path, help="the ELF file to inspect")
    binary.add_argument("--json", action="store_true", help="print one JSON object (stable keys)")
    binary.set_defaults(handler=run_inspect_binary)
    # --- inspect-image: its parser is registered below --------------------
    _register_image(sub)


def run_inspect_binary(args: argparse.Namespace) -> int:
    try:
        info = inspect_binary(args.file)
    except InspectError as exc:
        raise one_line(exc, BINARY_HINT) from None
    if args.json:
        print(json.dumps(info.to_json(), indent=2))
        return 0
    print(info.path)
    print(f"  {info.summary}")
    print(f"  hardening: {info.hardening}")
    for key, value in info.to_json().items():
        if key == "summary":
            continue
        shown = ", ".join(value) if isinstance(value, list) else value
        print(f"  {key}: {shown if shown not in ('', None) else '-'}")
    for topic, text in info.evidence:
        print(f"  evidence[{topic}]: {text}")
    return 0


# === inspect-image =====================================================================


def _register_image(sub: Any) -> None:
    image = sub.add_parser(
        "inspect-image",
        help="report digest, short tag and every platform of an OCI layout or docker-archive tarball",
        description="Inspect an OCI layout directory or tarball, or a docker-archive tarball, verifying "
        "every blob's sha256. A blob that does not match its digest exits 1 with one line naming it.",
    )
    image.add_argument("path", metavar="PATH", type=Path, help="OCI layout dir/tarball or docker-archive")
    image.add_argument("--json", action="store_true", help="print one JSON object (stable keys)")
    image.set_defaults(handler=run_inspect_image)


def run_inspect_image(args: argparse.Namespace) -> int:
    from ..inspect.oci import inspect_image

    try:
        info = inspect_image(args.path)
    except InspectError as exc:  # one line: the message names the blob and both digests
        raise one_line(exc, IMAGE_HINT) from None
    if args.json:
        print(json.dumps(info.to_json(), indent=2))
        return 0
    print(f"{info.path} ({info.format})")
    print(f"  digest: {info.digest}")
    print(f"  short_tag: {info.short_tag}")
    for item in info.platforms:
        print(f"  {item.platform}: {item.digest}")
        print(f"    entrypoint: {list(item.entrypoint) or '-'}  cmd: {list(item.cmd) or '-'}")
        print(
            f"    exposed_ports: {', '.join(item.exposed_ports) or '-'}  user: {item.user or '-'}"
            f"  workdir: {item.workdir or '-'}"
        )
        for key, value in (("env", item.env), ("labels", [f"{k}={v}" for k, v in item.labels.items()])):
            print(f"    {key}: {', '.join(value) or '-'}")
        for layer in item.layers:
            print(f"    layer {layer.digest} {layer.media_type} {layer.size} bytes")
        for entry in item.filesystem().values():
            print(f"      {entry.permissions} {entry.uid}:{entry.gid} {entry.size:>10} {entry.path}")
    return 0
