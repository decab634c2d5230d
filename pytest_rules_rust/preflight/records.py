"""Recorded builtin calls of an evaluation → the frozen :class:`~.model.Model` the checks read."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from . import model as m
from .bazelrc import NO_SETTINGS, BazelSettings

if TYPE_CHECKING:
    from .evaluate import Session


def build_model(
    s: Session,
    root: str,
    settings: BazelSettings = NO_SETTINGS,
    all_files: frozenset[str] = frozenset(),
    blocks: tuple[tuple[int, int], ...] = (),
) -> m.Model:
    """Turn the session's records into a frozen model."""
    deps, exts, tags, repos, regs, ovs, decls = [], [], [], [], [], [], []
    targets, selects, globs, pkg_calls = [], [], [], []
    module_name = module_repo = ""
    ws_macros = False
    for idx, r in enumerate(s.records):
        p, loc = r.payload, r.loc
        if r.kind == "module":
            module_name, module_repo = str(p.get("name") or ""), str(p.get("repo_name") or "")
        elif r.kind == "bazel_dep":
            deps.append(
                m.BazelDep(
                    loc,
                    str(p["name"]),
                    str(p.get("version") or ""),
                    str(p.get("repo_name") or ""),
                    bool(p.get("dev")),
                )
            )
        elif r.kind == "use_extension":
            line = s.sources.get(loc.file, "").split("\n")[loc.line - 1] if loc.line else ""
            var = re.match(r"\s*(\w+)\s*=", line)
            exts.append(
                m.Extension(
                    idx, loc, str(p["bzl"]), str(p["name"]), var.group(1) if var else "", bool(p.get("dev"))
                )
            )
        elif r.kind == "tag":
            tags.append(m.Tag(loc, int(p["ext"]), str(p["tag"]), dict(p.get("attrs") or {})))
        elif r.kind == "use_repo":
            repos.append(m.UseRepo(loc, int(p["ext"]), tuple(str(x) for x in p["repos"])))
        elif r.kind == "register":
            regs.append(m.Registration(loc, str(p["kind"]), str(p["label"])))
        elif r.kind == "override":
            ovs.append(m.Override(loc, str(p["kind"]), str(p["module_name"]), dict(p.get("attrs") or {})))
        elif r.kind == "repo":
            decls.append(m.RepoDecl(loc, str(p["name"]), str(p["kind"])))
        elif r.kind == "target" and r.package == "//external":
            decls.append(m.RepoDecl(loc, str(p["name"]), str(p.get("kind"))))
        elif r.kind == "call" and r.package == "//external":
            ws_macros = True
        elif r.kind == "target":
            kind = str(p.get("kind") or "")
            string_attrs: frozenset[str] = frozenset()
            if "rule" in p:
                kind = s.rule_names.get(int(p["rule"]), kind or "rule")
                string_attrs = s.rule_string_attrs.get(int(p["rule"]), frozenset())
            targets.append(
                m.Target(
                    loc,
                    r.package,
                    str(p["name"]),
                    kind,
                    str(p["origin"]),
                    dict(p.get("attrs") or {}),
                    string_attrs,
                )
            )
        elif r.kind == "select":
            selects.append(m.Select(loc, r.package, tuple(str(k) for k in p["keys"])))
        elif r.kind == "glob":
            globs.append(
                m.Glob(
                    loc,
                    r.package,
                    tuple(_strs(p["include"])),
                    tuple(_strs(p["exclude"])),
                    int(p["matches"]),
                    p.get("allow_empty"),
                )
            )
        elif r.kind == "package":
            pkg_calls.append(loc)
    packages = tuple(
        m.Package(pkg, build, pkg not in s.incomplete) for pkg, build in sorted(s.packages.items())
    )
    return m.Model(
        root=root,
        module_name=module_name or s.module_name,
        module_repo_name=module_repo,
        bazel_deps=tuple(deps),
        extensions=tuple(exts),
        tags=tuple(tags),
        use_repos=tuple(repos),
        registrations=tuple(regs),
        overrides=tuple(ovs),
        repo_decls=tuple(decls),
        packages=packages,
        targets=tuple(targets),
        selects=tuple(selects),
        globs=tuple(globs),
        loads=tuple(s.loads),
        rebindings=tuple(s.rebindings),
        package_calls=tuple(pkg_calls),
        workspace_file_has_macros=ws_macros,
        bazelrc_platforms=settings.platforms,
        bazelrc_enable_workspace=settings.enable_workspace,
        bazel_version=settings.version,
        all_files=all_files,
        blocks=blocks,
        files=dict(s.sources),
        fragment=s.fragment,
        findings=tuple(s.findings),
    )


def _strs(value: Any) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else []
