"""Run commands in containers on the Docker SDK, and never leave one behind.

The engine is a value detected once per process (:func:`detect_engine`); a command is a
:class:`RunSpec`; the outcome is an :class:`ExecResult` whose output lives in a log file.
Every container, network and volume the harness creates carries the owner labels of
:mod:`pytest_rules_rust.containers.ownership` and is removed on success, failure, timeout,
``KeyboardInterrupt`` and SIGTERM by the code that created it; on SIGKILL by the process's reaper
(:mod:`pytest_rules_rust.containers.reaper`) within seconds; and whatever still survives (the reaper killed
too) by :func:`sweep_leftovers` at the next start.

Everything that talks to Docker lives in this package: this module (the engine facade),
``images`` (builder image recipes, local builds, public references), ``emulation`` (qemu in
binfmt_misc), ``load`` (an OCI layout into the engine, and running it), ``oci_write`` (writing
and pushing OCI layouts) and ``registry`` (the session registry). Owner labels and the reaper
sit outside it (``ownership``, ``reaper``) so that the reaper starts without the Docker SDK.
"""

from __future__ import annotations

import io
import os
import shutil
import tarfile
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import docker
import docker.errors
import requests
from docker.context import ContextAPI
from docker.models.containers import Container

from ..errors import EngineError, ImageError, UsageError
from ..outcome import ProcessOutcome
from ..platforms import Platform
from ..signals import sigterm_as_interrupt
from . import ownership
from .ownership import Verdict
from .reaper import watched_labels

#: One id per session; the owner labels themselves are defined in :mod:`.ownership`.
SESSION_ID = ownership.SESSION_ID

_ENGINE_FIX = (
    "start a Docker daemon (as root: `dockerd --iptables=false &`; see `pytest-rules-rust doctor`); "
    "or point DOCKER_HOST (or `docker context use`) at a running engine"
)


@dataclass(frozen=True)
class Engine:
    """The Docker engine this run talks to, detected once.

    ``remote`` is True when the daemon is reached over TCP/SSH: bind mounts of host paths then do
    not see this machine's files.
    """

    base_url: str
    version: str
    api_version: str
    arch: str  # Docker's vocabulary: amd64, arm64
    os: str
    remote: bool
    rootless: bool
    client: docker.DockerClient = field(repr=False, compare=False, hash=False)

    @property
    def platform(self) -> Platform:
        return Platform.parse(f"{self.os}/{self.arch}")

    def needs_emulation(self, platform: Platform) -> bool:
        """True when containers for ``platform`` run through qemu on this engine."""
        return platform.arch != self.platform.arch


@dataclass(frozen=True)
class Mount:
    """A host path bind-mounted into the container."""

    source: Path
    target: str
    read_only: bool = False


@dataclass(frozen=True)
class RunSpec:
    """What to run: an image for a platform, a command, mounts and environment."""

    image: str
    command: tuple[str, ...]
    platform: Platform
    mounts: tuple[Mount, ...] = ()
    workdir: str = "/work"
    env: Mapping[str, str] = field(default_factory=dict)
    network: bool = False  # --network none unless True (a fetch phase)
    timeout_s: float = 1800.0
    user: str | None = None  # default: the calling user's uid:gid


@dataclass(frozen=True)
class ExecResult(ProcessOutcome):
    """The outcome of one container run; the output is in ``log``.

    >>> r = ExecResult(rc=0, log=Path("/dev/null"), duration_s=0.1, timed_out=False)
    >>> r.succeeded, r.failed
    (True, False)
    """

    rc: int
    log: Path
    duration_s: float
    timed_out: bool

    @property
    def output(self) -> str:
        """What the command printed (stdout and stderr as they interleaved, from ``log``)."""
        try:
            return self.log.read_text(errors="replace")
        except OSError:
            return ""

    def tail(self, lines: int = 40) -> str:
        """The last ``lines`` lines of the log."""
        return "\n".join(self.output.splitlines()[-lines:])


_engine: Engine | None = None
_engine_lock = threading.Lock()


def _base_url() -> str:
    """DOCKER_HOST wins; otherwise the current docker context; otherwise the default socket."""
    if os.environ.get("DOCKER_HOST"):
        return os.environ["DOCKER_HOST"]
    with suppress(Exception):
        ctx = ContextAPI.get_current_context()
        if ctx is not None and ctx.Host:
            return str(ctx.Host)
    return "unix:///var/run/docker.sock"


def detect_engine(*, refresh: bool = False) -> Engine:
    """Find and describe the Docker engine (cached per process).

    Raises :class:`EngineError` naming the fix when no daemon answers.
    """
    global _engine
    with _engine_lock:
        if _engine is not None and not refresh:
            return _engine
        base_url = _base_url()
        try:
            if os.environ.get("DOCKER_HOST"):
                client = docker.from_env(timeout=120)
            else:
                client = docker.DockerClient(base_url=base_url, timeout=120)
            version = client.version()
            info = client.info()
        except Exception as exc:  # the SDK raises DockerException, requests errors, FileNotFoundError
            raise EngineError(f"no Docker daemon answers at {base_url} ({exc})", hint=_ENGINE_FIX) from exc
        arch = Platform.parse(str(version.get("Arch", "amd64"))).arch
        options = [str(o) for o in info.get("SecurityOptions") or []]
        _engine = Engine(
            base_url=base_url,
            version=str(version.get("Version", "?")),
            api_version=str(version.get("ApiVersion", "?")),
            arch=arch,
            os=str(version.get("Os", "linux")),
            remote=not base_url.startswith(("unix://", "npipe://")),
            rootless=any("rootless" in o for o in options),
            client=client,
        )
        return _engine


def default_user() -> str:
    """The calling user's ``uid:gid``, so files written to mounts belong to the caller."""
    return f"{os.getuid()}:{os.getgid()}"


def labels() -> dict[str, str]:
    """The labels every resource created by this process carries (a reaper watches over them)."""
    return watched_labels()


def image_exists(engine: Engine, image: str, platform: Platform | None = None) -> bool:
    """True when ``image`` is present locally (and, if given, built for ``platform``)."""
    try:
        attrs = engine.client.images.get(image).attrs
    except docker.errors.ImageNotFound:
        return False
    return platform is None or attrs.get("Architecture") == platform.arch


def _require_image(engine: Engine, spec: RunSpec) -> None:
    try:
        attrs = engine.client.images.get(spec.image).attrs
    except docker.errors.ImageNotFound:
        raise ImageError(
            f"image {spec.image} is not present on the Docker engine (offline mode never pulls)",
            hint="build it: `python -m pytest_rules_rust.containers.images` (or load the image)",
        ) from None
    arch = attrs.get("Architecture")
    if arch != spec.platform.arch:
        raise ImageError(
            f"image {spec.image} is built for linux/{arch}, not {spec.platform}",
            hint=f"use the image tagged for {spec.platform} (Docker would try to pull the other one)",
        )


def _stream_logs(container: Container, log: Path, done: threading.Event) -> None:
    with log.open("ab") as out:
        try:
            for chunk in container.logs(stream=True, follow=True, stdout=True, stderr=True):
                out.write(chunk)
                out.flush()
        except Exception as exc:  # the container was removed under us (timeout/interrupt)
            out.write(f"\n[pytest-rules-rust] log stream ended: {exc}\n".encode())
        finally:
            done.set()


@contextmanager
def _container(engine: Engine, image: str, kwargs: dict[str, Any]) -> Iterator[Container]:
    """A created (not started) container, removed on exit whatever happens.

    It is named up front and removed by that name: an interrupt that lands inside ``create``
    (after the engine made the container, before the SDK returned it) must not leave it behind.
    """
    name = f"pytest-rules-rust-{uuid.uuid4().hex[:16]}"
    try:
        with sigterm_as_interrupt():
            yield engine.client.containers.create(image, name=name, **kwargs)
    finally:
        with suppress(docker.errors.NotFound, docker.errors.APIError):
            engine.client.api.remove_container(name, force=True)


def _create_kwargs(spec: RunSpec, *, bind: bool = True) -> dict[str, Any]:
    """The SDK's ``containers.create`` arguments for ``spec`` (labels, user, mounts, network)."""
    volumes = {
        str(m.source.resolve()): {"bind": m.target, "mode": "ro" if m.read_only else "rw"}
        for m in spec.mounts
        if bind
    }
    kwargs: dict[str, Any] = {
        "command": list(spec.command),
        "platform": spec.platform.docker,
        "volumes": volumes,
        "working_dir": spec.workdir,
        "environment": dict(spec.env),
        "user": spec.user or default_user(),
        "labels": labels(),
        "detach": True,
        "init": True,
        "privileged": False,
    }
    if not spec.network:
        kwargs["network_mode"] = "none"
    return kwargs


@contextmanager
def running(spec: RunSpec, *, engine: Engine | None = None) -> Iterator[Container]:
    """Start ``spec`` detached (e.g. ``sleep infinity`` for testinfra); removed on exit, whatever happens."""
    engine = engine or detect_engine()
    _require_image(engine, spec)
    with _container(engine, spec.image, _create_kwargs(spec)) as container:
        container.start()
        container.reload()
        yield container


def run(
    spec: RunSpec, log: Path, *, engine: Engine | None = None, copy_mounts: bool | None = None
) -> ExecResult:
    """Run ``spec`` to completion, streaming its output to ``log``; the container is always removed.

    A timeout kills the container and returns ``timed_out=True`` with ``rc=-9``. Mounts are bind
    mounts on a local engine; on a remote one (``copy_mounts`` defaults to ``engine.remote``) they
    are copied in before the start and writable ones copied back afterwards.
    """
    engine = engine or detect_engine()
    _require_image(engine, spec)
    _check_mounts(spec)
    copy = engine.remote if copy_mounts is None else copy_mounts
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_text(f"$ {' '.join(spec.command)}  # {spec.image} {spec.platform}\n")
    kwargs = _create_kwargs(spec, bind=not copy)
    start = time.monotonic()
    try:
        with _container(engine, spec.image, kwargs) as container:
            if copy:
                _copy_in(container, spec)
            done = threading.Event()
            streamer = threading.Thread(target=_stream_logs, args=(container, log, done), daemon=True)
            container.start()
            streamer.start()
            timed_out = False
            try:
                status = container.wait(timeout=spec.timeout_s)
                rc = int(status.get("StatusCode", -1))
            except Exception as exc:  # requests' ReadTimeout/ConnectionError on timeout
                if not _is_timeout(exc) or time.monotonic() - start < spec.timeout_s * 0.9:
                    raise
                timed_out, rc = True, -9
                with suppress(docker.errors.APIError):
                    container.kill()
            done.wait(timeout=10)
            if copy and not timed_out:
                _copy_out(container, spec)
            if timed_out:
                with log.open("a") as out:
                    out.write(
                        f"\n[pytest-rules-rust] timed out after {spec.timeout_s:.0f} s; container killed\n"
                    )
            return ExecResult(rc=rc, log=log, duration_s=time.monotonic() - start, timed_out=timed_out)
    except docker.errors.APIError as exc:
        raise EngineError(
            f"Docker refused to run {' '.join(spec.command)!r} in {spec.image} ({spec.platform}): "
            f"{exc.explanation or exc}",
            hint="check the mounts, user and platform of the run; `docker info` shows the engine's state",
            paths={"log": log},
        ) from exc


def _check_mounts(spec: RunSpec) -> None:
    """Docker would silently create a missing bind source as an empty root-owned directory."""
    for m in spec.mounts:
        if not m.source.exists():
            raise UsageError(
                f"mount source {m.source} (for {m.target} in {spec.image}) does not exist",
                hint="create it before the run, or fix the path",
            )
        if not m.target.startswith("/"):
            raise UsageError(f"mount target {m.target!r} is not an absolute path", hint="e.g. /work")


def _copy_in(container: Container, spec: RunSpec) -> None:
    """Copy each mount's source into the (created, not started) container, owned by the run's user."""
    uid, _, gid = (spec.user or default_user()).partition(":")

    def owner(info: tarfile.TarInfo) -> tarfile.TarInfo:
        info.uid, info.gid = int(uid or 0), int(gid or uid or 0)
        info.uname = info.gname = ""
        return info

    for m in spec.mounts:
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w") as tar:
            tar.add(m.source, arcname=m.target.strip("/"), filter=owner)
        container.put_archive("/", buf.getvalue())


def _copy_out(container: Container, spec: RunSpec) -> None:
    """Copy writable mounts back from the stopped container into their host sources."""
    for m in spec.mounts:
        if m.read_only:
            continue
        stream, _stat = container.get_archive(m.target)
        with tempfile.TemporaryDirectory() as tmp:
            data = io.BytesIO(b"".join(stream))
            with tarfile.open(fileobj=data) as tar:
                tar.extractall(tmp, filter="tar")
            got = Path(tmp) / Path(m.target).name
            if got.is_dir():
                shutil.copytree(got, m.source, dirs_exist_ok=True, symlinks=True)
            else:
                shutil.copy2(got, m.source)


def _is_timeout(exc: BaseException) -> bool:
    return isinstance(exc, requests.exceptions.ReadTimeout | requests.exceptions.ConnectionError)


@dataclass(frozen=True)
class SweepReport:
    """What :func:`sweep_leftovers` did with each labelled resource it saw."""

    removed: tuple[str, ...] = ()  # the owner provably gone
    live: int = 0  # the owner is still running (this or another session)
    foreign: int = 0  # another machine's, boot's or pid namespace's: never touched
    unowned: tuple[str, ...] = ()  # owner labels missing or malformed: reported, never removed

    def notice(self) -> str:
        """One line for a user when something was removed or needs a human; else ''."""
        parts = []
        if self.removed:
            parts.append(f"removed {len(self.removed)} leftover(s) of killed runs")
        if self.unowned:
            shown = "; ".join(self.unowned[:3]) + (" …" if len(self.unowned) > 3 else "")
            parts.append(
                f"left {len(self.unowned)} resource(s) with missing or malformed owner labels alone "
                f"({shown}); remove them by hand if they are stale"
            )
        return "pytest-rules-rust: " + "; ".join(parts) if parts else ""


def _created(attrs: Mapping[str, Any]) -> float | None:
    value = attrs.get("Created") or attrs.get("CreatedAt") or ""
    if isinstance(value, int | float):  # a container listed sparsely: seconds since the epoch
        return float(value)
    text = str(value)
    try:
        return datetime.fromisoformat(text[:19]).replace(tzinfo=UTC).timestamp()
    except ValueError:
        return None


def listed_containers(engine: Engine, filters: dict[str, str | list[str] | bool]) -> list[Container]:
    """Containers as the list call returns them (labels, names, creation time), without inspecting
    each one: a container removed meanwhile (by its own session) must not fail the listing."""
    found: list[Container] = engine.client.containers.list(all=True, filters=filters, sparse=True)
    return found


def _name(item: Any) -> str:
    names = item.attrs.get("Names") or [item.attrs.get("Name") or item.id[:12]]
    return str(names[0]).lstrip("/")


def sweep_leftovers(engine: Engine | None = None) -> SweepReport:
    """Remove labelled containers, networks and volumes whose owner process is provably gone.

    Safe on a shared engine and while other sessions run: a resource is removed only when its
    owner labels name a process of this machine, boot and pid namespace that is no longer running
    (see :func:`pytest_rules_rust.containers.ownership.judge`). Another machine's resources are never touched;
    resources with missing or malformed owner labels are reported in the result, not removed.
    """
    engine = engine or detect_engine()
    client = engine.client
    flt: dict[str, str | list[str] | bool] = {"label": ownership.LABEL_SESSION}
    removed: list[str] = []
    unowned: list[str] = []
    counts = {Verdict.LIVE: 0, Verdict.FOREIGN: 0}
    kinds: list[tuple[str, Any, Callable[[Any], None]]] = [
        ("container", listed_containers(engine, flt), lambda c: c.remove(force=True, v=True)),
        ("network", client.networks.list(filters=flt), lambda n: n.remove()),
        ("volume", client.volumes.list(filters=flt), lambda v: v.remove(force=True)),
    ]
    for kind, items, remove in kinds:
        for item in items:
            verdict, why = ownership.judge(item.attrs.get("Labels") or {}, _created(item.attrs))
            name = f"{kind} {_name(item)}"
            if verdict is Verdict.GONE:
                with suppress(docker.errors.NotFound, docker.errors.APIError):
                    remove(item)
                    removed.append(f"{name} ({why})")
            elif verdict is Verdict.UNOWNED:
                unowned.append(f"{name}: {why}")
            else:
                counts[verdict] += 1
    return SweepReport(tuple(removed), counts[Verdict.LIVE], counts[Verdict.FOREIGN], tuple(unowned))


def labelled_resources(engine: Engine, *, pid: int | None = None, session: str | None = None) -> list[str]:
    """Labelled containers/networks/volumes (optionally of one pid or session), for tests and doctor."""
    flt: list[str] = [ownership.LABEL_SESSION]
    if pid is not None:
        flt.append(f"{ownership.LABEL_PID}={pid}")
    if session is not None:
        flt.append(f"{ownership.LABEL_SESSION}={session}")
    filters: dict[str, str | list[str] | bool] = {"label": flt}
    out = [f"container {_name(c)}" for c in listed_containers(engine, filters)]
    out += [f"network {n.name}" for n in engine.client.networks.list(filters=filters)]
    out += [f"volume {v.name}" for v in engine.client.volumes.list(filters=filters)]
    return out


class ContainerRunner:
    """Runs commands in images for platforms, writing one numbered log per run under ``log_dir``.

    ``image_for(platform)`` supplies the default image (the builder image, usually).
    """

    def __init__(
        self, engine: Engine, log_dir: Path, image_for: Callable[[Platform], str] | None = None
    ) -> None:
        self.engine = engine
        self.log_dir = log_dir
        self.image_for = image_for
        self._count = 0

    def run(
        self,
        command: Sequence[str],
        *,
        platform: Platform | str = "linux/amd64",
        image: str | None = None,
        mounts: Sequence[Mount] = (),
        log: Path | None = None,
        **options: Any,
    ) -> ExecResult:
        """Run ``command``; ``options`` are other :class:`RunSpec` fields (env, network, timeout_s)."""
        plat = platform if isinstance(platform, Platform) else Platform.parse(platform)
        if image is None:
            if self.image_for is None:
                raise ImageError("no image given and no default image", hint="pass image=...")
            image = self.image_for(plat)
        self._count += 1
        log = log or self.log_dir / f"run-{self._count:03d}-{plat.arch}.log"
        spec = RunSpec(image=image, command=tuple(command), platform=plat, mounts=tuple(mounts), **options)
        return run(spec, log, engine=self.engine)
