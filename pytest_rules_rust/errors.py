"""One exception family for everything the harness reports to a user.

Every error carries a one-paragraph message that names the bad input (file, line, parameter)
and a hint that says what to do next; paths worth keeping (failed workspace, log) travel with it.
The CLI maps them to exit codes in one place; pytest shows them as ordinary failures.
"""

from __future__ import annotations

from pathlib import Path

MAX_SHOWN = 200  # characters of a bad value quoted back in an error


def shown(value: object) -> str:
    """``repr(value)``, cut to ``MAX_SHOWN`` characters so an error never echoes a huge input.

    >>> shown("x" * 1000)[-17:]
    'x... (1002 chars)'
    """
    text = repr(value)
    return text if len(text) <= MAX_SHOWN else text[: MAX_SHOWN - 20] + f"... ({len(text)} chars)"


class RulesRustError(Exception):
    """Base class: a user-facing error with a hint and the paths worth keeping."""

    exit_code = 1

    def __init__(
        self, message: str, *, hint: str = "", paths: dict[str, Path] | None = None, reason: str = ""
    ) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.paths: dict[str, Path] = dict(paths or {})
        self.reason = reason  # one line for a matrix cell, when the message's first line is not it

    def __str__(self) -> str:
        parts = [self.message]
        parts += [f"{name}: {path}" for name, path in self.paths.items()]
        if self.hint:
            parts.append(f"hint: {self.hint}")
        return "\n".join(parts)


class UsageError(RulesRustError):
    """Bad command-line or parameter input (exit code 2 in the CLI)."""

    exit_code = 2


class WorkspaceError(UsageError):
    """An unknown workspace, parameter or invalid parameter value, or a broken template."""


class PreflightError(RulesRustError):
    """Preflight found error-severity findings; the build was not started."""


class EngineError(RulesRustError):
    """The container engine is missing, unreachable or refused a request."""


class ImageError(RulesRustError):
    """A builder image is missing (never pulled in offline mode) or could not be built."""


class EmulationError(RulesRustError):
    """binfmt_misc has no working qemu entry for a foreign architecture."""


class BuildError(RulesRustError):
    """A build failed or overran its timeout; the log and workspace are kept."""


class BazelUnavailable(BuildError):
    """The chosen image or host has no Bazel/Bazelisk."""


class InspectError(RulesRustError):
    """An artifact (ELF file, OCI layout, image tarball) is corrupt or not what was expected."""


class BenchError(RulesRustError):
    """A benchmark could not be built, run or parsed."""


class CacheError(RulesRustError):
    """The cache directory is unusable (not writable, full)."""
