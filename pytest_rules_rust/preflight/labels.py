"""Bazel label parsing, just enough for resolution checks."""

from __future__ import annotations

import functools
from dataclasses import dataclass


@dataclass(frozen=True)
class Label:
    """A parsed label. ``repo`` is ``""`` for the main repository; ``canonical`` for ``@@`` labels."""

    repo: str
    package: str
    name: str
    external: bool
    canonical: bool = False
    wildcard: bool = False


def looks_like_label(value: object) -> bool:
    """True for strings that can only be labels (start with ``//``, ``@`` or ``:``)."""
    return isinstance(value, str) and value.startswith(("//", "@", ":")) and " " not in value


@functools.lru_cache(maxsize=1 << 16)  # a workspace names the same labels many times over
def parse_label(text: str, package: str) -> Label | None:
    """Parse ``text`` as seen from ``package`` of the main repository; None when it is not a label."""
    if not text or any(c in text for c in " \t\n$"):
        return None
    canonical = text.startswith("@@")
    repo = ""
    external = False
    rest = text
    if text.startswith("@"):
        body = text[2:] if canonical else text[1:]
        if "//" in body:
            repo, rest = body.split("//", 1)
            rest = "//" + rest
        else:
            repo, rest = body, ""
        external = repo != ""
        if not rest:
            return Label(repo, "", repo, external, canonical)
    if rest.startswith("//"):
        body = rest[2:]
        if ":" in body:
            pkg, name = body.split(":", 1)
        else:
            pkg = body
            name = body.rsplit("/", 1)[-1]
        wildcard = name in ("all", "*", "all-targets") or pkg.endswith("...")
        return Label(repo, pkg.strip("/"), name, external, canonical, wildcard)
    if rest.startswith(":"):
        return Label("", package, rest[1:], False)
    return Label("", package, rest, False)
