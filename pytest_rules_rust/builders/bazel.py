"""The Bazel builder: Bazelisk (or the user's own ``bazel``) in a container, outputs from the BEP stream.

Which Bazel runs and which version Bazelisk fetches is decided in :mod:`.bazel_tool`. The image
is our own (the local builder image plus Bazelisk, :mod:`pytest_rules_rust.containers.bazel_image`) unless
``--rr-image-source public`` or ``--rr-bazel-image`` say otherwise; nothing is pulled. Phases:

* **download** (network; Bazelisk only): ``bazelisk --version`` fetches the chosen Bazel into the
  shared Bazelisk directory, once per version and architecture per machine under a file lock. A
  failure is a skip reason that says what Bazelisk said ("Bazelisk could not download Bazel
  7.4.1: ... no such host").
* **fetch** (network): repository rules and module extensions download toolchains and crates
  into the shared repository cache and the workspace's output base.
* **build** (``--nofetch``, no network unless ``online``).

Caches under ``<cache>/bazel``:

    bazelisk/           BAZELISK_HOME: the Bazel binaries Bazelisk downloaded, shared by every build
    repository/         --repository_cache, content-addressed and shared by every build
    disk/               --disk_cache, content-addressed and shared
    output_bases/<key>/ --output_base per workspace + parameters, one build at a time (file lock)
    home/               $HOME (Bazel's install base)

Bazel under qemu-user is known to break (bazelbuild/bazel#11379, #22490), so arm64 targets are
cross-compiled from an amd64 host by default; an emulated arm64 host is opt-in.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import NamedTuple, Unpack

from ..cache import Cache
from ..containers import Mount, RunSpec, run
from ..containers.bazel_image import BAZELISK_PATH, bazel_image, ensure_bazel_image
from ..containers.images import builder_image_ref
from ..errors import BazelUnavailable, BuildError, ImageError, WorkspaceError
from ..platforms import Platform
from ..workspaces import manifest_table
from .base import Artifact, ArtifactKind, BuildRequest, BuildResult
from .bazel_download import bazelisk_download
from .bazel_paths import CONTAINER_CACHE, CONTAINER_OUT, BazelPaths
from .bazel_tool import CONTAINER_BINARY, BazelVersion, check_binary, resolve_version
from .bep import BepSummary, read_bep
from .container_builder import BuilderOptions, ContainerBuilder

NO_TOOL_REASON = "has neither bazelisk nor bazel on its PATH"


class BazelExit(NamedTuple):
    """What a Bazel exit code means, and what to do about it."""

    name: str
    meaning: str
    hint: str = "read the build log"


# https://bazel.build/run/scripts#exit-codes
EXIT_CODES: dict[int, BazelExit] = {
    0: BazelExit("SUCCESS", "the build succeeded"),
    1: BazelExit(
        "BUILD_FAILURE",
        "the build failed: a target did not compile, link or analyse",
        "read the log for the first ERROR line; run preflight on the workspace",
    ),
    2: BazelExit(
        "COMMAND_LINE_ERROR",
        "Bazel rejected the command line, a flag or an environment variable",
        "check --rr-bazel-arg values and the workspace's .bazelrc",
    ),
    3: BazelExit("TESTS_FAILED", "the build succeeded but tests failed or timed out"),
    4: BazelExit("NO_TESTS_FOUND", "the build succeeded but no tests were found"),
    8: BazelExit("INTERRUPTED", "the build was interrupted"),
    9: BazelExit(
        "LOCK_HELD_NOBLOCK_FOR_LOCK",
        "another Bazel command holds the output base lock",
        "another build uses this output base; wait or remove the stale lock",
    ),
    32: BazelExit(
        "REMOTE_ENVIRONMENTAL_ERROR",
        "an external environment failure not on this machine (remote cache/executor)",
        "check the remote cache/executor flags passed with --rr-bazel-arg",
    ),
    33: BazelExit(
        "OOM_ERROR",
        "Bazel ran out of memory",
        "give the container more memory or pass --rr-bazel-arg=--host_jvm_args=-Xmx4g",
    ),
    36: BazelExit(
        "LOCAL_ENVIRONMENTAL_ERROR",
        "a local environment problem, suspected permanent (disk, permissions)",
        "check free disk space and permissions of the cache directory",
    ),
    37: BazelExit(
        "BLAZE_INTERNAL_ERROR",
        "Bazel crashed with an internal error",
        "retry; if it persists, report it to Bazel with the log",
    ),
    38: BazelExit(
        "TRANSIENT_BUILD_EVENT_SERVICE_UPLOAD_ERROR", "publishing to the Build Event Service failed"
    ),
    39: BazelExit(
        "REMOTE_CACHE_EVICTED",
        "blobs Bazel needs were evicted from the remote cache",
        "retry, or pass --rr-bazel-arg=--experimental_remote_cache_eviction_retries=3",
    ),
    45: BazelExit(
        "PERSISTENT_BUILD_EVENT_SERVICE_UPLOAD_ERROR", "publishing to the Build Event Service failed"
    ),
}


def explain_exit(rc: int) -> BazelExit:
    """Bazel's name, a one-line meaning and a hint for an exit code."""
    return EXIT_CODES.get(rc) or BazelExit(f"EXIT_{rc}", f"Bazel exited with code {rc}")


def manifest_bazel(workspace_root: Path) -> dict[str, object]:
    """The ``[bazel]`` table of a workspace's ``rules_rust_template.toml`` (empty when absent)."""
    return manifest_table(workspace_root, "bazel")


def platform_label(request: BuildRequest, bazel: Mapping[str, object]) -> str | None:
    """The ``--platforms`` label for the request, from ``[bazel.platforms]``; None means the host."""
    table = bazel.get("platforms", {})
    platforms: Mapping[str, object] = table if isinstance(table, dict) else {}
    for key in (f"{request.target.docker}/{request.libc}", request.target.docker):
        label = platforms.get(key)
        if isinstance(label, str):
            return label
    if request.target == request.host and request.libc == "gnu":
        return None
    raise WorkspaceError(
        f"workspace {request.workspace.name} declares no Bazel platform for "
        f"{request.target} ({request.libc})",
        hint=f'add `"{request.target.docker}/{request.libc}" = "//build/platforms:..."` under '
        "[bazel.platforms] in its rules_rust_template.toml",
    )


def targets_for(request: BuildRequest, bazel: Mapping[str, object]) -> tuple[str, ...]:
    if request.targets:
        return request.targets
    listed = bazel.get("targets", [])
    if isinstance(listed, list) and listed:
        return tuple(str(t) for t in listed)
    return ("//...",)


def startup_flags(paths: BazelPaths) -> list[str]:
    return [f"--output_base={paths.container(paths.output_base)}"]


def fetch_command(tool: str, paths: BazelPaths, targets: Sequence[str]) -> list[str]:
    return [
        tool,
        *startup_flags(paths),
        "fetch",
        f"--repository_cache={paths.container(paths.repository_cache)}",
        "--color=no",
        "--curses=no",
        *targets,
    ]


def build_command(
    tool: str,
    request: BuildRequest,
    paths: BazelPaths,
    platform: str | None,
    targets: Sequence[str],
    *,
    fetch: bool = False,
) -> list[str]:
    """The ``bazel build`` command line; ``request.extra_args`` pass through (remote cache/executor)."""
    cmd = [tool, *startup_flags(paths), "build"]
    cmd += ["--compilation_mode=opt" if request.profile == "release" else "--compilation_mode=fastbuild"]
    if platform:
        cmd.append(f"--platforms={platform}")
    cmd += [
        f"--build_event_json_file={paths.container(paths.out_dir / 'bep.json')}",
        f"--repository_cache={paths.container(paths.repository_cache)}",
        f"--disk_cache={paths.container(paths.disk_cache)}",
        "--experimental_convenience_symlinks=ignore",
        "--color=no",
        "--curses=no",
        "--show_result=0",
    ]
    if not fetch:
        cmd.append("--nofetch")
    cmd += list(request.extra_args)
    cmd += ["--", *targets]
    return cmd


def failure(rc: int, log: Path, summary: BepSummary | None, tail: str) -> BuildError:
    bazel_exit = explain_exit(rc)
    lines = [f"bazel build failed with exit code {rc} ({bazel_exit.name}): {bazel_exit.meaning}"]
    if summary is not None:
        for target in summary.failed_targets:
            lines.append(f"  {target.label}: {target.failure or 'failed'}")
    if tail:
        lines += ["last lines of the log:", tail]
    return BuildError("\n".join(lines), hint=bazel_exit.hint, paths={"log": log})


def _kind(path: Path) -> ArtifactKind:
    if path.is_dir():
        return "oci-layout" if (path / "index.json").exists() else "file"
    with path.open("rb") as fh:
        return "binary" if fh.read(4) == b"\x7fELF" else "file"


def collect_artifacts(
    summary: BepSummary,
    targets: Sequence[str],
    path_map: Mapping[str, Path],
    out_dir: Path,
    platform: Platform | None = None,
) -> tuple[Artifact, ...]:
    """Copy each requested target's ``default`` outputs from the BEP stream into ``out_dir``."""
    artifacts: list[Artifact] = []
    for label in targets:
        if label.endswith(("/...", ":all", ":*")):
            chosen = [t for t in summary.targets.values() if t.success]
        else:
            chosen = [summary.target(label)]
        for target in chosen:
            for bep_file in target.files:
                source = bep_file.local_path(path_map)
                if not source.exists():
                    raise BuildError(
                        f"{target.label}: output {bep_file.relative_path} is not at {source}",
                        hint="the output base was removed or the path mapping is wrong; rebuild",
                    )
                dest = out_dir / bep_file.relative_path.split("/bin/", 1)[-1]
                dest.parent.mkdir(parents=True, exist_ok=True)
                if source.is_dir():
                    shutil.copytree(source, dest, dirs_exist_ok=True)
                else:
                    shutil.copy2(source, dest)
                artifacts.append(Artifact(dest.resolve(), _kind(dest), target.label, platform))
    return tuple(artifacts)


# --- the builder ----------------------------------------------------------------------------------


class BazelBuilder(ContainerBuilder):
    """Runs Bazelisk or the user's Bazel inside the Bazel image; see the module docstring for the phases."""

    name = "bazel"

    def __init__(
        self,
        cache: Cache | None = None,
        *,
        online: bool = False,
        bazel_binary: Path | None = None,
        default_version: str | None = None,
        **options: Unpack[BuilderOptions],
    ) -> None:
        super().__init__(cache, **options)
        self.online = online
        self.bazel_binary = bazel_binary
        self.default_version = default_version

    def image_for(self, platform: Platform) -> str:
        """The shared choice; a missing forced or public image makes Bazel unavailable (a skip)."""
        try:
            return super().image_for(platform)
        except ImageError as exc:
            if self.local_image:  # our image failed to build: a failure, not a skip
                raise
            ref = self.image or builder_image_ref(platform, "public", self.name)
            raise BazelUnavailable(  # offline mode never pulls
                f"the Bazel image {ref} for {platform} is not present (offline mode never pulls)",
                hint=f"{exc.hint}; or drop --rr-bazel-image/--rr-image-source public to use the local image",
            ) from exc

    def local_image_for(self, platform: Platform) -> str:
        return ensure_bazel_image(bazel_image(platform), self.cache, progress=self.progress)

    def find_tool(self, image: str, host: Platform, log: Path) -> str:
        """``bazelisk`` or ``bazel`` inside the image; BazelUnavailable (a skip reason) when neither."""
        if image == bazel_image(host).tag:
            return BAZELISK_PATH
        probe = run(
            RunSpec(image, ("sh", "-c", "command -v bazelisk || command -v bazel"), host, timeout_s=120), log
        )
        tool = probe.tail(1).strip() if probe.succeeded else ""
        if not tool:
            raise BazelUnavailable(
                f"the Bazel image {image} {NO_TOOL_REASON}",
                hint="use the local image (--rr-image-source local), an image with Bazelisk, "
                "or your own Bazel (--rr-bazel-binary PATH)",
            )
        return tool

    def _version(
        self, request: BuildRequest, image: str, tool: str, paths: BazelPaths, log: Path
    ) -> BazelVersion:
        """The workspace's Bazel version; Bazelisk downloads it first (the download step, network on)."""
        version = resolve_version(request.workspace.root, request.workspace.params, self.default_version)
        if Path(tool).name != "bazelisk":
            return version
        exact = bazelisk_download(
            self.cache, image, request.host, tool, version, paths, log, request.timeout_s
        )
        return BazelVersion(exact, version.source)

    def build(self, request: BuildRequest, out_dir: Path) -> BuildResult:
        out_dir.mkdir(parents=True, exist_ok=True)
        log = out_dir / "bazel.log"
        started = time.monotonic()
        bazel = manifest_bazel(request.workspace.root)
        platform = platform_label(request, bazel)
        targets = targets_for(request, bazel)
        paths = BazelPaths.for_request(self.cache, request, out_dir.resolve())
        binary = check_binary(self.bazel_binary, request.host) if self.bazel_binary else None
        for directory in (
            paths.output_base,
            paths.repository_cache,
            paths.disk_cache,
            paths.home,
            paths.bazelisk_home,
        ):
            directory.mkdir(parents=True, exist_ok=True)
        image = self.image_for(request.host)
        mounts = [
            Mount(request.workspace.root.resolve(), "/work"),
            Mount(paths.repository_cache.parent, CONTAINER_CACHE),
            Mount(paths.out_dir, CONTAINER_OUT),
        ]
        env = {"HOME": paths.container(paths.home), "BAZELISK_HOME": paths.container(paths.bazelisk_home)}
        if binary is not None:
            tool, chosen = CONTAINER_BINARY, f"{binary.path} (--rr-bazel-binary, mounted read-only)"
            mounts.append(Mount(binary.path, CONTAINER_BINARY, read_only=True))
        else:
            tool = self.find_tool(image, request.host, out_dir / "probe.log")
            version = self._version(request, image, tool, paths, out_dir / "download.log")
            env["USE_BAZEL_VERSION"] = version.version
            chosen = f"{tool} running Bazel {version.version} (from {version.source})"
        with self.cache.lock(f"bazel-output-base-{paths.output_base.name}"):
            fetched = run(
                RunSpec(
                    image,
                    tuple(fetch_command(tool, paths, targets)),
                    request.host,
                    tuple(mounts),
                    env=env,
                    network=True,
                    timeout_s=request.timeout_s,
                ),
                out_dir / "fetch.log",
            )
            if fetched.failed:
                raise failure(fetched.rc, fetched.log, None, fetched.tail())
            command = build_command(tool, request, paths, platform, targets, fetch=self.online)
            result = run(
                RunSpec(
                    image,
                    tuple(command),
                    request.host,
                    tuple(mounts),
                    env=env,
                    network=self.online,
                    timeout_s=request.timeout_s,
                ),
                log,
            )
        if result.timed_out:
            raise BuildError(
                f"bazel build overran its timeout of {request.timeout_s:.0f} s and was killed",
                hint="raise --rr-build-timeout",
                paths={"log": log},
            )
        summary = read_bep(out_dir / "bep.json") if (out_dir / "bep.json").exists() else None
        if result.rc != 0:
            raise failure(result.rc, log, summary, result.tail())
        if summary is None:
            raise BuildError("bazel reported success but wrote no build event file", paths={"log": log})
        artifacts = collect_artifacts(
            summary, targets, paths.path_map(), out_dir / "artifacts", request.target
        )
        return BuildResult(
            request,
            self.name,
            artifacts,
            log,
            time.monotonic() - started,
            extra={"bazel_version": summary.tool_version, "bazel": chosen, "command": command},
        )
