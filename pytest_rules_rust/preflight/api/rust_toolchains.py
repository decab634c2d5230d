"""Which Rust toolchain Bazel's toolchain resolution picks for a platform, under a rules_rust model.

The Rust toolchains of ``@rust_toolchains//:all`` are rebuilt from the workspace's ``rust``
extension tags the way rules_rust registers them:

* ``rust.toolchain``: one set per exec triple of ``DEFAULT_TOOLCHAIN_TRIPLES`` (read from the
  model of ``rust:repositories.bzl``), holding ``[exec_triple] + extra_target_triples`` in that
  order (rust/repositories.bzl ``_get_toolchain_repositories``); a triple's target constraints are
  its CPU and OS only (``triple_to_constraint_set``: ``abi_to_constraints`` gives a linux gnu or
  musl ABI none), unless ``extra_target_triples`` is a dict, which only a ``string_list_dict``
  attribute of the model allows;
* ``rust.repository_set`` (where the model has it): a set per ``name`` that replaces the default set
  of that name, with the ``target_compatible_with`` each call gives.

Resolution takes the first toolchain whose target constraints the platform has and whose exec
constraints the host has, as Bazel does for toolchains registered in one ``:all``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ..model import Model, Target
from .schema import ApiModel, Extension

ALIASES = {"@platforms//cpu:arm64": "@platforms//cpu:aarch64"}
HOSTS = ("x86_64", "aarch64")


@dataclass(frozen=True)
class RustToolchain:
    """One registered Rust toolchain: its set, triples and constraints (normalised labels)."""

    set_name: str
    exec_triple: str
    target_triple: str
    target_compatible_with: frozenset[str]
    exec_compatible_with: frozenset[str]
    source: str  # "rust.toolchain" or "rust.repository_set"


def normalise(label: str) -> str:
    """``@//x:y`` → ``//x:y``, ``@@platforms//…`` → ``@platforms//…``, aliases → their actual value."""
    if label.startswith("@@"):
        label = label[1:]
    if label.startswith("@//"):
        label = label[1:]
    return ALIASES.get(label, label)


def triple_constraints(triple: str) -> frozenset[str]:
    """CPU and OS constraints of a linux triple (what rules_rust gives gnu and musl triples alike)."""
    cpu, _, rest = triple.partition("-")
    osn = "linux" if "-linux-" in f"-{rest}-" else rest.split("-")[1] if "-" in rest else rest
    return frozenset({f"@platforms//cpu:{cpu}", f"@platforms//os:{osn}"})


def _strings(value: object) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else []


def registered(model: Model, api: ApiModel) -> list[RustToolchain]:
    """The Rust toolchains ``@rust_toolchains//:all`` holds, in registration order."""
    _kind, ext = api.export("rust:extensions.bzl", "rust")
    if not isinstance(ext, Extension):
        return []
    defaults = api.values.get("rust:repositories.bzl", {}).get("DEFAULT_TOOLCHAIN_TRIPLES", {})
    tags = model.tags_of("rust:extensions.bzl", "rust")
    sets: dict[str, list[RustToolchain]] = {}
    if "repository_set" in ext.tags:
        exec_of: dict[str, str] = {}
        for tag in (t for t in tags if t.tag == "repository_set"):
            name = str(tag.attrs.get("name", ""))
            exec_of.setdefault(name, str(tag.attrs.get("exec_triple", "")))
            triple = str(tag.attrs.get("target_triple", ""))
            constraints = frozenset(normalise(s) for s in _strings(tag.attrs.get("target_compatible_with")))
            sets.setdefault(name, []).append(
                RustToolchain(
                    name,
                    exec_of[name],
                    triple,
                    constraints or triple_constraints(triple),
                    triple_constraints(exec_of[name]),
                    "rust.repository_set",
                )
            )
    out: list[RustToolchain] = []
    for tag in [t for t in tags if t.tag == "toolchain"][:1]:
        extra = tag.attrs.get("extra_target_triples") or []
        for exec_triple, set_name in dict(defaults).items():
            if set_name in sets:
                continue  # replaced by a repository_set of that name
            triples = [exec_triple] + [
                t for t in (list(extra) if isinstance(extra, list | dict) else []) if t != exec_triple
            ]
            for triple in triples:
                given = _strings(extra.get(triple)) if isinstance(extra, dict) else []
                out.append(
                    RustToolchain(
                        set_name,
                        exec_triple,
                        triple,
                        frozenset(normalise(s) for s in given) or triple_constraints(triple),
                        triple_constraints(exec_triple),
                        "rust.toolchain",
                    )
                )
    for chain in sets.values():
        out.extend(chain)
    return out


def platform_constraints(model: Model, platform: Target) -> frozenset[str]:
    """A platform's constraint values plus the defaults of the workspace's settings it leaves unset."""
    values = {
        normalise(_absolute(s, platform.package)) for s in _strings(platform.attrs.get("constraint_values"))
    }
    return frozenset(values | _defaults(model, values))


def host_constraints(model: Model, cpu: str) -> frozenset[str]:
    """A linux host of ``cpu`` with the defaults of the workspace's constraint settings."""
    values = {f"@platforms//cpu:{cpu}", "@platforms//os:linux"}
    return frozenset(values | _defaults(model, values))


def _absolute(label: str, package: str) -> str:
    if label.startswith(":"):
        return f"//{package}{label}"
    return label


def _defaults(model: Model, values: Iterable[str]) -> set[str]:
    """Default values of the workspace's constraint_settings that ``values`` say nothing about."""
    setting_of: dict[str, str] = {}
    for t in model.targets:
        if t.kind == "constraint_value":
            setting = str(t.attrs.get("constraint_setting", ""))
            setting_of[f"//{t.package}:{t.name}"] = normalise(_absolute(setting, t.package))
    taken = {setting_of.get(v) for v in values}
    out = set()
    for t in model.targets:
        default = t.attrs.get("default_constraint_value")
        own = f"//{t.package}:{t.name}"
        if t.kind == "constraint_setting" and isinstance(default, str) and own not in taken:
            out.add(normalise(_absolute(default, t.package)))
    return out


def resolve(
    toolchains: list[RustToolchain], target: frozenset[str], host: frozenset[str]
) -> RustToolchain | None:
    """The first toolchain whose constraints the target platform and the host both have."""
    for tc in toolchains:
        if tc.target_compatible_with <= target and tc.exec_compatible_with <= host:
            return tc
    return None
