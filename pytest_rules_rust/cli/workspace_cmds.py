"""``list`` and ``materialise``: the workspace templates from the command line.

    python -m pytest_rules_rust list [--json] [--template-dir DIR ...]
    python -m pytest_rules_rust materialise NAME DEST [--set KEY=VALUE ...] [--template-dir DIR ...]

``--set`` values are read like ini values: lists comma-separated, booleans ``true``/``false``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ..errors import UsageError
from ..workspace_params import render_plain
from ..workspaces import list_templates, materialise, resolve_source
from . import AddArguments, Handler, name_argument


def list_arguments(listing: argparse.ArgumentParser) -> Handler:
    """``list``'s arguments; returns its handler."""
    listing.add_argument("--json", action="store_true", help="print a JSON list of {name, parameters}")
    _template_dir_arg(listing)
    return run_list


def materialise_arguments(mat: argparse.ArgumentParser) -> Handler:
    """``materialise``'s arguments; returns its handler."""
    name_argument(mat)
    mat.add_argument("dest", metavar="DEST", type=Path, help="new or empty destination directory")
    mat.add_argument(
        "--set",
        dest="assignments",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="set a parameter (repeatable); lists comma-separated, booleans true/false",
    )
    _template_dir_arg(mat)
    return run_materialise


def _template_dir_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--template-dir",
        dest="template_dirs",
        action="append",
        default=[],
        type=Path,
        metavar="DIR",
        help="extra directory of workspace templates (repeatable; searched before the built-in ones)",
    )


def run_list(args: argparse.Namespace) -> int:
    templates = list_templates(args.template_dirs)
    if args.json:
        print(json.dumps([{"name": t.name, "parameters": dict(t.defaults)} for t in templates], indent=2))
        return 0
    for t in templates:
        print(f"{t.name}: {t.description}")
        for name, value in t.defaults.items():
            print(f"    {name} = {render_plain(value)}")
    return 0


def parse_sets(items: list[str]) -> dict[str, str]:
    """``KEY=VALUE`` strings to a dict; a malformed or repeated key is a usage error naming it."""
    out: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise UsageError(f"--set {item!r} is not KEY=VALUE", hint="e.g. --set rust_edition=2024")
        if key in out:
            raise UsageError(f"--set {key} is given twice", hint="give each parameter once")
        out[key] = value.strip()
    return out


def run_materialise(args: argparse.Namespace) -> int:
    source = resolve_source(args.name, args.template_dirs)
    if source.notice:
        print(f"note: {source.notice}", file=sys.stderr)
    workspace = materialise(source, args.dest, parse_sets(args.assignments))
    print(workspace.root)
    return 0


#: subcommand -> adds its arguments, returns its handler (see ``cli.SUBCOMMANDS``)
COMMANDS: dict[str, AddArguments] = {
    "list": list_arguments,
    "materialise": materialise_arguments,
}
