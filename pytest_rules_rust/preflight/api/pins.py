"""Which version of each module a workspace pins, and the API model for it.

A ``bazel_dep`` pins a version; ``single_version_override(version = ...)`` replaces it; a
``local_path_override`` whose directory exists is read directly; archive and git overrides leave
the version unknown. Models are resolved lazily, only for the repositories the workspace uses.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

from ..model import Loc, Model
from ..text import a_or_an
from .schema import ApiModel
from .store import module_identity, resolve, shipped_modules, shipped_versions


@dataclass(frozen=True)
class Pin:
    """A module the workspace depends on under repository name ``repo``."""

    repo: str
    module: str
    version: str
    loc: Loc
    override: str = ""  # the override kind that changes where the module comes from
    local_path: str = ""


@dataclass(frozen=True)
class Pinned:
    """A pin and the model for it (None when there is none); ``origin`` says where it came from."""

    pin: Pin
    model: ApiModel | None
    origin: str

    @property
    def where(self) -> str:
        """``rules_rust 0.46.0`` — how messages name the version a check used."""
        if self.pin.override and self.model is not None:
            return f"{self.pin.module} {self.model.version} (from {self.pin.override})".strip()
        return f"{self.pin.module} {self.pin.version}".strip()


def pins(model: Model) -> dict[str, Pin]:
    """Repository name → pin, for every ``bazel_dep`` of the workspace."""
    overrides = {o.module_name: o for o in model.overrides}
    out: dict[str, Pin] = {}
    for dep in model.bazel_deps:
        version, kind, path = dep.version, "", ""
        ov = overrides.get(dep.name)
        if ov is not None:
            if ov.kind == "single_version_override" and ov.attrs.get("version"):
                version = str(ov.attrs["version"])
            elif ov.kind != "single_version_override":
                kind = ov.kind
                path = str(ov.attrs.get("path") or "") if ov.kind == "local_path_override" else ""
        out[dep.repo_name or dep.name] = Pin(
            dep.repo_name or dep.name, dep.name, version, dep.loc, kind, path
        )
    return out


@cache
def _local(path: str) -> ApiModel | None:
    """The model of a ``local_path_override``'s module, read from its tree."""
    from .extract import extract  # lazy: only local overrides run the extractor

    root = Path(path)
    if not (root / "MODULE.bazel").is_file():
        return None
    name, version = module_identity(root)
    return extract(root, module=name, version=version, origin=f"local_path_override {root}")


def modelled(module: str) -> bool:
    """True when the package ships models of ``module`` (for any version)."""
    return module in shipped_modules()


def resolve_pin(pin: Pin, workspace: str) -> Pinned:
    """The model for ``pin``: a local override's tree, a shipped model, or the user's fetched module."""
    if pin.override == "local_path_override" and pin.local_path:
        found = _local(str((Path(workspace) / pin.local_path).resolve()))
        return Pinned(pin, found, f"local_path_override {pin.local_path}" if found else "")
    if pin.override or not pin.version:
        return Pinned(pin, None, "")
    got = resolve(pin.module, pin.version, workspace)
    return Pinned(pin, got.model, got.origin)


def no_model_note(p: Pinned) -> str:
    """Why no model was used for ``p`` (the text of the note)."""
    pin = p.pin
    have = shipped_versions(pin.module)
    if pin.override == "local_path_override":
        return (
            f"{pin.module} comes from local_path_override(path = {pin.local_path!r}), which is not a "
            "module directory here: its API is not checked"
        )
    if pin.override:
        origin = a_or_an(pin.override)
        return f"{pin.module} comes from {origin}: its API is not checked (its version is unknown)"
    if not pin.version:
        return f"{pin.module} has no version: its API is not checked"
    return (
        f"no API model for {pin.module} {pin.version}: its load paths, rules and extension tags are "
        f"not checked (shipped models: {', '.join(have) or 'none'}; {a_or_an(pin.module)} {pin.version} that "
        "Bazel has fetched on this machine is read automatically)"
    )
