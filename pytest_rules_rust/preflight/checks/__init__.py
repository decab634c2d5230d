"""The checks: each is a function ``Ctx -> Iterator[Finding]`` with stable codes (see CODES)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from .. import guard
from ..model import Finding, Model
from .api_usage import check_api_usage
from .base import Ctx
from .crates import check_cargo_manifests, check_crates
from .duplicates import check_bazel_deps, check_load_order, check_package_calls, check_rebinding
from .globs import check_globs
from .labels import check_bazelrc_platforms, check_labels, check_selects
from .oci import check_ports
from .platforms import check_constraints, check_platform_triples
from .rust_toolchains import check_rust_resolution
from .toolchains import check_llvm, check_registered_packages, check_wired_modules

CODES = {
    "RR001": "syntax error",
    "RR002": "name used without load() or definition",
    "RR003": "evaluation stopped (runtime error); later checks on that file are limited",
    "RR004": "file not evaluated: beyond a limit (size, tokens, nesting depth, operator chain)",
    "RR005": "file cannot be read as Starlark source (unreadable, not UTF-8, NUL byte)",
    "RR009": "preflight itself failed on this file or check (a bug: please report); the rest was checked",
    "RR101": "label names a package that does not exist",
    "RR102": "label names a target or file that does not exist",
    "RR103": "load() of a .bzl file that does not exist",
    "RR104": "repository not visible from the main module (not the module, a bazel_dep or use_repo)",
    "RR105": "select() key with no matching config_setting",
    "RR201": "unknown @platforms cpu/os constraint value",
    "RR202": "target platform that no Rust triple covers",
    "RR203": "--platforms (or --host_platform, ...) in .bazelrc names a target that is not a platform()",
    "RR301": "@crates//:X with no crate.spec or Cargo dependency X (or one spelled with - for _)",
    "RR302": "Cargo.toml of crate.from_cargo that is not valid TOML (or cannot be read)",
    "RR303": "Cargo workspace member missing from crate.from_cargo manifests (rules_rust < 0.63)",
    "RR304": "Cargo.toml dependency that the hub's Cargo.lock does not list (stale lock file)",
    "RR401": "registered toolchain package/target has no toolchain()",
    "RR402": "toolchain repository declared but never registered",
    "RR403": "toolchain sysroot wired to a platform that contradicts its own",
    "RR404": "toolchain module added as bazel_dep but never wired up",
    "RR501": "the same bazel_dep twice",
    "RR502": "top-level name bound twice in MODULE.bazel / .bzl",
    "RR503": "two crate hubs of one name",
    "RR504": "package() called twice",
    "RR505": "load() after other statements in a .bzl file",
    "RR601": "oci_image exposed_ports differ from the port the program binds",
    "RR602": "glob() that matches nothing",
    "RR700": "buildifier not on PATH (second opinion skipped)",
    "RR701": "buildifier could not parse the file",
    "RR800": "no API model for the pinned module version (its API is not checked)",
    "RR801": "load()/use_extension() of a .bzl file the pinned module version does not have",
    "RR802": "loaded symbol the pinned module version's .bzl file does not export",
    "RR803": "module extension or tag class the pinned module version does not have",
    "RR804": "extension tag attribute unknown, missing or of the wrong type in the pinned version",
    "RR805": "rule or macro attribute unknown or missing in the pinned version",
    "RR806": "label to a package, target or toolchain type the pinned module version does not have",
    "RR807": "label to an output that the pinned version's rule or macro does not declare",
    "RR808": "load()/use_extension() of a .bzl file the pinned module version deprecates",
    "RR809": "musl platform that resolves to a gnu Rust toolchain under the pinned rules_rust",
}

Check = Callable[[Ctx], Iterator[Finding]]
CHECKS: tuple[Check, ...] = (
    check_labels,
    check_bazelrc_platforms,
    check_selects,
    check_constraints,
    check_platform_triples,
    check_crates,
    check_cargo_manifests,
    check_registered_packages,
    check_llvm,
    check_wired_modules,
    check_bazel_deps,
    check_rebinding,
    check_package_calls,
    check_load_order,
    check_ports,
    check_globs,
    check_api_usage,
    check_rust_resolution,
)


def _collect(check: Check, ctx: Ctx) -> Callable[[], list[Finding]]:
    def run() -> list[Finding]:
        return list(check(ctx))

    return run


def run_checks(model: Model) -> list[Finding]:
    """Every check over ``model`` plus the evaluator's own findings, deduplicated."""
    ctx = Ctx(model)
    out: list[Finding] = list(model.findings)
    anchor = "MODULE.bazel" if "MODULE.bazel" in model.files else next(iter(sorted(model.files)), ".")
    for check in CHECKS:
        # A check that fails on an input nobody foresaw costs its own findings, not the run.
        found = guard.isolated(anchor, f"running {check.__name__} on", _collect(check, ctx), out.append)
        out.extend(found or [])
    seen: set[tuple[str, int, str, str]] = set()
    unique = []
    for f in out:
        key = (f.file, f.line, f.code, f.message)
        if key not in seen:
            seen.add(key)
            unique.append(f)
    return unique
