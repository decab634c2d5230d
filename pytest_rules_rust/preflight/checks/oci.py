"""RR601 ``oci_image.exposed_ports`` against the port the program's source binds."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from ..model import Finding, Target
from .base import Ctx
from .labels import _strings

_PORT_PATTERNS = (
    re.compile(r'"(?:0\.0\.0\.0|127\.0\.0\.1|localhost|\[::\]|\[::1\]|::)?:(\d{2,5})"'),
    re.compile(r"SocketAddr(?:V4|V6)?::(?:from|new)\(\s*\(?\s*(?:\[[^\]]*\]|[\w:.()]+)\s*,\s*(\d{2,5})\s*\)"),
    re.compile(r"\bPORT\s*:\s*u16\s*=\s*(\d{2,5})"),
)


def bound_ports(sources: list[Path]) -> set[str]:
    """Literal ports the Rust sources bind (empty when none can be seen)."""
    ports: set[str] = set()
    for path in sources:
        try:
            code = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        for rx in _PORT_PATTERNS:
            ports.update(rx.findall(code))
    return ports


def _follow(ctx: Ctx, t: Target, attr: str) -> list[Target]:
    out = []
    for s in _strings(t.attrs.get(attr)):
        lab = ctx.parse(s if s.startswith(("//", "@", ":")) else ":" + s, t.package)
        if lab and not lab.external and (lab.package, lab.name) in ctx.targets:
            out.append(ctx.targets[(lab.package, lab.name)])
    return out


def _rust_sources(ctx: Ctx, image: Target) -> list[Path]:
    root = Path(ctx.model.root)
    files: list[Path] = []
    for layer in _follow(ctx, image, "tars"):
        for binary in _follow(ctx, layer, "srcs") + _follow(ctx, layer, "deps"):
            if not binary.kind.startswith("rust_"):
                continue
            names = list(_strings(binary.attrs.get("srcs"))) + list(_strings(binary.attrs.get("crate_root")))
            files += [
                root / binary.package / n for n in names if n.endswith(".rs") and not n.startswith((":", "/"))
            ]
    return files


def check_ports(ctx: Ctx) -> Iterator[Finding]:
    if ctx.model.fragment:
        return
    for t in ctx.model.targets:
        if t.kind != "oci_image" or not t.attrs.get("exposed_ports"):
            continue
        if any("PORT" in s for s in _strings(t.attrs.get("env"))) or isinstance(t.attrs.get("env"), dict):
            continue
        ports = bound_ports(_rust_sources(ctx, t))
        exposed = [s.split("/")[0] for s in _strings(t.attrs["exposed_ports"])]
        if not ports or not exposed:
            continue
        bound = sorted(ports)
        for port in exposed:
            if port not in ports:
                yield Finding.at(
                    ctx.loc_of(t.loc, port if port in str(t.attrs) else t.name),
                    "RR601",
                    "error" if not (set(exposed) & ports) else "warning",
                    f"oci_image {t.name!r} exposes port {port} but the program binds {', '.join(bound)}",
                    f"set exposed_ports = [{', '.join(repr(p) for p in bound)}] or change the bind address",
                )
