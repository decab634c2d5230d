"""Bazelisk's download step: the chosen Bazel fetched once per version and architecture per machine.

``bazelisk --version`` runs with network in the Bazel image, with ``BAZELISK_HOME`` in the shared
cache, under the lock ``bazelisk-download-<version>-<arch>``; a marker then makes later builds
skip the step (and run offline). When Bazelisk cannot download, its own error becomes the skip
reason, shared with the workers that waited on the lock and remembered for this process.
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

from ..cache import Cache
from ..containers import Mount, RunSpec, run
from ..errors import BazelUnavailable, BuildError
from ..platforms import Platform
from .bazel_paths import CONTAINER_CACHE, BazelPaths
from .bazel_tool import BazelVersion

#: Host variables passed to Bazelisk's download step (mirrors of the Bazel releases).
BAZELISK_ENV = ("BAZELISK_BASE_URL", "BAZELISK_FORMAT_URL")
#: Download failures seen by this process: later builds skip with the same reason, without waiting
#: another 30 s for Bazelisk's retries to run out.
_download_failures: dict[tuple[str, str, str], BazelUnavailable] = {}
DOWNLOAD_HINT = (
    "the download step needs a network that reaches releases.bazel.build (or BAZELISK_BASE_URL set "
    "to a mirror); or give your own Bazel with --rr-bazel-binary PATH"
)
_EXACT = re.compile(r"(?:[\w.-]+/)?\d+\.\d+\.\d+(?:rc\d+)?")


def download_marker(bazelisk_home: Path, version: str, host: Platform) -> Path:
    """The file saying Bazelisk holds ``version`` for ``host`` (it records the exact version)."""
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", version)
    return bazelisk_home / ".rr-downloaded" / f"{safe}-{host.arch}"


def download_failure(version: str, log: Path, rc: int, timed_out: bool) -> BuildError:
    """What Bazelisk said when it could not get ``version``: a skip reason, or a failure if not that."""
    text = log.read_text(errors="replace") if log.exists() else ""
    said = [re.sub(r"^\d{4}/\d\d/\d\d \d\d:\d\d:\d\d ", "", ln).strip() for ln in text.splitlines()]
    hint = DOWNLOAD_HINT
    for line in reversed(said):
        if line.startswith("could not download Bazel") or "could not resolve the version" in line:
            cause = line.split("Most recent failure: ", 1)[-1]
            cause = cause.split('": ', 1)[-1] if cause.startswith("Get ") else cause
            urls = [m.group(1) for ln in said if (m := re.match(r"Downloading (\S+?)\.*$", ln))]
            where = f" (GET {urls[-1]})" if urls else ""
            return BazelUnavailable(
                f"Bazelisk could not download Bazel {version}: {cause}{where}", hint=hint, paths={"log": log}
            )
    if timed_out:
        return BazelUnavailable(
            f"Bazelisk did not finish downloading Bazel {version} before the timeout",
            hint=hint,
            paths={"log": log},
        )
    last = next((ln for ln in reversed(said) if ln and not ln.startswith("$ ")), "no output")
    return BuildError(
        f"`bazelisk --version` for Bazel {version} failed with exit code {rc}: {last}",
        hint="read the log; under qemu (an arm64 host) Bazel itself is known to break",
        paths={"log": log},
    )


def bazelisk_download(
    cache: Cache,
    image: str,
    host: Platform,
    tool: str,
    version: BazelVersion,
    paths: BazelPaths,
    log: Path,
    timeout_s: float,
) -> str:
    """Let Bazelisk download ``version`` (network on), once per machine; return the exact version it ran.

    Holds the lock ``bazelisk-download-<version>-<arch>`` so parallel workers download each
    version once; a marker in the Bazelisk directory makes later calls free and offline.
    """
    marker = download_marker(paths.bazelisk_home, version.version, host)
    if marker.is_file():
        return marker.read_text().strip()
    key = (str(cache.root), version.version, host.arch)
    if key in _download_failures:
        raise _download_failures[key]
    env = {
        "HOME": paths.container(paths.home),
        "BAZELISK_HOME": paths.container(paths.bazelisk_home),
        "USE_BAZEL_VERSION": version.version,
        **{name: os.environ[name] for name in BAZELISK_ENV if os.environ.get(name)},
    }
    asked = time.time()
    with cache.lock(f"bazelisk-download-{marker.name}"):
        if marker.is_file():
            return marker.read_text().strip()
        failed = failed_marker(marker)
        if failed.is_file() and failed.stat().st_mtime >= asked:  # failed while this worker waited
            shared = BazelUnavailable(failed.read_text().strip(), hint=DOWNLOAD_HINT)
            _download_failures[key] = shared
            raise shared
        spec = RunSpec(
            image,
            (tool, "--version"),
            host,
            (Mount(paths.repository_cache.parent, CONTAINER_CACHE),),
            workdir="/tmp",
            env=env,
            network=True,
            timeout_s=timeout_s,
        )
        result = run(spec, log)
        ran = re.search(r"^bazel (\S+)\s*$", log.read_text(errors="replace"), re.MULTILINE)
        if result.succeeded and ran:
            exact = version.version if _EXACT.fullmatch(version.version) else ran.group(1)
            failed_marker(marker).unlink(missing_ok=True)
            marker.write_text(exact + "\n")
            return exact
        error = download_failure(version.version, log, result.rc, result.timed_out)
        if isinstance(error, BazelUnavailable):  # shared with waiting workers, and shown by `doctor`
            _download_failures[key] = error
            failed_marker(marker).write_text(error.message + "\n")
    raise error


def failed_marker(marker: Path) -> Path:
    """Where the last failed download of ``marker``'s version says what Bazelisk said."""
    marker.parent.mkdir(parents=True, exist_ok=True)
    return marker.with_name(marker.name + ".failed")
