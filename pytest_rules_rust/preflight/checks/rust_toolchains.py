"""RR809: a musl platform whose Rust toolchain, under the pinned rules_rust's model, is a gnu one."""

from __future__ import annotations

from collections.abc import Iterator

from ..api.pins import pins, resolve_pin
from ..api.rust_toolchains import HOSTS, host_constraints, platform_constraints, registered, resolve
from ..api.schema import Extension
from ..model import Finding
from .base import Ctx


def check_rust_resolution(ctx: Ctx) -> Iterator[Finding]:
    """Musl platforms must resolve to a musl Rust toolchain on an x86_64 and an aarch64 host."""
    mo = ctx.model
    if mo.fragment or not any(r.label.startswith("@rust_toolchains//") for r in mo.registrations):
        return
    platforms = [
        t
        for t in mo.targets
        if t.kind == "platform" and ("musl" in t.name or any("musl" in s for s in _strings(t)))
    ]
    pin = next((p for p in pins(mo).values() if p.module == "rules_rust"), None)
    if not platforms or pin is None:
        return
    pinned = resolve_pin(pin, mo.root)
    if pinned.model is None:
        return  # RR800 says there is no model
    toolchains = registered(mo, pinned.model)
    if not toolchains:
        return
    _kind, ext = pinned.model.export("rust:extensions.bzl", "rust")
    has_sets = isinstance(ext, Extension) and "repository_set" in ext.tags
    for plat in platforms:
        wrong = []
        for cpu in HOSTS:
            got = resolve(toolchains, platform_constraints(mo, plat), host_constraints(mo, cpu))
            if got is not None and not got.target_triple.endswith("musl"):
                wrong.append(f"on an {cpu} host the {got.target_triple} toolchain of {got.set_name}")
        if not wrong:
            continue
        hint = (
            "tie the triples to a linker constraint with rust.repository_set(name = <the default set's "
            "name>, target_triple = ..., target_compatible_with = [...]), as rules_rust's musl example does"
            if has_sets
            else f"{pinned.where}'s rust.toolchain cannot add a constraint (extra_target_triples is a "
            "list): use a rules_rust with rust.repository_set (0.63.0 has it) and tie the triples to a "
            "linker constraint"
        )
        yield Finding.at(
            plat.loc,
            "RR809",
            ctx.severity(),
            f"platform {plat.name!r} is musl but resolves, under {pinned.where}, to a gnu Rust toolchain: "
            f"{'; '.join(wrong)} (registered first, and no constraint tells it from the musl one)",
            hint,
        )


def _strings(t: object) -> list[str]:
    values = getattr(t, "attrs", {}).get("constraint_values")
    return [str(v) for v in values] if isinstance(values, list) else []
