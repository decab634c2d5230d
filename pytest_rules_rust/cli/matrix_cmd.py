"""``matrix``: the main job — every workspace built for linux/amd64 and linux/arm64, checked, reported."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..platforms import ALL_PLATFORMS, Platform
from . import AddArguments, Handler, settings_from_flags


def arguments(p: argparse.ArgumentParser) -> Handler:
    """``matrix``'s arguments; returns its handler."""
    p.description = (
        "The main job. Writes workspaces, builds, logs and report/matrix.{json,md} under --out. "
        "Exit 0 when no cell failed, 1 otherwise."
    )
    p.add_argument("--out", type=Path, default=Path("out"), help="output directory (default: ./out)")
    p.add_argument(
        "--workspace",
        action="append",
        default=[],
        metavar="NAME",
        help="only these (repeatable): template names, or workspace directories as `build` takes them",
    )
    p.add_argument(
        "--platform",
        action="append",
        default=[],
        metavar="OS/ARCH",
        help="linux/amd64 and/or linux/arm64 (default: both)",
    )
    p.add_argument(
        "--builder",
        choices=("cargo", "bazel"),
        default="cargo",
        help="cargo (default) or bazel (needs a Bazel; see `doctor`)",
    )
    p.add_argument(
        "--profile",
        choices=("debug", "release"),
        default="debug",
        help="debug (default: the quickest check) or release: the recipes' [profile.release] "
        "(LTO, strip …), what the document's `bazel build -c opt` builds and what its images ship",
    )
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="workspace parameter")
    p.add_argument("--template-dir", action="append", default=[], type=Path, help="extra template directory")
    p.add_argument(
        "--cache-dir", type=Path, default=None, help="cache directory (default: $PYTEST_RULES_RUST_CACHE)"
    )
    return run


def run(args: argparse.Namespace) -> int:
    from ..main_job import MainJob, run_main_job  # the whole pipeline: imported only for this command

    settings = settings_from_flags(
        {
            "set": ("--set", args.set),
            "template_dir": ("--template-dir", [str(d) for d in args.template_dir]),
            "cache_dir": ("--cache-dir", args.cache_dir and str(args.cache_dir)),
            "builder": ("--builder", [args.builder]),
        }
    )
    platforms = tuple(Platform.parse(p) for p in args.platform) or ALL_PLATFORMS
    job = MainJob(
        out_dir=args.out.resolve(),
        templates=tuple(args.workspace),
        platforms=platforms,
        profile=args.profile,
        settings=settings,
    )
    report = run_main_job(job)
    print(report.to_text())
    print(f"report: {job.out_dir / 'report' / 'matrix.md'}")
    return 1 if report.counts().get("failed") else 0


#: subcommand -> adds its arguments, returns its handler (see ``cli.SUBCOMMANDS``)
COMMANDS: dict[str, AddArguments] = {"matrix": arguments}
