"""RR8xx: every use of a modelled module checked against the API of the version the workspace pins.

Load paths and loaded symbols (RR801, RR802), module extensions, their tag classes and tag
attributes (RR803, RR804), rule and macro attributes (RR805), labels into the module's packages
and toolchain types (RR806), and labels to outputs that a rule or macro from the module does not
declare (RR807), deprecated .bzl files (RR808). RR800 is the note that a pinned version has no
model. Messages name the version whose model was used and, where one exists, the nearest real name
or the versions that had it.
"""

from __future__ import annotations

from collections.abc import Iterator

from ...model import Finding
from ..base import Ctx
from .context import ApiCtx
from .extensions import check_extensions
from .labels import check_labels
from .loads import check_loads
from .outputs import check_outputs
from .targets import check_targets

__all__ = ["check_api_usage"]


def check_api_usage(ctx: Ctx) -> Iterator[Finding]:
    """RR800-RR808 (see the module docstring)."""
    api = ApiCtx(ctx)
    if not api.pins:
        return
    yield from check_loads(api)
    yield from check_extensions(api)
    yield from check_targets(api)
    yield from check_labels(api)
    yield from check_outputs(api)
    yield from api.notes()
