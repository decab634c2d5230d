"""``build NAME --platform linux/amd64|linux/arm64 ...``: materialise a workspace and build it in a container.

``--json`` prints exactly ``{"artifacts": [{"path", "kind", "target"}], "log", "duration_s"}`` with
absolute paths under ``--out``. NAME is a template name (see `list`) or a workspace directory: a
path (``./ws``, ``../x/ws``), or a bare name when no template has it (``ws`` for ``./ws``). When a
template and a directory share the name, the template is built and a note says so: pass ``./NAME``
for the directory.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
from pathlib import Path

from ..builders import BUILDERS, build, options_from_settings
from ..builders.base import BuildRequest
from ..cache import Cache
from ..platforms import AMD64, Platform
from . import AddArguments, Handler, name_argument, settings_from_flags


def arguments(parser: argparse.ArgumentParser) -> Handler:
    """``build``'s arguments (described by this module's docstring); returns its handler."""
    parser.description = __doc__
    name_argument(parser)
    parser.add_argument("--platform", required=True, help="target platform: linux/amd64 or linux/arm64")
    parser.add_argument("--libc", choices=("gnu", "musl"), default="gnu", help="C library (default: gnu)")
    parser.add_argument("--builder", choices=sorted(BUILDERS), default="cargo", help="default: cargo")
    parser.add_argument("--profile", choices=("debug", "release"), default="debug", help="default: debug")
    parser.add_argument(
        "--host",
        default="linux/amd64",
        help="build host: linux/amd64 (cross-compiles, default) or linux/arm64 (emulated, ~13x slower)",
    )
    parser.add_argument(
        "--set", action="append", default=[], metavar="KEY=VALUE", help="workspace parameter (repeatable)"
    )
    parser.add_argument(
        "--out", type=Path, help="output directory (default: ./rr-build/<name>-<platform>-<libc>)"
    )
    parser.add_argument(
        "--bazel-binary",
        type=Path,
        metavar="PATH",
        help="with --builder bazel: your own Bazel (an x86-64 ELF), mounted read-only instead of Bazelisk",
    )
    parser.add_argument("--cache-dir", type=Path, help="cache directory (default: $PYTEST_RULES_RUST_CACHE)")
    parser.add_argument("--timeout", default="1800", help="seconds before the build is killed (default 1800)")
    parser.add_argument(
        "--target",
        action="append",
        default=[],
        metavar="NAME",
        help="a Cargo binary or Bazel label to build (repeatable; default: what the workspace names, "
        "else every Cargo binary)",
    )
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    return run


def _default_out(name: str, platform: Platform, libc: str, profile: str) -> Path:
    label = re.sub(r"[^A-Za-z0-9_.-]", "_", Path(name).name or "workspace")
    return Path("rr-build") / f"{label}-{platform.slug}-{libc}-{profile}"


def run(args: argparse.Namespace) -> int:
    from ..workspaces import materialise, resolve_source

    platform = Platform.parse(args.platform)
    host = Platform.parse(args.host)
    settings = settings_from_flags(
        {
            "cache_dir": ("--cache-dir", args.cache_dir and str(args.cache_dir)),
            "set": ("--set", args.set),
            "builder": ("--builder", [args.builder]),
            "build_timeout": ("--timeout", args.timeout),
            "bazel_binary": ("--bazel-binary", args.bazel_binary and str(args.bazel_binary)),
        }
    )
    source = resolve_source(args.name)
    if source.notice and not args.json:
        print(f"note: {source.notice}", file=sys.stderr)
    out = (args.out or _default_out(args.name, platform, args.libc, args.profile)).resolve()
    workspace_dir = out / "workspace"
    if workspace_dir.exists():
        shutil.rmtree(workspace_dir)
    out.mkdir(parents=True, exist_ok=True)
    workspace = materialise(source, workspace_dir, settings.params)
    request = BuildRequest(
        workspace=workspace,
        target=platform,
        libc=args.libc,
        host=host,
        profile=args.profile,
        timeout_s=settings.build_timeout_s,
        targets=tuple(args.target),
    )
    cache = Cache(settings.cache_dir)
    if host != AMD64 and not args.json:
        print(f"building on an emulated {host} host (slow)", file=sys.stderr)
    options = options_from_settings(settings, args.builder)
    result = build(request, out, builder=args.builder, cache=cache, **options)
    if args.json:
        print(json.dumps(result.to_json()))
        return 0
    for artifact in result.artifacts:
        print(f"{artifact.kind:8} {artifact.target:20} {artifact.path}")
    print(f"log      {result.log}")
    print(f"built {workspace.name} for {platform} ({args.libc}, {args.profile}) in {result.duration_s:.1f} s")
    return 0


#: subcommand -> adds its arguments, returns its handler (see ``cli.SUBCOMMANDS``)
COMMANDS: dict[str, AddArguments] = {"build": arguments}
