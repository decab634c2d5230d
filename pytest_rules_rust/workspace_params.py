"""The global catalogue of workspace parameters: types, defaults, validation and safe literals.

Every value a user can set goes through ``coerce()`` (strings from the command line or ini are
converted, typed values are checked) and reaches a template only as a literal built by
``starlark_literal()`` or ``toml_literal()``, which escape quotes, backslashes and control characters.
Validation already rejects such characters in every parameter, so escaping is the second line.

>>> coerce("rust_versions", "1.79.0,1.80.0")
['1.79.0', '1.80.0']
>>> starlark_literal('a"b\\n')
'"a\\\\"b\\\\n"'
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

from .errors import WorkspaceError, shown

Kind = Literal["str", "list", "bool"]
Value = str | bool | int | list[str]

_VERSION = re.compile(r"^\d+\.\d+\.\d+(?:-?(?:rc|pre)[0-9A-Za-z.\-]*)?$")
_RUST_VERSION = re.compile(r"^(?:\d+\.\d+\.\d+|(?:nightly|beta)/\d{4}-\d{2}-\d{2})$")
_LINUX_CPUS = ("x86_64", "aarch64", "i686", "armv7", "arm", "riscv64gc", "powerpc64le", "s390x")
_TRIPLE = re.compile(rf"^(?:{'|'.join(_LINUX_CPUS)})-unknown-linux-(?:gnu|musl)(?:eabihf|eabi)?$")
# An OCI repository reference as in the distribution spec: [host[:port]/]path, no tag, no digest.
_LABEL = r"[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?"
_HOST = rf"{_LABEL}(?:\.{_LABEL})*(?::\d{{1,5}})?"
_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_REPOSITORY = re.compile(rf"^(?:{_HOST}/)?{_COMPONENT}(?:/{_COMPONENT})*$")


@dataclass(frozen=True)
class Param:
    """One global parameter: its type, default, and what a valid value looks like."""

    name: str
    kind: Kind
    default: Value
    help: str
    format: str  # what a valid value looks like, shown in errors
    pattern: re.Pattern[str] | None = None
    choices: tuple[str, ...] = ()

    def check_item(self, item: str) -> bool:
        if self.choices:
            return item in self.choices
        return self.pattern is None or bool(self.pattern.fullmatch(item))


CATALOGUE: dict[str, Param] = {
    p.name: p
    for p in (
        Param(
            "bazel_version", "str", "7.4.1", "Bazel version (.bazelversion)", "a version like 7.4.1", _VERSION
        ),
        Param(
            "rules_rust_version",
            "str",
            "0.46.0",
            "rules_rust bazel_dep version",
            "a version like 0.46.0",
            _VERSION,
        ),
        Param(
            "rust_versions",
            "list",
            ["1.79.0"],
            "Rust toolchain versions registered with rust.toolchain(versions = ...)",
            "a non-empty list of versions like 1.79.0 or nightly/2024-06-01",
            _RUST_VERSION,
        ),
        Param(
            "rust_edition",
            "str",
            "2021",
            "Rust edition (rust.toolchain and Cargo.toml)",
            "one of 2015, 2018, 2021, 2024",
            choices=("2015", "2018", "2021", "2024"),
        ),
        Param(
            "llvm_version", "str", "16.0.0", "toolchains_llvm LLVM version", "a version like 16.0.0", _VERSION
        ),
        Param(
            "target_triples",
            "list",
            ["x86_64-unknown-linux-gnu", "aarch64-unknown-linux-gnu"],
            "extra_target_triples of the Rust toolchain",
            "a non-empty list of linux triples <cpu>-unknown-linux-<gnu|musl>, "
            f"cpu one of {', '.join(_LINUX_CPUS)}",
            _TRIPLE,
        ),
        Param(
            "platforms",
            "list",
            ["linux/amd64", "linux/arm64"],
            "target platforms (mapped to the workspace's platform labels)",
            "a non-empty list of linux/amd64, linux/arm64",
            choices=("linux/amd64", "linux/arm64"),
        ),
        Param(
            "registry",
            "str",
            "localhost:5000/musl",
            "OCI repository oci_push pushes to",
            "an OCI repository reference [host[:port]/]name[/name...] in lower case, without tag or digest",
            _REPOSITORY,
        ),
        Param(
            "sysroot", "bool", False, "use downloaded sysroots for the LLVM cross toolchains", "true or false"
        ),
    )
}

_TRUE = ("true", "1", "yes", "on")
_FALSE = ("false", "0", "no", "off")


def suggest(name: str, known: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` for the nearest known name, or an empty string."""
    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def lookup(name: str, accepted: Iterable[str] | None = None, where: str = "") -> Param:
    """The catalogue entry for ``name``; an unknown or not-accepted name raises ``WorkspaceError``."""
    known = list(accepted) if accepted is not None else list(CATALOGUE)
    if name in known and name in CATALOGUE:
        return CATALOGUE[name]
    if name in CATALOGUE:
        raise WorkspaceError(
            f"parameter {shown(name)} is not taken by {where or 'this workspace'}",
            hint=f"its parameters are: {', '.join(known) or 'none'}",
        )
    raise WorkspaceError(
        f"unknown parameter {shown(name)}{suggest(name, known)}",
        hint=f"valid parameters{' of ' + where if where else ''}: {', '.join(known) or 'none'}",
    )


def _bad(param: Param, value: object, why: str = "") -> WorkspaceError:
    return WorkspaceError(
        f"invalid value {shown(value)} for parameter {param.name!r}{': ' + why if why else ''}; "
        f"expected {param.format}",
        hint=_hint(param),
    )


def _hint(param: Param, default: Value | None = None) -> str:
    """What to set ``param`` to, with the workspace's own default when there is one."""
    known = "" if default is None else f" (this workspace's default: {render_plain(default)})"
    return f"set {param.name} to {param.format}{known}"


def _has_control_character(value: object) -> bool:
    """A newline, tab, NUL … anywhere: rejected, never stripped (spaces around items are fine)."""
    texts = value if isinstance(value, list | tuple) else [value]
    return any(isinstance(t, str) and any(ch < " " or ch == "\x7f" for ch in t) for t in texts)


def coerce(name: str, value: object, default: Value | None = None) -> Value:
    """Validate ``value`` for parameter ``name``, converting strings (``a,b`` lists, ``true``/``false``).

    ``default``, the workspace's own default when there is one, is named in the error's hint.
    """
    param = lookup(name)
    try:
        return _coerce(param, value)
    except WorkspaceError as exc:
        if default is None:
            raise
        raise WorkspaceError(exc.message, hint=_hint(param, default)) from None


def _coerce(param: Param, value: object) -> Value:
    if _has_control_character(value):
        raise _bad(param, value, "it contains a newline or another control character")
    if param.kind == "bool":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in _TRUE + _FALSE:
            return value.strip().lower() in _TRUE
        raise _bad(param, value)
    if param.kind == "list":
        if isinstance(value, str):
            items: list[object] = [part.strip() for part in value.split(",") if part.strip()]
        elif isinstance(value, list | tuple):
            items = list(value)
        else:
            raise _bad(param, value)
        if not items:
            raise _bad(param, value, "the list is empty")
        for item in items:
            if not isinstance(item, str) or not param.check_item(item):
                raise _bad(param, value, f"item {shown(item)} is not valid")
        if len(set(items)) != len(items):
            raise _bad(param, value, "it lists an item twice")
        return [str(i) for i in items]
    if not isinstance(value, str) or not param.check_item(value):
        raise _bad(param, value)
    return value


def check_combination(values: Mapping[str, Value]) -> None:
    """Cross-parameter rules: edition 2024 needs Rust 1.85 or newer."""
    if values.get("rust_edition") == "2024" and "rust_versions" in values:
        versions = values["rust_versions"]
        assert isinstance(versions, list)
        old = [v for v in versions if re.match(r"^\d", v) and tuple(map(int, v.split(".")[:2])) < (1, 85)]
        if old:
            raise WorkspaceError(
                "parameter 'rust_edition' = '2024' needs Rust 1.85 or newer, "
                f"but 'rust_versions' has {', '.join(old)}",
                hint="also set rust_versions, e.g. rust_versions=1.85.0",
            )


def _escape(text: str, *, toml: bool) -> str:
    out = []
    for ch in text:
        if ch == "\\":
            out.append("\\\\")
        elif ch == '"':
            out.append('\\"')
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\t":
            out.append("\\t")
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04x}" if toml else f"\\{ord(ch):03o}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _literal(value: object, *, toml: bool) -> str:
    """A Starlark (``toml=False``) or TOML literal for a str, bool, int or list of str; never raw text."""
    dialect = "TOML" if toml else "Starlark"
    if isinstance(value, bool):
        return str(value).lower() if toml else str(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return _escape(value, toml=toml)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_literal(v, toml=toml) for v in value) + "]"
    raise TypeError(f"no {dialect} literal for {type(value).__name__}")


def starlark_literal(value: object) -> str:
    """A Starlark literal for a str, bool, int or list of str; never raw text."""
    return _literal(value, toml=False)


def toml_literal(value: object) -> str:
    """A TOML literal (basic string, boolean, integer or array) for the same value types."""
    return _literal(value, toml=True)


def render_plain(value: object) -> str:
    """The command-line spelling of a value: lists comma-separated, booleans true/false."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return ",".join(str(v) for v in value)
    return str(value)
