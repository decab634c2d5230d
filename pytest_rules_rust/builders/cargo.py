"""The cargo builder: a workspace's Cargo side built offline inside the builder container.

* **Where it runs.** Cross-compiles in the amd64 image by default (aarch64-gnu through
  ``aarch64-linux-gnu-gcc``); natively in the arm64 image only when the request's host is arm64
  (the emulated host: qemu, about 13x slower).
* **musl.** Debian ships no musl std, so static musl binaries are built with
  ``RUSTC_BOOTSTRAP=1 -Zbuild-std=std,panic_abort`` from rust-web-src, LLVM's libunwind
  (libunwind-14-dev plus a ``__fprintf_chk`` shim) and ``-C link-self-contained=no
  -C relocation-model=static``; see :mod:`.cargo_script` for the in-container preparation.
* **Crates** come from :func:`pytest_rules_rust.builders.crates.vendor_crates` (the one step with network,
  on the host) and are mounted read-only; the container has no network.
* **Caches.** ``CARGO_TARGET_DIR`` lives in ``<cache>/builds/cargo/<key>`` where the key is the
  triple, profile, host and flags, shared by all workspaces, so the expensive build-std output
  (1-2.5 min) is reused; a file lock serialises builds into one target directory. Each workspace
  is mounted at ``/work/<name>-<content hash>``; cargo's units do not include that path and judge
  freshness by mtimes, so when a target directory last built other content the workspace's own
  fingerprints are dropped first (:func:`forget_other_workspace`): two workspaces (or two
  parameter sets of one template) never pass for each other.
* **Release** is ``--release``: the workspace's ``[profile.release]`` mirrors Bazel's opt flags.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import time
import tomllib
from collections.abc import Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Unpack

from ..cache import Cache
from ..containers import Mount, RunSpec, run
from ..containers.emulation import require_emulation
from ..containers.images import ensure_builder_image
from ..errors import BuildError, UsageError, WorkspaceError
from ..platforms import AMD64, ARM64, Platform
from ..workspaces import MANIFEST, manifest_table
from .base import Artifact, BuildRequest, BuildResult
from .cargo_script import MISSING_PART_RC, SCRIPT
from .container_builder import BuilderOptions, ContainerBuilder
from .crates import cargo_offline_args, vendor_crates

if TYPE_CHECKING:
    from ..containers import Engine

WORK_ROOT = "/work"
VENDOR_MOUNT = "/rr/vendor"
TARGET_MOUNT = "/rr/target"
STATE_DIR = f"{TARGET_MOUNT}/.rr"
RUSTC = "/usr/bin/rustc"
BUILD_STD = "std,panic_abort"
#: LLVM libunwind.a as the builder images carry it: installed for the image's own arch, unpacked for arm64.
UNWIND_NATIVE = "/usr/lib/llvm-14/lib/libunwind.a"
UNWIND_ARM64_IN_AMD64 = "/opt/libunwind-14-arm64/usr/lib/llvm-14/lib/libunwind.a"
_SKIP = {"target", ".git", "__pycache__"}


@dataclass(frozen=True)
class CargoPlan:
    """What to run: the image platform, the command and environment, the binaries to hand out."""

    image_platform: Platform
    triple: str
    command: tuple[str, ...]
    env: Mapping[str, str]
    binaries: tuple[str, ...]
    musl: bool
    cache_key: str

    @property
    def profile_dir(self) -> str:
        return "release" if "--release" in self.command else "debug"


@dataclass(frozen=True)
class CargoPaths:
    """Where things live on the host, and where the container sees them."""

    workspace: Path
    workspace_mount: str
    vendor: Path
    target_dir: Path
    out_dir: Path
    log: Path

    def binary(self, plan: CargoPlan, name: str) -> Path:
        return self.target_dir / plan.triple / plan.profile_dir / name


@dataclass(frozen=True)
class CargoManifest:
    """The ``[cargo]`` table of a workspace's ``rules_rust_template.toml``."""

    binaries: tuple[str, ...] = ()
    libcs: tuple[str, ...] = ("gnu",)
    features: tuple[str, ...] = ()
    extra: Mapping[str, object] = field(default_factory=dict)


def read_manifest(root: Path) -> CargoManifest:
    """Read ``[cargo]`` from the workspace's manifest; a workspace without one names no binaries."""
    path = root / MANIFEST
    table = manifest_table(root, "cargo")

    def strings(key: str, default: tuple[str, ...]) -> tuple[str, ...]:
        value = table.get(key, list(default))
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise WorkspaceError(f"{path}: [cargo].{key} must be a list of strings, got {value!r}")
        return tuple(value)

    return CargoManifest(strings("binaries", ()), strings("libcs", ("gnu",)), strings("features", ()))


def content_hash(root: Path) -> str:
    """A hash of the workspace's files (paths and bytes), skipping build outputs."""
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if _SKIP.intersection(rel.parts) or rel.parts[0].startswith("bazel-") or not path.is_file():
            continue
        digest.update(str(rel).encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()[:12]


def forget_other_workspace(target_dir: Path, root: Path, mount: str) -> None:
    """Make cargo recompile this workspace's own packages if the target directory last built other
    content.

    Cargo judges a path package fresh by comparing its sources' mtimes with its fingerprint, and a
    package of the same name in another copy of a workspace maps to the same unit (the mount path
    is not part of it). After a build of copy A, a copy B with older files (an earlier edit, a
    broken copy) would pass as fresh and hand back A's binary. The mount path names the content
    (``/work/<name>-<content hash>``); when it differs from the last one recorded, the
    fingerprints of this workspace's packages are removed. The record is written before the build,
    so a killed build counts as other content too. Callers hold the target directory's lock.
    """
    record = target_dir / ".rr" / "last-workspace"
    last = record.read_text() if record.is_file() else ""
    record.write_text(mount)
    if last == mount:
        return
    names = _package_names(root)
    for fingerprint in [*target_dir.glob("*/.fingerprint/*"), *target_dir.glob("*/*/.fingerprint/*")]:
        if fingerprint.name.rpartition("-")[0] in names:
            shutil.rmtree(fingerprint, ignore_errors=True)


def _package_names(root: Path) -> set[str]:
    names = set()
    for manifest in root.rglob("Cargo.toml"):
        if _SKIP.intersection(manifest.relative_to(root).parts):
            continue
        with suppress(OSError, tomllib.TOMLDecodeError):
            name = tomllib.loads(manifest.read_text()).get("package", {}).get("name")
            if isinstance(name, str):
                names.add(name)
    return names


def _env_triple(triple: str) -> str:
    return triple.replace("-", "_")


def toolchain_env(triple: str, host: Platform, target: Platform) -> dict[str, str]:
    """Linker, C compiler and archiver variables for ``triple`` built on ``host``."""
    musl = triple.endswith("musl")
    cross = host != target
    if cross and (host, target) != (AMD64, ARM64):
        raise UsageError(
            f"cannot build {target} on a {host} host",
            hint="build linux/arm64 on linux/amd64 (cross) or on linux/arm64 (emulated host)",
        )
    if musl:
        cc = "aarch64-linux-musl-gcc" if cross else "musl-gcc"
    else:
        cc = "aarch64-linux-gnu-gcc" if cross else "gcc"
    ar = "aarch64-linux-gnu-ar" if cross else "ar"
    t = _env_triple(triple)
    env = {f"CC_{t}": cc, f"AR_{t}": ar, f"CARGO_TARGET_{t.upper()}_LINKER": cc}
    if cross and not musl:
        env[f"CXX_{t}"] = "aarch64-linux-gnu-g++"
    if musl and target == ARM64:
        # gcc's outline atomics need __getauxval, which only musl's static libc has.
        env[f"CFLAGS_{t}"] = "-static"
    return env


def musl_env(triple: str, host: Platform, target: Platform) -> dict[str, str]:
    """The build-std recipe's variables (RUSTFLAGS for the target, and the script's inputs)."""
    t = _env_triple(triple)
    cross = host != target
    unwind = UNWIND_ARM64_IN_AMD64 if cross else UNWIND_NATIVE
    # rustc links with -nodefaultlibs, so C deps' libgcc helpers (jemalloc's __popcountdi2) need -lgcc.
    flags = (
        f"-C link-self-contained=no -C relocation-model=static -L native={STATE_DIR}/unwind -C link-arg=-lgcc"
    )
    return {
        "RUSTC_BOOTSTRAP": "1",
        f"CARGO_TARGET_{t.upper()}_RUSTFLAGS": flags,
        "RR_MUSL": "1",
        "RR_STATE": STATE_DIR,
        "RR_VENDOR": VENDOR_MOUNT,
        "RR_UNWIND_CANDIDATES": f"{unwind} {UNWIND_NATIVE}" if cross else unwind,
        "RR_MUSL_CC": "aarch64-linux-musl-gcc" if cross else "musl-gcc",
        "RR_AR": "aarch64-linux-gnu-ar" if cross else "ar",
    }


def source_args(directory: str) -> list[str]:
    """``--config`` arguments replacing crates.io with ``directory`` (a container path), offline."""
    return cargo_offline_args(Path(directory), directory)


def plan_build(request: BuildRequest, binaries: Sequence[str], features: Sequence[str]) -> CargoPlan:
    """Decide image, command and environment for ``request`` (pure: no I/O)."""
    host = request.host
    triple = request.triple
    musl = request.libc == "musl"
    env: dict[str, str] = {
        "RUSTC": RUSTC,
        "CARGO_HOME": f"{STATE_DIR}/cargo-home",
        "CARGO_TARGET_DIR": TARGET_MOUNT,
        "CARGO_TERM_COLOR": "never",
        "CARGO_INCREMENTAL": "0",
        "HOME": "/tmp",
        "PROTOC": "/usr/bin/protoc",
    }
    env.update(toolchain_env(triple, host, request.target))
    command = ["cargo", "build", "--locked", "--offline", "--target", triple]
    if request.profile == "release":
        command.append("--release")
    for name in binaries:
        command += ["--bin", name]
    if features:
        command += ["--features", ",".join(features)]
    if musl:
        env.update(musl_env(triple, host, request.target))
        command += [f"-Zbuild-std={BUILD_STD}", *source_args(f"{STATE_DIR}/vendor-merged")]
    else:
        command += source_args(VENDOR_MOUNT)
    command += list(request.extra_args)
    # Features and extra arguments stay out of the key: cargo hashes them into its own unit names,
    # and sharing the directory shares the build-std output between allocator variants.
    flags = json.dumps({"env": env, "std": musl}, sort_keys=True)
    key = f"{triple}-{request.profile}-{host.arch}-{hashlib.sha256(flags.encode()).hexdigest()[:10]}"
    script = f"{STATE_DIR}/rr-cargo.sh"
    return CargoPlan(
        image_platform=host,
        triple=triple,
        command=("bash", script, *command),
        env=env,
        binaries=tuple(binaries),
        musl=musl,
        cache_key=key,
    )


def _binaries_for(request: BuildRequest, manifest: CargoManifest) -> tuple[str, ...]:
    binaries = request.targets or manifest.binaries or cargo_binaries(request.workspace.root)
    if not binaries:
        raise WorkspaceError(
            f"workspace {request.workspace.root} has no Cargo binary to build "
            "(no [[bin]], src/main.rs or src/bin/*.rs in its packages)",
            hint=f"list them in {MANIFEST} under [cargo] binaries = [...], or name them: "
            "targets=(...) in Python, --target NAME on the command line",
        )
    return tuple(binaries)


def cargo_binaries(root: Path) -> tuple[str, ...]:
    """The binaries Cargo builds by default in the package or workspace at ``root``: each
    package's ``[[bin]]`` targets, else ``src/main.rs`` (named after the package) and ``src/bin/*.rs``."""
    found: list[str] = []
    for package in _cargo_packages(root):
        data = _cargo_toml(package)
        name = str(data.get("package", {}).get("name", ""))
        bins = [b for b in data.get("bin", []) if isinstance(b, dict) and isinstance(b.get("name"), str)]
        found += [b["name"] for b in bins]
        if data.get("package", {}).get("autobins", True) is not False:
            if name and (package / "src" / "main.rs").is_file() and name not in found:
                found.append(name)
            found += sorted(p.stem for p in (package / "src" / "bin").glob("*.rs") if p.stem not in found)
    return tuple(found)


def _cargo_toml(package: Path) -> dict[str, Any]:
    try:
        return tomllib.loads((package / "Cargo.toml").read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        return {}


def _cargo_packages(root: Path) -> list[Path]:
    """``root`` when it is a package, and its workspace members (globs as Cargo expands them)."""
    data = _cargo_toml(root)
    packages = [root] if "package" in data else []
    members = data.get("workspace", {}).get("members", [])
    for member in members if isinstance(members, list) else []:
        if isinstance(member, str) and member.strip("./"):  # "." is root itself (glob(".") fails)
            packages += [p for p in sorted(root.glob(member)) if (p / "Cargo.toml").is_file() and p != root]
    return packages


def _compiled_units(log: Path) -> list[str]:
    try:
        text = log.read_text(errors="replace")
    except OSError:
        return []
    return re.findall(r"^\s*Compiling (\S+ v\S+)", text, flags=re.MULTILINE)


class CargoBuilder(ContainerBuilder):
    """``build(request, out_dir) -> BuildResult`` with cargo in the builder containers.

    ``image`` forces an image reference for every platform (it must exist locally); with
    ``image_source="public"`` the public multi-arch Rust image must be present; by default the local
    Debian builder image of the host platform is built once per machine (``progress`` hears about it).
    ``images`` (platform -> reference) overrides all of that; ``engine`` is the Docker engine to use.
    """

    name = "cargo"

    def __init__(
        self, cache: Cache | None = None, *, engine: Engine | None = None, **options: Unpack[BuilderOptions]
    ) -> None:
        super().__init__(cache, **options)
        self.engine = engine

    def local_image_for(self, platform: Platform) -> str:
        return ensure_builder_image(platform, self.cache, progress=self.progress)

    def paths(self, request: BuildRequest, plan: CargoPlan, out_dir: Path) -> CargoPaths:
        root = request.workspace.root
        return CargoPaths(
            workspace=root,
            workspace_mount=f"{WORK_ROOT}/{request.workspace.name}-{content_hash(root)}",
            vendor=vendor_crates(root, self.cache),
            target_dir=self.cache.path("builds", "cargo", plan.cache_key),
            out_dir=out_dir,
            log=out_dir / f"cargo-{plan.triple}-{request.profile}.log",
        )

    def build(self, request: BuildRequest, out_dir: Path) -> BuildResult:
        """Build the request's binaries and copy them into ``out_dir`` (log alongside)."""
        root = request.workspace.root
        if not (root / "Cargo.toml").is_file():
            raise WorkspaceError(
                f"{root} has no Cargo.toml", hint="the cargo builder needs a Cargo workspace"
            )
        manifest = read_manifest(root)
        plan = plan_build(request, _binaries_for(request, manifest), manifest.features)
        if request.emulated_host:
            require_emulation("aarch64")
        out_dir = out_dir.resolve()
        out_dir.mkdir(parents=True, exist_ok=True)
        paths = self.paths(request, plan, out_dir)
        image = self.image_for(plan.image_platform)
        spec = RunSpec(
            image=image,
            command=plan.command,
            platform=plan.image_platform,
            mounts=(
                Mount(paths.workspace, paths.workspace_mount),
                Mount(paths.vendor, VENDOR_MOUNT, read_only=True),
                Mount(paths.target_dir, TARGET_MOUNT),
            ),
            workdir=paths.workspace_mount,
            env=dict(plan.env),
            timeout_s=request.timeout_s,
        )
        start = time.monotonic()
        with self.cache.lock(f"cargo-target-{plan.cache_key}"):
            state = paths.target_dir / ".rr"
            state.mkdir(parents=True, exist_ok=True)
            (state / "rr-cargo.sh").write_text(SCRIPT)
            forget_other_workspace(paths.target_dir, root, paths.workspace_mount)
            result = run(spec, paths.log, engine=self.engine)
            if result.timed_out:
                raise BuildError(
                    f"cargo build of {request.workspace.name} for {plan.triple} overran its timeout "
                    f"of {request.timeout_s:g} s and was killed\n{result.tail(15)}",
                    hint="raise --rr-build-timeout, or look at the log for a hang",
                    paths={"log": paths.log, "workspace": root},
                )
            if result.failed:
                what = (
                    "the builder image lacks a part of the musl recipe"
                    if result.rc == MISSING_PART_RC
                    else (f"exit code {result.rc}")
                )
                raise BuildError(
                    f"cargo build of {request.workspace.name} for {plan.triple} failed ({what}); "
                    f"last lines of the log:\n{result.tail(25)}",
                    hint="the workspace and the log are kept; fix the error and re-run",
                    paths={"log": paths.log, "workspace": root},
                )
            artifacts = tuple(self._collect(request, plan, paths))
        return BuildResult(
            request=request,
            builder=self.name,
            artifacts=artifacts,
            log=paths.log,
            duration_s=time.monotonic() - start,
            extra={
                "image": image,
                "triple": plan.triple,
                "target_dir": str(paths.target_dir),
                "cache_key": plan.cache_key,
                "command": list(plan.command[2:]),
                "compiled": _compiled_units(paths.log),
                "container_s": round(result.duration_s, 3),
            },
        )

    def _collect(self, request: BuildRequest, plan: CargoPlan, paths: CargoPaths) -> list[Artifact]:
        artifacts = []
        for name in plan.binaries:
            built = paths.binary(plan, name)
            if not built.is_file():
                raise BuildError(
                    f"cargo reported success but {built} does not exist (binary {name!r})",
                    hint=f"check [cargo] binaries in {MANIFEST}: each must be a bin target of the workspace",
                    paths={"log": paths.log, "workspace": request.workspace.root},
                )
            dest = paths.out_dir / name
            shutil.copy2(built, dest)
            artifacts.append(Artifact(dest, "binary", name, request.target))
        return artifacts
