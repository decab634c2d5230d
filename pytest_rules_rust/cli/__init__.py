"""``python -m pytest_rules_rust``: subcommands over the same functions the plugin uses.

Each subcommand lives in its own module with ``register(subparsers)``, which adds the parser
and sets ``handler`` (``args -> int``). Errors become exit codes in exactly one place, here:
a ``RulesRustError`` prints one paragraph (exit 1, or 2 for usage errors), never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from ..errors import RulesRustError

# Module names under pytest_rules_rust.cli, in the order `--help` lists them.
SUBCOMMAND_MODULES = (
    "workspace_cmds",  # list, materialise
    "preflight_cmd",  # preflight
    "build_cmd",  # build
    "matrix_cmd",  # matrix (the main job)
    "inspect_cmds",  # inspect-binary, inspect-image
    "bench_cmd",  # bench
    "doctor_cmd",  # doctor
)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        print(f"{self.prog}: error: {message}", file=sys.stderr)
        raise SystemExit(2)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="python -m pytest_rules_rust",
        description="pytest-rules-rust: the same functions the pytest plugin uses, from the command line.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)
    for name in SUBCOMMAND_MODULES:
        module = importlib.import_module(f"{__name__}.{name}")
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args))
    except RulesRustError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def entry() -> None:
    raise SystemExit(main())
