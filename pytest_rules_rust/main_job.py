"""The main job: every workspace × platform × libc built in containers, inspected, run, reported.

``run_main_job(job)`` uses the same plain functions the plugin's fixtures wrap: ``materialise`` →
``builders.build`` (preflight first) → ``inspect_binary`` (machine, what the Cargo profile and libc
promise, glibc floor and hardening for the report) → ``run_binary`` (qemu for arm64) →
for workspaces with an ``[oci]`` table, the rules_oci-style image index served by Docker on both
platforms → ``MatrixReport``. What a workspace's binaries should print comes from its manifest::

    [cargo.smoke]            # optional: run one binary and check its output
    binary = "hello"
    args = []
    expect = "hello from {cpu}"   # {cpu} is x86_64 or aarch64
    [oci]                    # optional: assemble the scratch image index from the musl binaries
    binary = "service"
    entrypoint = ["/service"]
    port = 3232
    expect = "{cpu}"         # text the HTTP answer to GET / must contain
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from . import builders, report
from .builders.base import BuildRequest, BuildResult
from .cache import Cache
from .containers.load import loaded, run_published, wait_http
from .containers.oci_write import assemble_service_image
from .errors import RulesRustError
from .execution import run_binary
from .inspect.elf import BinaryInfo, inspect_binary
from .platforms import ALL_PLATFORMS, Libc, Platform
from .profile_promises import Promises, promises
from .progress import Progress
from .report import MatrixEntry, MatrixReport
from .settings import Settings
from .workspaces import (
    Source,
    Workspace,
    is_workspace,
    list_templates,
    manifest_table,
    materialise,
    resolve_source,
)


@dataclass(frozen=True)
class MainJob:
    """What the main job covers; builder, parameters, template directories and cache come from
    ``settings`` (the same :class:`Settings` the plugin and the other commands use)."""

    out_dir: Path
    templates: tuple[str, ...] = ()  # template names or workspace directories; empty: every template
    platforms: tuple[Platform, ...] = ALL_PLATFORMS
    profile: str = "debug"
    settings: Settings = field(default_factory=Settings)

    @property
    def builder(self) -> str:
        return self.settings.builders[0]


def _check_binary(info: BinaryInfo, platform: Platform, promised: Promises) -> list[str]:
    problems = []
    if info.machine != platform.cpu:
        problems.append(f"machine is {info.machine}, expected {platform.cpu}")
    if promised.no_interpreter and info.libc not in ("musl", "none"):
        problems.append(f"libc is {info.libc}, expected musl")
    return problems + promised.problems(info)


def _smoke(result: BuildResult, ws: Workspace, platform: Platform) -> tuple[bool, str]:
    """Run the manifest's smoke binary (through qemu for arm64); (ran, problem)."""
    smoke = manifest_table(ws.root, "cargo", "smoke")
    if not smoke:
        return False, ""
    binary = result.artifact(target=str(smoke["binary"]), kind="binary")
    run = run_binary(binary.path, [str(a) for a in smoke.get("args", [])], timeout_s=120)
    expect = str(smoke.get("expect", "")).format(cpu=platform.cpu)
    if run.rc != 0:
        return False, f"{binary.target} exited {run.rc}: {run.stderr.strip()[-300:]}"
    if expect and expect not in run.stdout:
        return False, f"{binary.target} printed {run.stdout.strip()[:200]!r}, expected {expect!r}"
    return True, ""


def build_cell(
    ws: Workspace, platform: Platform, libc: Libc, job: MainJob, cache: Cache
) -> tuple[MatrixEntry, BuildResult | None]:
    """Build, inspect and smoke-run one cell; a failure becomes a ``failed`` entry, not an exception."""
    started = time.monotonic()
    out = job.out_dir / "builds" / f"{ws.name}-{platform.slug}-{libc}"
    request = BuildRequest(ws, platform, libc, profile=job.profile)  # type: ignore[arg-type]
    options = builders.options_from_settings(job.settings, job.builder)
    try:
        result = builders.build(request, out, builder=job.builder, cache=cache, **options)
    except RulesRustError as exc:
        failed = report.entry_from_error(request, job.builder, exc, skipped=False)
        return replace(failed, duration_s=time.monotonic() - started), None
    binaries = [a for a in result.artifacts if a.kind == "binary"]
    infos = {a.target: inspect_binary(a.path) for a in binaries}
    promised = promises(ws.root, job.profile, libc)
    problems = [f"{t}: {p}" for t, info in infos.items() for p in _check_binary(info, platform, promised)]
    try:
        ran, problem = _smoke(result, ws, platform)
    except RulesRustError as exc:
        ran, problem = False, exc.message.splitlines()[0]
    if problem:
        problems.append(problem)
    entry = replace(
        report.entry_from_result(result, infos),
        status="failed" if problems else ("ran" if ran else "built"),
        reason="; ".join(problems),
    )
    return entry, result


def serve_image(ws: Workspace, results: dict[Platform, BuildResult], job: MainJob) -> list[MatrixEntry]:
    """Assemble the scratch image index from the musl binaries and check each platform answers HTTP."""
    oci = manifest_table(ws.root, "oci")
    binaries = {p: r.artifact(target=str(oci["binary"]), kind="binary").path for p, r in results.items()}
    port = int(oci.get("port", 3232))
    index = assemble_service_image(
        binaries,
        job.out_dir / "images" / ws.name / "image_index",
        [str(e) for e in oci.get("entrypoint", ["/service"])],
        [port],
    )
    entries = []
    for platform in results:
        started = time.monotonic()
        kw: dict[str, Any] = {}
        try:
            with (
                loaded(
                    index.path, platform, f"pytest-rules-rust/{ws.name}:{index.short_tag}-{platform.arch}"
                ) as image,
                run_published(image, port) as container,
            ):
                answer = wait_http(container.url + "/", timeout_s=120)
            expect = str(oci.get("expect", "")).format(cpu=platform.cpu)
            ok = answer.status == 200 and expect.encode() in answer.body
            kw = {
                "status": "ran" if ok else "failed",
                "reason": "" if ok else f"GET / answered {answer.status} {answer.body[:100]!r}",
            }
        except RulesRustError as exc:
            kw = {"status": "failed", "reason": exc.message.splitlines()[0]}
        entries.append(
            report.entry_from_image(
                results[platform], index.short_tag, duration_s=time.monotonic() - started, **kw
            )
        )
    return entries


def cells(libcs: Sequence[str], platforms: Sequence[Platform]) -> list[tuple[Platform, Libc]]:
    return [(p, "musl" if libc == "musl" else "gnu") for libc in libcs for p in platforms]


def run_main_job(job: MainJob, progress: Progress = print) -> MatrixReport:
    """Build the job's workspaces for its platforms; every outcome, good or bad, lands in the report."""
    settings = job.settings
    cache = Cache(settings.cache_dir)
    matrix = MatrixReport()
    dirs = settings.template_dirs
    sources = [resolve_source(name, dirs) for name in job.templates]
    for source in sources or [Source(t.root, t) for t in list_templates(dirs)]:
        if source.notice:
            progress(f"[matrix] note: {source.notice}")
        dest = job.out_dir / "workspaces" / source.name
        if dest.is_dir() and is_workspace(dest):  # this job's copy from an earlier run: made again
            shutil.rmtree(dest)
        ws = materialise(source, dest, session_params=settings.params)
        musl_results: dict[Platform, BuildResult] = {}
        for platform, libc in cells(source.cargo_libcs, job.platforms):
            progress(f"[matrix] {ws.name}: building for {platform} ({libc}) with {job.builder}")
            entry, result = build_cell(ws, platform, libc, job, cache)
            progress(f"[matrix] {ws.name} {platform} {libc}: {entry.status} {entry.reason}".rstrip())
            matrix.add(entry)
            if result is not None and libc == "musl" and entry.status != "failed":
                musl_results[platform] = result
        if manifest_table(ws.root, "oci") and musl_results:
            progress(f"[matrix] {ws.name}: serving the image index on {', '.join(map(str, musl_results))}")
            for entry in serve_image(ws, musl_results, job):
                progress(
                    f"[matrix] {entry.workspace} {entry.platform}: {entry.status} {entry.reason}".rstrip()
                )
                matrix.add(entry)
    matrix.write(job.out_dir / "report")
    return matrix
