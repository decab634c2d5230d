"""``preflight PATH [--json]``: static checks of a workspace directory or a Markdown file.

PATH may also be a directory inside a workspace or one of its Bazel or Cargo files (MODULE.bazel,
BUILD, a .bzl, Cargo.toml, Cargo.lock): like Bazel, preflight walks up to the workspace root and
checks the whole workspace.

Exit 0 without error findings, 1 with error findings, 2 on usage errors (bad PATH) and when
preflight itself cannot run (a bug: the message says so; no traceback).
Results are cached under the shared cache directory (``--no-cache`` to skip that).
"""

from __future__ import annotations

import argparse
import json
import sys

from . import AddArguments, Handler


def arguments(parser: argparse.ArgumentParser) -> Handler:
    """``preflight``'s arguments (described by this module's docstring); returns its handler."""
    parser.description = __doc__
    parser.add_argument(
        "path",
        metavar="PATH",
        help="workspace (or a directory, Bazel or Cargo file in one), or a Markdown/text file",
    )
    parser.add_argument("--json", action="store_true", help='print {"findings": [...]} as JSON')
    parser.add_argument("--no-buildifier", action="store_true", help="skip the buildifier second opinion")
    parser.add_argument(
        "--no-cache", action="store_true", help="do not reuse or store results in the shared cache directory"
    )
    return run


def run(args: argparse.Namespace) -> int:
    """Run preflight and print the findings; the exit code says whether there were errors."""
    from pathlib import Path

    from ..errors import RulesRustError
    from ..preflight import preflight, workspace_of

    given = Path(args.path)
    root, boundary = workspace_of(given)
    if root != given and not args.json:
        holding = (
            f"the directory holding {boundary}"
            if boundary
            else "the file's directory: no MODULE.bazel, REPO.bazel or WORKSPACE at or above it"
        )
        print(f"preflight: checking the workspace at {root} ({holding})", file=sys.stderr)
    try:
        report = preflight(root, use_buildifier=not args.no_buildifier, cache=not args.no_cache)
    except (RulesRustError, KeyboardInterrupt):
        raise
    except Exception as exc:  # a bug of preflight's own: one paragraph, not a traceback
        print(
            f"error: preflight could not run on {args.path}: {type(exc).__name__}: {exc}\n"
            "  this is a preflight bug: please report it to the pytest-rules-rust maintainers",
            file=sys.stderr,
        )
        return 2
    if args.json:
        print(json.dumps({"findings": [f.to_json() for f in report.findings]}, indent=2))
    else:
        print(report.format())
    return 0 if report.ok else 1


#: subcommand -> adds its arguments, returns its handler (see ``cli.SUBCOMMANDS``)
COMMANDS: dict[str, AddArguments] = {"preflight": arguments}
