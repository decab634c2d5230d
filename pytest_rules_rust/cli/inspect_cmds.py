"""``inspect-binary`` (and ``inspect-image``): what a built artifact is, from the command line.

    python -m pytest_rules_rust inspect-binary FILE [--json]

A file that is not a sound ELF file exits 1 with one line naming the file, the problem and what to do;
a path that does not exist is a usage error (exit 2).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from dataclasses import replace

from ..errors import InspectError
from ..inspect.bounded import DEFAULT_LIMITS, parse_size
from ..inspect.elf import inspect_binary
from . import AddArguments, Handler, existing_path

BINARY_HINT = "pass the path of an ELF executable or library, e.g. an artifact path printed by `build --json`"
IMAGE_HINT = "rebuild the image, or pass an OCI layout directory or tarball, or a docker-archive tarball"


def one_line(exc: InspectError, default_hint: str, json_output: bool) -> InspectError:
    """The error as a single line that still says what to do (``... (hint: ...)``); with
    ``--json`` the hint stays in its own field, as every command's JSON error has it."""
    hint = exc.hint or default_hint
    if json_output:
        return InspectError(exc.message, hint=hint, paths=exc.paths)
    return InspectError(f"{exc.message} (hint: {hint})")


def binary_arguments(binary: argparse.ArgumentParser) -> Handler:
    """``inspect-binary``'s arguments; returns its handler."""
    binary.add_argument("file", metavar="FILE", type=existing_path, help="the ELF file to inspect")
    binary.add_argument("--json", action="store_true", help="print one JSON object (stable keys)")
    return run_inspect_binary


def run_inspect_binary(args: argparse.Namespace) -> int:
    try:
        info = inspect_binary(args.file)
    except InspectError as exc:
        raise one_line(exc, BINARY_HINT, args.json) from None
    if args.json:
        evidence = [{"fact": fact, "detail": detail} for fact, detail in info.evidence]
        print(json.dumps({**info.to_json(), "hardening": info.hardening, "evidence": evidence}, indent=2))
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


def image_arguments(image: argparse.ArgumentParser) -> Handler:
    """``inspect-image``'s arguments; returns its handler."""
    image.description = (
        "Inspect an OCI layout directory or tarball, or a docker-archive tarball, verifying "
        "every blob's sha256. A blob that does not match its digest exits 1 with one line naming it."
    )
    image.add_argument(
        "path", metavar="PATH", type=existing_path, help="OCI layout dir/tarball or docker-archive"
    )
    image.add_argument("--json", action="store_true", help="print one JSON object (stable keys)")
    for flag, limit, parse, metavar, help_text in LIMIT_OPTIONS:
        image.add_argument(
            flag,
            dest=limit,
            type=parse,
            default=getattr(DEFAULT_LIMITS, limit),
            metavar=metavar,
            help=help_text,
        )
    image.add_argument(
        "--allow-unsafe-entries",
        action="store_true",
        help="exit 0 even when layers hold absolute or ../ paths or device nodes (still listed)",
    )
    return run_inspect_image


def _size(text: str) -> int:
    try:
        return parse_size(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


#: The ``InspectLimits`` a user may change: (flag, field, parser, metavar, help).
LIMIT_OPTIONS: tuple[tuple[str, str, Callable[[str], object], str, str], ...] = (
    ("--max-unpacked", "max_unpacked_bytes", _size, "SIZE",
     "stop once the layers unpack to more than SIZE in total (default: 8G)"),
    ("--max-ratio", "max_ratio", float, "N",
     "stop when a gzip layer unpacks to more than N times its compressed size (default: 100)"),
)  # fmt: skip


def run_inspect_image(args: argparse.Namespace) -> int:
    from ..inspect.oci import inspect_image

    limits = replace(DEFAULT_LIMITS, **{limit: getattr(args, limit) for _, limit, *_ in LIMIT_OPTIONS})
    try:
        info = inspect_image(args.path, limits=limits)
    except InspectError as exc:  # one line: the message names the blob and both digests
        raise one_line(exc, IMAGE_HINT, args.json) from None
    findings = [f for item in info.platforms for f in item.findings]
    for finding in findings:
        print(f"finding: {finding}", file=sys.stderr)
    status = 0 if args.allow_unsafe_entries or not findings else 1
    if findings and status:
        print(
            f"error: {len(findings)} layer entries are unsafe to extract (hint: rebuild the image "
            "without them, or pass --allow-unsafe-entries to accept them)",
            file=sys.stderr,
        )
    if args.json:
        print(json.dumps(info.to_json(), indent=2))
        return status
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
    return status


#: subcommand -> adds its arguments, returns its handler (see ``cli.SUBCOMMANDS``)
COMMANDS: dict[str, AddArguments] = {
    "inspect-binary": binary_arguments,
    "inspect-image": image_arguments,
}
