"""What this machine has for pytest-rules-rust, and the exact command that fixes each gap.

``diagnose()`` returns plain ``Check`` values; the CLI (``python -m pytest_rules_rust doctor``) prints
them. A check is *required* for the default (cargo) pipeline; Bazel is required only when asked for.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from .builders.bazel_download import download_marker, failed_marker
from .builders.bazel_tool import check_binary, resolve_version
from .cache import Cache
from .containers import detect_engine, image_exists
from .containers.bazel_image import bazel_image
from .containers.bazelisk import BAZELISK
from .containers.emulation import emulation_status
from .containers.images import builder_image_ref
from .errors import RulesRustError
from .platforms import ALL_PLATFORMS, AMD64
from .preflight.api.store import OUTPUT_BASE_ENV, coverage, fetched_available

APT = "apt-get install -y --no-install-recommends"
NO_BAZEL = (
    "run a Bazel build where releases.bazel.build is reachable (it downloads once into the cache), set "
    "BAZELISK_BASE_URL to a mirror, or give your own Bazel: --rr-bazel-binary PATH"
)


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""
    required: bool = True

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


# (check name, commands that must exist, Debian package providing them)
HOST_TOOLS: tuple[tuple[str, tuple[str, ...], str], ...] = (
    ("gcc", ("gcc",), "build-essential"),
    ("musl-gcc", ("musl-gcc",), "musl-tools"),
    ("aarch64 cross gcc", ("aarch64-linux-gnu-gcc",), "gcc-aarch64-linux-gnu"),
    ("aarch64 musl gcc", ("aarch64-linux-musl-gcc",), "musl-dev:arm64"),
    ("protoc", ("protoc",), "protobuf-compiler"),
    ("Debian rustc-web", ("/usr/bin/rustc",), "rustc-web"),
    ("cargo (vendoring crates)", ("cargo",), "cargo-web"),
    ("qemu-aarch64-static", ("qemu-aarch64-static",), "qemu-user-static"),
    ("mmdebstrap", ("mmdebstrap",), "mmdebstrap"),
    ("skopeo", ("skopeo",), "skopeo"),
)


def _version(cmd: str, *args: str) -> str:
    try:
        out = subprocess.run([cmd, *args], capture_output=True, text=True, timeout=20, check=False)
    except OSError:
        return ""
    text = (out.stdout or out.stderr).strip().splitlines()
    return text[0] if text else ""


def check_engine() -> Check:
    try:
        engine = detect_engine(refresh=True)
    except RulesRustError as exc:
        return Check("Docker engine", False, exc.message, exc.hint)
    where = "remote" if engine.remote else "local"
    return Check(
        "Docker engine", True, f"{engine.version} ({where}, {engine.os}/{engine.arch}) at {engine.base_url}"
    )


def check_emulation(cache: Cache) -> Check:
    st = emulation_status("aarch64", cache=cache)
    flags = "F flag" if st.fix_binary else "no F flag"
    state = "works" if st.works else "does not run aarch64 programs"
    detail = f"qemu-aarch64 {'registered' if st.registered else 'not registered'}, {flags}, {state}"
    if st.detail and not st.ok:
        detail += f" ({st.detail})"
    return Check("binfmt qemu-aarch64", st.ok, detail, st.fix)


def check_images() -> list[Check]:
    try:
        engine = detect_engine()
    except RulesRustError:
        return [
            Check("builder images", False, "no Docker engine to look in", "start Docker first (see above)")
        ]
    checks = []
    for platform in ALL_PLATFORMS:
        ref = builder_image_ref(platform)
        present = image_exists(engine, ref, platform)
        checks.append(
            Check(
                f"builder image {platform}",
                present,
                ref if present else f"{ref} not built yet (built on first use, a few minutes)",
                "" if present else f"python -m pytest_rules_rust.containers.images --platform {platform}",
            )
        )
    return checks


def check_tools(which: Callable[[str], str | None] = shutil.which) -> list[Check]:
    checks = []
    for name, commands, package in HOST_TOOLS:
        found = [c for c in commands if (Path(c).exists() if c.startswith("/") else which(c))]
        ok = len(found) == len(commands)
        if ok:  # the path first: a wrapper (musl-gcc) reports the compiler it wraps
            where = (found[0] if found[0].startswith("/") else which(found[0])) or found[0]
            version = _version(found[0], "--version")
            detail = f"{where}: {version}" if version else where
        else:
            detail = f"{', '.join(commands)} not found"
        checks.append(Check(name, ok, detail, "" if ok else f"{APT} {package}"))
    for tool in ("buildifier", "buildozer"):
        path = which(tool)
        checks.append(
            Check(
                tool,
                bool(path),
                _version(tool, "--version")
                if path
                else "not on PATH (preflight uses it as a second opinion)",
                "" if path else f"npm install -g @bazel/{tool}",
                required=False,
            )
        )
    return checks


def check_bazel(
    required: bool, cache: Cache, *, binary: Path | None = None, version: str | None = None
) -> Check:
    """Which Bazel the Bazel builder would use and why: the user's binary, or Bazelisk and a version."""
    if binary is not None:
        try:
            checked = check_binary(binary, AMD64, "--bazel-binary")
        except RulesRustError as exc:
            return Check("Bazel", False, exc.message, exc.hint, required=required)
        detail = f"your own Bazel {checked.path} ({checked.platform.cpu} ELF), mounted read-only; no Bazelisk"
        return Check("Bazel", True, detail, required=required)
    chosen = resolve_version(None, {}, version)
    home = cache.path("bazel", "bazelisk")
    lines = [
        f"Bazelisk {BAZELISK.version} (npm {BAZELISK.spec}, integrity checked) in {_bazel_images()}",
        f"Bazel {chosen.version} ({chosen.source}) unless a workspace's .bazelversion or bazel_version "
        "parameter says otherwise (order: .bazelversion > parameter > --rr-bazel-version > default)",
    ]
    marker = download_marker(home, chosen.version, AMD64)
    failed = failed_marker(marker)
    held = sorted(p.name for p in marker.parent.glob("*") if not p.name.endswith(".failed"))
    if marker.is_file():
        lines.append(f"Bazel {marker.read_text().strip()} is in the download cache {home}")
    elif failed.is_file():
        lines.append(f"last download attempt: {failed.read_text().strip()}")
    else:
        lines.append(f"not downloaded yet into {home}: the first build's fetch phase does it")
    if held:
        lines.append(f"downloaded: {', '.join(held)}")
    return Check(
        "Bazel",
        marker.is_file(),
        "; ".join(lines),
        "" if marker.is_file() else NO_BAZEL,
        required=required,
    )


def _bazel_images() -> str:
    tags = {p: bazel_image(p).tag for p in ALL_PLATFORMS}
    try:
        engine = detect_engine()
    except RulesRustError:
        return ", ".join(tags.values())
    return ", ".join(
        f"{tag} ({'present' if image_exists(engine, tag, p) else 'built on first use'})"
        for p, tag in tags.items()
    )


def check_cache(cache: Cache) -> Check:
    try:
        cache.check_writable()
    except RulesRustError as exc:
        return Check("cache directory", False, exc.message, exc.hint)
    return Check("cache directory", True, str(cache.root))


def check_api_models() -> list[Check]:
    """Which module versions preflight checks against a shipped API model, and what Bazel fetched."""
    shipped = "; ".join(f"{m} {', '.join(vs)}" for m, vs in coverage().items())
    fetched = fetched_available()
    extra = [f"{m} {v}" for m, v, _ in fetched if v not in coverage().get(m, [])]
    return [
        Check("preflight API models", True, f"shipped: {shipped or 'none'}", required=False),
        Check(
            "fetched module sources",
            True,
            (
                f"also read from Bazel's output base: {', '.join(extra)}"
                if extra
                else "none beyond the shipped ones"
            )
            + f" (other versions are read from ~/.cache/bazel or ${OUTPUT_BASE_ENV} after `bazel fetch`)",
            required=False,
        ),
    ]


def diagnose(
    cache: Cache | None = None,
    *,
    need_bazel: bool = False,
    bazel_binary: Path | None = None,
    bazel_version: str | None = None,
) -> list[Check]:
    cache = cache or Cache()
    return [
        check_cache(cache),
        check_engine(),
        check_emulation(cache),
        *check_images(),
        *check_tools(),
        check_bazel(need_bazel, cache, binary=bazel_binary, version=bazel_version),
        *check_api_models(),
    ]


def render(checks: list[Check]) -> str:
    lines = []
    width = max(len(c.name) for c in checks)
    for c in checks:
        mark = "ok  " if c.ok else ("MISS" if c.required else "opt ")
        lines.append(f"{mark} {c.name.ljust(width)}  {c.detail}")
        if not c.ok and c.fix:
            lines.append(f"     {' ' * width}  fix: {c.fix}")
    missing = [c for c in checks if c.required and not c.ok]
    lines.append("")
    lines.append(
        "all required parts are present" if not missing else f"{len(missing)} required part(s) missing"
    )
    return "\n".join(lines)
