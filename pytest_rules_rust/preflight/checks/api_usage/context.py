"""The pins of a workspace, their models (resolved on first use) and what each file loaded."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property

from ...api.pins import Pinned, modelled, no_model_note, pins, resolve_pin
from ...api.schema import ApiModel, Extension, Macro, Rule
from ...api.store import shipped_modules, shipped_versions
from ...labels import parse_label
from ...model import Finding, Target
from ..base import Ctx


@dataclass(frozen=True)
class Use:
    """A symbol a file loaded from a modelled repository."""

    repo: str
    bzl: str  # "pkg:file.bzl"
    remote: str
    label: str


class ApiCtx:
    """The pins of a workspace and their models, resolved on first use."""

    def __init__(self, ctx: Ctx) -> None:
        self.ctx = ctx
        self.pins = pins(ctx.model)
        self.modules = set(shipped_modules())
        self._resolved: dict[str, Pinned] = {}
        self.noted: set[str] = set()

    def pinned(self, repo: str) -> Pinned | None:
        """The pinned model of repository ``repo`` (None when the workspace does not depend on it)."""
        pin = self.pins.get(repo)
        if pin is None:
            return None
        if repo not in self._resolved:
            self._resolved[repo] = resolve_pin(pin, self.ctx.model.root)
        return self._resolved[repo]

    def model_for(self, repo: str) -> tuple[Pinned, ApiModel] | None:
        """Pinned + model for ``repo`` when there is a model; records a note when there is none."""
        p = self.pinned(repo)
        if p is None:
            return None
        if p.model is None:
            # A module preflight models, used at a version it has no model of: say so. Modules it
            # never models (rules_pkg, ...) are listed by `doctor`, not noted in every report.
            if modelled(p.pin.module) or p.pin.override == "local_path_override":
                self.noted.add(repo)
            return None
        return p, p.model

    def bzl_file(self, label: str) -> tuple[Pinned, ApiModel, str] | None:
        """Pinned + model + the file's key (``pkg:file.bzl``) for a .bzl label into a modelled repository."""
        lab = parse_label(label, "")
        if lab is None or not lab.external or lab.canonical:
            return None
        got = self.model_for(lab.repo)
        return None if got is None else (*got, f"{lab.package}:{lab.name}")

    def notes(self) -> Iterator[Finding]:
        for repo in sorted(self.noted):
            p = self._resolved[repo]
            yield Finding.at(
                p.pin.loc,
                "RR800",
                "info",
                no_model_note(p),
                f"pin a version with a model ({', '.join(shipped_versions(p.pin.module)) or 'none'}), "
                f"or run `bazel fetch` once so preflight can read the fetched {p.pin.module}",
            )

    @cached_property
    def uses(self) -> dict[str, dict[str, Use]]:
        """File → local name → what it loaded from a modelled repository."""
        out: dict[str, dict[str, Use]] = {}
        for ld in self.ctx.model.loads:
            lab = parse_label(ld.module, "")
            if lab is None or not lab.external or lab.canonical or lab.repo not in self.pins:
                continue
            bzl = f"{lab.package}:{lab.name}"
            for local, remote in zip(ld.symbols, ld.remotes, strict=True):
                out.setdefault(ld.loc.file, {})[local] = Use(lab.repo, bzl, remote, ld.module)
        return out

    def definition_of(
        self, target: Target
    ) -> tuple[Use, Pinned, str, Rule | Macro | Extension | None] | None:
        """For a call of a symbol loaded from a modelled repository: the load, the pin, and the
        kind and definition the pinned version exports under that name (see ``ApiModel.export``)."""
        use = self.use_of(target)
        got = self.model_for(use.repo) if use else None
        if use is None or got is None:
            return None
        return use, got[0], *got[1].export(use.bzl, use.remote)

    def use_of(self, target: Target) -> Use | None:
        found = self.uses.get(target.loc.file, {}).get(target.kind)
        if found is not None:
            return found
        for file_uses in self.uses.values():  # called through a macro of the workspace's own .bzl
            if target.kind in file_uses:
                return file_uses[target.kind]
        return None


def clauses(*parts: str) -> str:
    """A message and its optional additions ("did you mean ...?", when it changed), the empty
    ones left out, joined with "; "."""
    return "; ".join(p for p in parts if p)


def unmodelled(model: ApiModel, package: str) -> bool:
    return any(package == d or package.startswith(d + "/") for d in model.unmodelled)
