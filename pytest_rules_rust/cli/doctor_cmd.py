"""``doctor``: what is present and what is missing, with the command that fixes it."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ..cache import Cache
from ..doctor import diagnose, render
from . import AddArguments, Handler


def arguments(p: argparse.ArgumentParser) -> Handler:
    """``doctor``'s arguments; returns its handler."""
    p.description = "Exit 0 when every required part is present, 1 otherwise."
    p.add_argument("--bazel", action="store_true", help="also require Bazel (for --rr-builder bazel)")
    p.add_argument(
        "--bazel-binary",
        type=Path,
        default=None,
        metavar="PATH",
        help="check your own Bazel (--rr-bazel-binary)",
    )
    p.add_argument(
        "--bazel-version",
        default=None,
        metavar="VERSION",
        help="the Bazel version to look for (--rr-bazel-version)",
    )
    p.add_argument("--cache-dir", type=Path, default=None, help="cache directory to check")
    p.add_argument("--json", action="store_true", help="print the checks as JSON")
    return run


def run(args: argparse.Namespace) -> int:
    checks = diagnose(
        Cache(args.cache_dir),
        need_bazel=args.bazel,
        bazel_binary=args.bazel_binary,
        bazel_version=args.bazel_version,
    )
    if args.json:
        print(json.dumps({"checks": [c.to_json() for c in checks]}, indent=2))
    else:
        print(render(checks))
    return 0 if all(c.ok or not c.required for c in checks) else 1


#: subcommand -> adds its arguments, returns its handler (see ``cli.SUBCOMMANDS``)
COMMANDS: dict[str, AddArguments] = {"doctor": arguments}
