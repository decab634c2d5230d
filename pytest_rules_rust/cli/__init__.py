"""``pytest-rules-rust`` (or ``python -m pytest_rules_rust``): subcommands over the plugin's functions.

``SUBCOMMANDS`` lists every subcommand and the module it lives in; that module's ``COMMANDS[name]``
adds its arguments and returns its handler (``args -> int``), and only the module of the command
being run is imported. Errors become exit codes in exactly one place, here:
a ``RulesRustError`` prints one paragraph (exit 1, or 2 for usage errors), never a traceback;
with ``--json`` it is printed as ``{"error": {...}}`` on stdout with the same exit code. Output
into a pipe that closes early (``| head``) ends quietly. Ctrl-C exits 130 and SIGTERM 143, after
every cleanup has run.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.metadata
import json
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import RulesRustError, UsageError
from ..signals import exit_code, sigterm_as_interrupt

if TYPE_CHECKING:
    from ..settings import Settings

#: What a subcommand runs: parsed arguments in, exit code out.
Handler = Callable[[argparse.Namespace], int]
#: What a subcommand's module gives for it: adds its arguments to its parser, returns its handler.
AddArguments = Callable[[argparse.ArgumentParser], Handler]

#: Every subcommand, in the order ``--help`` lists them: (module under ``pytest_rules_rust.cli``
#: whose ``COMMANDS[name]`` adds its arguments and returns its handler, one line for ``--help``).
SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "list": ("workspace_cmds", "list the workspace templates and their parameters"),
    "materialise": ("workspace_cmds", "copy a workspace template to DEST with parameters applied"),
    "preflight": (
        "preflight_cmd",
        "check a workspace (or the Starlark blocks of a Markdown file) statically",
    ),
    "build": ("build_cmd", "materialise a workspace and build it for a platform in a builder container"),
    "matrix": (
        "matrix_cmd",
        "build every fixture workspace for each platform in containers, inspect and run the results",
    ),
    "inspect-binary": (
        "inspect_cmds",
        "report machine, linkage, libc, allocators, hardening, glibc floor… of an ELF file",
    ),
    "inspect-image": (
        "inspect_cmds",
        "report digest, short tag and every platform of an OCI layout or docker-archive tarball",
    ),
    "bench": (
        "bench_cmd",
        "allocator throughput benchmarks: results.json (pytest-benchmark schema), CSV, plots, report.md",
    ),
    "doctor": ("doctor_cmd", "check Docker, binfmt/qemu, builder images, Bazel, buildifier and toolchains"),
}


class _Parser(argparse.ArgumentParser):
    json_errors = False  # set by main() when the command line asks for --json

    def error(self, message: str) -> None:  # type: ignore[override]
        if _Parser.json_errors:
            _print_json_error(UsageError(f"{self.prog}: {message}", hint=f"see `{self.prog} --help`"))
        else:
            self.print_usage(sys.stderr)
            print(f"{self.prog}: error: {message}", file=sys.stderr)
        raise SystemExit(2)


def existing_path(text: str) -> Path:
    """An argument that must name an existing file or directory: a missing one is a usage error
    (exit 2, like every bad argument), found before any work starts."""
    path = Path(text)
    if not path.exists():
        raise argparse.ArgumentTypeError(f"{text} does not exist (no such file or directory)")
    return path


def name_argument(parser: argparse.ArgumentParser) -> None:
    """The NAME argument of ``materialise`` and ``build``, resolved by ``workspaces.resolve_source``."""
    parser.add_argument(
        "name",
        metavar="NAME",
        help="template name (see `list`) or a workspace directory (a bare name is a template's when "
        "one has it; ./NAME is always the directory)",
    )


def program_name(argv0: str | None = None) -> str:
    """How the user started us: ``pytest-rules-rust`` for the console script, else ``python -m ...``."""
    name = Path(argv0 if argv0 is not None else sys.argv[0]).name
    return "python -m pytest_rules_rust" if name in ("__main__.py", "-c", "") else name


def settings_from_flags(values: Mapping[str, tuple[str, Any]]) -> Settings:
    """``Settings`` from a command's own flags (``{setting: (flag, value)}``); an error names the
    flag the user typed (``--timeout``), not the plugin option behind it (``--rr-build-timeout``)."""
    from ..settings import OPTION_BY_NAME, Settings  # not on preflight's path: its start-up stays small

    try:
        return Settings.from_mapping({name: value for name, (_flag, value) in values.items()})
    except UsageError as exc:
        message, hint = exc.message, exc.hint
        for name, (flag, _value) in values.items():
            option = OPTION_BY_NAME[name]
            message = message.replace(option.where, flag).replace(f"{option.cli} ", f"{flag} ")
            hint = hint and hint.replace(f"{option.cli} ", f"{flag} ")
        raise UsageError(message, hint=hint) from None


def _installed_version() -> str:
    try:
        return importlib.metadata.version("pytest-rules-rust")
    except importlib.metadata.PackageNotFoundError:  # run from a checkout that is not installed
        return "(not installed)"


def build_parser(prog: str | None = None, only: str | None = None) -> argparse.ArgumentParser:
    """The parser with every subcommand listed; the arguments of every subcommand, or only of the
    subcommand ``only`` (then only its module is imported: a faster start)."""
    parser = _Parser(
        prog=prog or program_name(),
        description="pytest-rules-rust: the same functions the pytest plugin uses, from the command line.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_installed_version()}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)
    for name, (module_name, help_text) in SUBCOMMANDS.items():
        command = sub.add_parser(name, help=help_text)
        if only in (None, name):
            module = importlib.import_module(f"{__name__}.{module_name}")
            command.set_defaults(handler=module.COMMANDS[name](command))
            if command.description:  # module docstrings serve as descriptions: drop their rST quoting
                command.description = command.description.replace("``", "`")
    return parser


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
    parser = build_parser(prog, args_list[0] if args_list and args_list[0] in SUBCOMMANDS else None)
    _Parser.json_errors = "--json" in args_list
    args = parser.parse_args(args_list)
    try:
        with sigterm_as_interrupt():
            if args.command in ENGINE_COMMANDS:
                _sweep_leftovers(quiet=getattr(args, "json", False))
            return int(args.handler(args))
    except BrokenPipeError:
        raise  # entry() ends quietly
    except (RulesRustError, OSError) as exc:
        error = exc if isinstance(exc, RulesRustError) else _path_error(exc)
        if getattr(args, "json", False):
            _print_json_error(error)
        else:
            print(f"error: {error}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt as exc:
        print("interrupted", file=sys.stderr)
        return exit_code(exc)


def _path_error(exc: OSError) -> UsageError:
    """A file system error on a path the command was given (not a directory, no permission, ...)."""
    where = " -> ".join(str(p) for p in (exc.filename, exc.filename2) if p is not None)
    return UsageError(
        f"{where or 'a path'}: {exc.strerror or exc}",
        hint="check the paths you passed: an output must be a directory you can create or write to",
    )


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
