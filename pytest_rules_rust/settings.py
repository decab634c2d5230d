"""Every user setting, declared once and resolved in one place: command line > ini > default.

``OPTIONS`` declares each setting once: its flag (``--rr-<name>``), its ini key (``rr_<name>``), its
help and its default. ``Settings.from_mapping`` turns raw values (strings and lists, as a command line
or an ini file gives them) into one validated, frozen ``Settings``; the pytest plugin
(``plugin/options.py``) and the command line both call it, so they decide defaults and validate
values the same way. This module knows nothing of pytest.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from .errors import RulesRustError, UsageError, shown
from .platforms import Platform

IniType = Literal["string", "args", "linelist", "bool"]


@dataclass(frozen=True)
class Option:
    name: str  # the attribute on Settings; the flag is --rr-<name with dashes>, the ini key rr_<name>
    help: str
    ini_type: IniType = "string"
    default: Any = None
    many: bool = False  # repeatable on the command line, a list in ini
    flag: bool = False  # a store_true switch
    choices: tuple[str, ...] = ()
    metavar: str | None = None

    @property
    def cli(self) -> str:
        return "--rr-" + self.name.replace("_", "-")

    @property
    def ini(self) -> str:
        return "rr_" + self.name

    @property
    def where(self) -> str:
        """How a user names it: ``--rr-build-timeout (ini rr_build_timeout)``."""
        return f"{self.cli} (ini {self.ini})"

    @property
    def shown_default(self) -> str:
        if self.flag:
            return "off"
        if self.many:
            return ", ".join(str(v) for v in self.default) if self.default else "none"
        return "none" if self.default is None else str(self.default)


OPTIONS: tuple[Option, ...] = (
    Option(
        "cache_dir",
        "cache directory for images, crates, Bazel caches and builds "
        "(default: $PYTEST_RULES_RUST_CACHE or ~/.cache/pytest-rules-rust)",
        metavar="DIR",
    ),
    Option(
        "template_dir",
        "extra directory of workspace templates (repeatable); downstream projects add their own here",
        "linelist",
        (),
        many=True,
        metavar="DIR",
    ),
    Option(
        "set",
        "override a workspace parameter for every workspace, e.g. --rr-set rust_edition=2018 (repeatable)",
        "linelist",
        (),
        many=True,
        metavar="KEY=VALUE",
    ),
    Option(
        "builder",
        "builders to run the build tests with (repeatable)",
        "args",
        ("cargo",),
        many=True,
        choices=("cargo", "bazel"),
    ),
    Option(
        "platform",
        "target platforms the build tests cover (repeatable)",
        "args",
        ("linux/amd64", "linux/arm64"),
        many=True,
        metavar="OS/ARCH",
    ),
    Option(
        "bazel_version",
        "Bazel versions to parametrise workspace tests over (repeatable); the first is also what "
        "Bazelisk runs for a workspace with neither .bazelversion nor a bazel_version parameter",
        "args",
        (),
        many=True,
        metavar="VERSION",
    ),
    Option(
        "rules_rust_version",
        "rules_rust versions to parametrise over (repeatable)",
        "args",
        (),
        many=True,
        metavar="VERSION",
    ),
    Option(
        "rust_version",
        "Rust versions to parametrise over (repeatable)",
        "args",
        (),
        many=True,
        metavar="VERSION",
    ),
    Option(
        "image_source",
        "where builder images come from: 'local' builds them from Debian packages "
        "(offline), 'public' uses public multi-arch images",
        default="local",
        choices=("local", "public"),
    ),
    Option(
        "cargo_image", "explicit cargo builder image reference (overrides --rr-image-source)", metavar="REF"
    ),
    Option(
        "bazel_image", "explicit Bazel builder image reference (must carry bazel or bazelisk)", metavar="REF"
    ),
    Option(
        "bazel_binary",
        "a Bazel binary of your own (an ELF for linux/amd64, the build host), mounted read-only into "
        "the Bazel builder's containers and run instead of Bazelisk",
        metavar="PATH",
    ),
    Option(
        "online",
        "allow builds to use the network (default: only the crate fetch phase may)",
        "bool",
        False,
        flag=True,
    ),
    Option(
        "bazel_arg",
        "extra argument passed to every bazel build, e.g. --remote_cache=grpc://... (repeatable)",
        "linelist",
        (),
        many=True,
        metavar="ARG",
    ),
    Option("build_timeout", "seconds before a build is killed and reported", default="1800", metavar="S"),
    Option("report", "write the run's matrix summary as JSON and Markdown into DIR", metavar="DIR"),
    Option(
        "doc",
        "Markdown file whose Starlark blocks are collected as preflight test items (repeatable)",
        "linelist",
        (),
        many=True,
        metavar="PATH",
    ),
    Option(
        "qemu",
        "how foreign-architecture binaries run: auto, binfmt, or the path of a qemu-user binary",
        default="auto",
        metavar="HOW",
    ),
    Option(
        "run_timeout", "seconds before a binary run by the assertions is killed", default="30", metavar="S"
    ),
    Option("bench_threads", "thread counts for allocator benchmarks", default="1,2,4,8", metavar="N,N"),
    Option(
        "bench_allocators", "allocators for benchmarks", default="system,jemalloc,mimalloc", metavar="A,B"
    ),
    Option(
        "bench_repeats",
        "repeats per benchmark point (unset: 20, or 6 with --rr-bench-quick)",
        metavar="N",
    ),
    Option(
        "bench_quick", "short benchmark runs (for smoke tests, not for figures)", "bool", False, flag=True
    ),
)


OPTION_BY_NAME = {opt.name: opt for opt in OPTIONS}


def _bad(opt: Option, value: object, expected: str) -> UsageError:
    return UsageError(f"{opt.where}: {shown(value)} is not {expected}")


def _number(opt: Option, value: object, convert: Callable[[str], float] = float) -> float:
    try:
        number = convert(str(value).strip())
    except ValueError:
        raise _bad(opt, value, f"a number (e.g. {opt.cli} {opt.default})") from None
    if number <= 0:
        raise _bad(opt, value, f"a positive number (e.g. {opt.cli} {opt.default})")
    return number


def _csv(opt: Option, value: object, convert: Callable[[str], Any] = str) -> tuple[Any, ...]:
    items = [part.strip() for part in str(value).split(",") if part.strip()]
    try:
        out = tuple(convert(item) for item in items)
    except ValueError:
        raise _bad(opt, value, f"a comma-separated list (e.g. {opt.cli} {opt.default})") from None
    if not out:
        raise _bad(opt, value, f"a non-empty comma-separated list (e.g. {opt.cli} {opt.default})")
    return out


def _bazel_binary(opt: Option, value: str | None, path: Callable[[str], Path]) -> Path | None:
    """``--rr-bazel-binary`` checked at start-up: an executable ELF for the build host, linux/amd64."""
    if not value:
        return None
    from .builders.bazel_tool import check_binary
    from .platforms import AMD64

    return check_binary(path(value), AMD64, opt.where).path


def parse_assignments(items: Sequence[str], what: str) -> dict[str, str]:
    """Turn ``KEY=VALUE`` strings into a dict (later items win); a malformed item is an error naming it."""
    out: dict[str, str] = {}
    for item in items:
        key, sep, value = str(item).partition("=")
        if not sep or not key.strip():
            raise UsageError(f"{what}: {shown(item)} is not KEY=VALUE (e.g. --rr-set rust_edition=2021)")
        out[key.strip()] = value.strip()
    return out


def _params(opt: Option, items: Sequence[str]) -> dict[str, str]:
    """``--rr-set`` values, each a known parameter with a valid value (did-you-mean for near misses)."""
    from .workspace_params import coerce, lookup

    params = parse_assignments(items, opt.where)
    for key, value in params.items():
        try:
            lookup(key, where="any workspace")
            coerce(key, value)
        except RulesRustError as exc:
            raise UsageError(f"{opt.where}: {exc.message}", hint=exc.hint) from None
    return params


@dataclass(frozen=True)
class Settings:
    """The resolved settings of one pytest run (or one CLI invocation)."""

    cache_dir: Path | None = None
    template_dirs: tuple[Path, ...] = ()
    params: Mapping[str, str] = field(default_factory=dict)
    builders: tuple[str, ...] = ("cargo",)
    platforms: tuple[str, ...] = ("linux/amd64", "linux/arm64")
    bazel_versions: tuple[str, ...] = ()
    rules_rust_versions: tuple[str, ...] = ()
    rust_versions: tuple[str, ...] = ()
    image_source: str = "local"
    cargo_image: str | None = None
    bazel_image: str | None = None
    bazel_binary: Path | None = None
    online: bool = False
    bazel_args: tuple[str, ...] = ()
    build_timeout_s: float = 1800.0
    report_dir: Path | None = None
    docs: tuple[Path, ...] = ()
    qemu: str = "auto"
    run_timeout_s: float = 30.0
    bench_threads: tuple[int, ...] = (1, 2, 4, 8)
    bench_allocators: tuple[str, ...] = ("system", "jemalloc", "mimalloc")
    bench_repeats: int | None = None  # None: the benchmark's own count (20, or 6 with bench_quick)
    bench_quick: bool = False

    @classmethod
    def from_mapping(
        cls, raw: Mapping[str, Any], root: Path | str = ".", *, roots: Mapping[str, Path | str] | None = None
    ) -> Settings:
        """Validate raw option values (``{name: str | list | bool | None}``; None or absent = default).

        A relative path in option ``name`` is taken from ``roots[name]`` when given, else from
        ``root`` (the current directory by default, as the command line wants; the pytest plugin
        passes the directory pytest ran in for command-line values and the ini file's directory for
        ini values). Raises :class:`UsageError` naming the option, the bad value and the valid form.
        """
        unknown = sorted(set(raw) - set(OPTION_BY_NAME))
        if unknown:
            raise UsageError(f"unknown setting(s): {', '.join(unknown)}")
        bases = {name: Path((roots or {}).get(name, root)) for name in OPTION_BY_NAME}

        def get(name: str) -> Any:
            opt = OPTION_BY_NAME[name]
            value = raw.get(name)
            if value is None or (opt.many and not value):
                value = opt.default
            if opt.many:
                value = [str(v) for v in value or ()]
                bad = [v for v in value if opt.choices and v not in opt.choices]
                if bad:
                    raise _bad(opt, bad[0], f"one of {', '.join(opt.choices)}")
            elif opt.choices and value not in opt.choices:
                raise _bad(opt, value, f"one of {', '.join(opt.choices)}")
            return value

        def path_of(name: str) -> Callable[[str], Path]:
            def path(value: str) -> Path:
                return (bases[name] / Path(value).expanduser()).resolve()

            return path

        def existing(name: str, kind: str) -> tuple[Path, ...]:
            opt = OPTION_BY_NAME[name]
            out = []
            for value in get(name):
                found = path_of(name)(value)
                ok = found.is_dir() if kind == "directory" else found.is_file()
                if not ok:
                    raise UsageError(f"{opt.where}: {found} is not an existing {kind}")
                out.append(found)
            return tuple(dict.fromkeys(out))

        def platforms() -> tuple[str, ...]:
            opt = OPTION_BY_NAME["platform"]
            out = []
            for value in get("platform"):
                try:
                    out.append(Platform.parse(value).docker)
                except UsageError:
                    raise _bad(opt, value, "a platform: linux/amd64 or linux/arm64") from None
            return tuple(dict.fromkeys(out))

        def number(name: str) -> float:
            return _number(OPTION_BY_NAME[name], get(name))

        def versions(name: str, param: str, example: str) -> tuple[str, ...]:
            return _versions(OPTION_BY_NAME[name], get(name), param, example)

        def output_dir(name: str) -> Path | None:
            value = get(name)
            return _writable_dir(OPTION_BY_NAME[name], path_of(name)(value)) if value else None

        repeats = get("bench_repeats")
        return cls(
            cache_dir=output_dir("cache_dir"),
            template_dirs=existing("template_dir", "directory"),
            params=_params(OPTION_BY_NAME["set"], get("set")),
            builders=tuple(dict.fromkeys(get("builder"))),
            platforms=platforms(),
            bazel_versions=versions("bazel_version", "bazel_version", "7.4.1"),
            rules_rust_versions=versions("rules_rust_version", "rules_rust_version", "0.46.0"),
            rust_versions=versions("rust_version", "rust_versions", "1.79.0"),
            image_source=get("image_source"),
            cargo_image=get("cargo_image") or None,
            bazel_image=get("bazel_image") or None,
            online=_flag(OPTION_BY_NAME["online"], get("online")),
            bazel_binary=_bazel_binary(
                OPTION_BY_NAME["bazel_binary"], get("bazel_binary"), path_of("bazel_binary")
            ),
            bazel_args=tuple(get("bazel_arg")),
            build_timeout_s=number("build_timeout"),
            report_dir=output_dir("report"),
            docs=existing("doc", "file"),
            qemu=_qemu(OPTION_BY_NAME["qemu"], get("qemu"), path_of("qemu")),
            run_timeout_s=number("run_timeout"),
            bench_threads=_csv(OPTION_BY_NAME["bench_threads"], get("bench_threads"), _positive_int),
            bench_allocators=_csv(OPTION_BY_NAME["bench_allocators"], get("bench_allocators")),
            bench_repeats=None
            if repeats in (None, "")
            else int(_number(OPTION_BY_NAME["bench_repeats"], repeats, _positive_int)),
            bench_quick=_flag(OPTION_BY_NAME["bench_quick"], get("bench_quick")),
        )


def _versions(opt: Option, values: Sequence[str], param: str, example: str) -> tuple[str, ...]:
    """A version axis (``--rr-rules-rust-version`` ...): each value must look like a version of the
    workspace parameter it sets. Whether a template supports that version is the template's to say,
    when a test materialises it."""
    from .workspace_params import CATALOGUE

    form = CATALOGUE[param]
    for value in values:
        if not form.check_item(value):
            valid = "a Rust version like 1.79.0 or nightly/2024-06-01" if form.kind == "list" else form.format
            raise _bad(opt, value, f"{valid} (e.g. {opt.cli} {example})")
    return tuple(dict.fromkeys(values))


def _writable_dir(opt: Option, path: Path) -> Path:
    """An output directory checked at start-up, not when the run writes to it: it is created (with
    its parents) and a probe file is written and removed there."""
    probe = path / f".rr-probe-{os.getpid()}"
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe.write_text("ok")
        probe.unlink()
    except OSError as exc:
        blocker = next((p for p in (path, *path.parents) if p.exists() and not p.is_dir()), None)
        reason = f"{blocker} is a file" if blocker is not None else exc.strerror or str(exc)
        raise UsageError(
            f"{opt.where}: {path} cannot be created or written to ({reason})",
            hint=f"pass {opt.cli} a directory you can create or write to",
        ) from None
    return path


def _positive_int(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise ValueError(text)
    return value


def _flag(opt: Option, value: object) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off", ""):
        return False
    raise _bad(opt, value, "true or false")


def _qemu(opt: Option, value: str, path: Callable[[str], Path]) -> str:
    if value in ("auto", "binfmt"):
        return value
    found = path(value)
    if not found.is_file():
        raise _bad(opt, value, "auto, binfmt, or the path of an existing qemu-user binary")
    return str(found)
