"""``pytest-rules-rust`` (or ``python -m pytest_rules_rust``): subcommands over the plugin's functions.

Each subcommand lives in its own module with ``register(subparsers)``, which adds the parser
and sets ``handler`` (``args -> int``). Errors become exit codes in exactly one place, here:
a ``RulesRustError`` prints one paragraph (exit 1, or 2 for usage errors), never a traceback;
with ``--json`` it is printed as ``{"error": {...}}`` on stdout with the same exit code. Output
into a pipe that closes early (``| head``) ends quietly. Ctrl-C exits 130 and SIGTERM 143, after
every cleanup has run.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from ..errors import RulesRustError, UsageError
from ..signals import exit_code, sigterm_as_interrupt

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
    json_errors = False  # set by main() when the command line asks for --json

    def error(self, message: str) -> None:  # type: ignore[override]
        if _Parser.json_errors:
            _print_json_error(UsageError(f"{self.prog}: {message}", hint=f"see `{self.prog} --help`"))
        else:
            self.print_usage(sys.stderr)
            print(f"{self.prog}: error: {message}", file=sys.stderr)
        raise SystemExit(2)


def program_name(argv0: str | None = None) -> str:
    """How the user started us: ``pytest-rules-rust`` for the console script, else ``python -m ...``."""
    name = Path(argv0 if argv0 is not None else sys.argv[0]).name
    return "python -m pytest_rules_rust" if name in ("__main__.py", "-c", "") else name


def build_parser(prog: str | None = None, only: str | None = None) -> argparse.ArgumentParser:
    """The parser with every subcommand, or only the module ``only`` (a faster start for one command)."""
    parser = _Parser(
        prog=prog or program_name(),
        description="pytest-rules-rust: the same functions the pytest plugin uses, from the command line.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)
    for name in SUBCOMMAND_MODULES if only is None else (only,):
        module = importlib.import_module(f"{__name__}.{name}")
        module.register(sub)
    return parser


# Subcommands whose module can be loaded alone when they are the first argument (start-up time).
FAST_START = {"preflight": "preflight_cmd"}

#: Subcommands that start containers: they first sweep what killed earlier runs left, as the plugin does.
ENGINE_COMMANDS = frozenset({"build", "matrix", "bench"})


def _sweep_leftovers(quiet: bool) -> None:
    from ..containers import detect_engine, sweep_leftovers
    from ..errors import EngineError

    try:
        engine = detect_engine()
    except EngineError:
        return  # the command itself reports a missing engine when it needs one
    notice = sweep_leftovers(engine).notice()
    if notice and not quiet:  # with --json, stderr stays empty
        print(notice, file=sys.stderr)


def main(argv: Sequence[str] | None = None, prog: str | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(prog, FAST_START.get(args_list[0]) if args_list else None)
    _Parser.json_errors = "--json" in args_list
    args = parser.parse_args(args_list)
    try:
        with sigterm_as_interrupt():
            if args.command in ENGINE_COMMANDS:
                _sweep_leftovers(quiet=getattr(args, "json", False))
            return int(args.handler(args))
    except RulesRustError as exc:
        if getattr(args, "json", False):
            _print_json_error(exc)
        else:
            print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt as exc:
        print("interrupted", file=sys.stderr)
        return exit_code(exc)


def _print_json_error(exc: RulesRustError) -> None:
    """``--json``'s form of an error: one object on stdout, the exit code stays the error's."""
    error = {
        "type": type(exc).__name__,
        "message": exc.message,
        "hint": exc.hint,
        "paths": {name: str(path) for name, path in exc.paths.items()},
        "exit_code": exc.exit_code,
    }
    print(json.dumps({"error": error}))


def entry() -> None:
    """The console script: exits with ``main()``'s code; a reader that closed the pipe ends it quietly."""
    try:
        code = main()
        sys.stdout.flush()
    except BrokenPipeError:
        # Python would complain again when it flushes stdout at exit: point it at /dev/null first.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        code = 141  # 128 + SIGPIPE, as a shell reports a writer killed by a closed pipe
    raise SystemExit(code)
