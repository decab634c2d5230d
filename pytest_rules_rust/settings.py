"""Every user setting, declared once and resolved in one place: command line > ini > default.

``OPTIONS`` drives both ``pytest --help`` (group ``rules_rust``, prefix ``--rr-``, each with an ini
equivalent) and ``Settings.from_config``. Plain code takes ``Settings`` values, never ``pytest.Config``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pytest

from .errors import UsageError

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
        "override a workspace parameter for every workspace, e.g. --rr-set rust_edition=2024 (repeatable)",
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
        "Bazel versions to parametrise workspace tests over (repeatable)",
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
        "online",
        "allow builds to use the network (default: only the crate fetch phase may)",
        "bool",
        False,
        flag=True,
    ),
    Option(
        "emulated_host",
        "also build on an emulated arm64 host (about 13x slower than cross-compiling)",
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
        "Markdown file whose ```starlark blocks are collected as preflight test items (repeatable)",
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
    Option("bench_repeats", "repeats per benchmark point", default="5", metavar="N"),
    Option(
        "bench_quick", "short benchmark runs (for smoke tests, not for figures)", "bool", False, flag=True
    ),
)


def add_options(parser: pytest.Parser) -> None:
    group = parser.getgroup("rules_rust", "rules_rust workspaces, container builds and assertions")
    for opt in OPTIONS:
        kwargs: dict[str, Any] = {"dest": "rr_" + opt.name, "help": opt.help + f" [ini: {opt.ini}]"}
        if opt.flag:
            kwargs["action"] = "store_true"
            kwargs["default"] = None
        else:
            kwargs["action"] = "append" if opt.many else "store"
            kwargs["default"] = None
            if opt.choices:
                kwargs["choices"] = opt.choices
            if opt.metavar:
                kwargs["metavar"] = opt.metavar
        group.addoption(opt.cli, **kwargs)
        ini_default = opt.default if not opt.many else list(opt.default or ())
        parser.addini(opt.ini, opt.help, type=opt.ini_type, default=ini_default)


def raw_value(config: pytest.Config, name: str) -> Any:
    """The value of one option: command line if given, else ini, else default."""
    opt = next((o for o in OPTIONS if o.name == name), None)
    if opt is None:
        raise KeyError(name)
    value = config.getoption("rr_" + name, default=None)
    if value is None or value == []:
        value = config.getini(opt.ini)
    if opt.choices and not opt.many and value not in opt.choices:
        raise UsageError(
            f"{opt.ini} = {value!r} is not one of {', '.join(opt.choices)}",
            hint=f"set {opt.cli} or the ini key {opt.ini} to a valid choice",
        )
    if opt.many:
        value = [str(v) for v in (value or [])]
        if opt.choices:
            bad = [v for v in value if v not in opt.choices]
            if bad:
                raise UsageError(f"{opt.cli}: {', '.join(bad)} not one of {', '.join(opt.choices)}")
    return value


def _csv(text: str, what: str, convert: Callable[[str], Any] = str) -> tuple[Any, ...]:
    try:
        return tuple(convert(part.strip()) for part in str(text).split(",") if part.strip())
    except ValueError as exc:
        raise UsageError(f"{what}: cannot read {text!r} ({exc})", hint="give a comma-separated list") from exc


def _float(text: str, what: str) -> float:
    try:
        value = float(text)
    except ValueError as exc:
        raise UsageError(f"{what} must be a number of seconds, got {text!r}") from exc
    if value <= 0:
        raise UsageError(f"{what} must be positive, got {text!r}")
    return value


def parse_assignments(items: Sequence[str], what: str) -> dict[str, str]:
    """Turn ``KEY=VALUE`` strings into a dict; a malformed item is an error naming it."""
    out: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"{what}: {item!r} is not KEY=VALUE", hint="e.g. --rr-set rust_edition=2024")
        out[key.strip()] = value.strip()
    return out


def merged_params(config: pytest.Config) -> dict[str, str]:
    """``--rr-set`` over ini ``rr_set``, per parameter (the other ini values stay)."""
    ini = parse_assignments([str(v) for v in config.getini("rr_set")], "ini rr_set")
    cli = parse_assignments(config.getoption("rr_set", default=None) or [], "--rr-set")
    return {**ini, **cli}


@dataclass(frozen=True)
class Settings:
    """The resolved settings of one pytest run (or one CLI invocation)."""

    cache_dir: Path | None = None
    template_dirs: tuple[Path, ...] = ()
    params: dict[str, str] = field(default_factory=dict)
    builders: tuple[str, ...] = ("cargo",)
    platforms: tuple[str, ...] = ("linux/amd64", "linux/arm64")
    bazel_versions: tuple[str, ...] = ()
    rules_rust_versions: tuple[str, ...] = ()
    rust_versions: tuple[str, ...] = ()
    image_source: str = "local"
    cargo_image: str | None = None
    bazel_image: str | None = None
    online: bool = False
    emulated_host: bool = False
    bazel_args: tuple[str, ...] = ()
    build_timeout_s: float = 1800.0
    report_dir: Path | None = None
    docs: tuple[Path, ...] = ()
    qemu: str = "auto"
    run_timeout_s: float = 30.0
    bench_threads: tuple[int, ...] = (1, 2, 4, 8)
    bench_allocators: tuple[str, ...] = ("system", "jemalloc", "mimalloc")
    bench_repeats: int = 5
    bench_quick: bool = False

    @classmethod
    def from_config(cls, config: pytest.Config) -> Settings:
        def get(name: str) -> Any:
            return raw_value(config, name)

        root = Path(str(config.rootpath))

        def path(p: str) -> Path:
            return (root / Path(p).expanduser()).resolve()

        cache = get("cache_dir")
        report = get("report")
        return cls(
            cache_dir=path(cache) if cache else None,
            template_dirs=tuple(path(p) for p in get("template_dir")),
            params=merged_params(config),
            builders=tuple(get("builder")) or ("cargo",),
            platforms=tuple(get("platform")) or ("linux/amd64", "linux/arm64"),
            bazel_versions=tuple(get("bazel_version")),
            rules_rust_versions=tuple(get("rules_rust_version")),
            rust_versions=tuple(get("rust_version")),
            image_source=get("image_source"),
            cargo_image=get("cargo_image") or None,
            bazel_image=get("bazel_image") or None,
            online=bool(get("online")),
            emulated_host=bool(get("emulated_host")),
            bazel_args=tuple(get("bazel_arg")),
            build_timeout_s=_float(get("build_timeout"), "--rr-build-timeout"),
            report_dir=path(report) if report else None,
            docs=tuple(path(p) for p in get("doc")),
            qemu=get("qemu"),
            run_timeout_s=_float(get("run_timeout"), "--rr-run-timeout"),
            bench_threads=_csv(get("bench_threads"), "--rr-bench-threads", int),
            bench_allocators=_csv(get("bench_allocators"), "--rr-bench-allocators"),
            bench_repeats=int(_csv(get("bench_repeats"), "--rr-bench-repeats", int)[0]),
            bench_quick=bool(get("bench_quick")),
        )
