"""container-structure-test v2 specs, applied to every platform of an OCI layout or image index.

File and metadata checks read the layout (no shell, no Docker); command checks run the image's
own binaries in Docker for that platform (arm64 through qemu). Sources and check kinds are
separate: a ``Source`` answers stat/read/metadata/run, each check kind validates itself, names
itself and runs against any source; one loop runs them all and collects every mismatch,
worded ``Expected: X, Actual: Y``. A field left unset in the YAML is not checked.

Beyond container-structure-test, ``binaryTests`` (``binary_check.py``) require facts of every ELF
file in the image, or of the listed ``paths``: hardening, glibc floor, linkage, libc, stripped…

>>> spec = StructureSpec.load(Path("image_test.yaml"))          # doctest: +SKIP
>>> spec.check(Path("bazel-bin/image_index")).assert_ok()         # doctest: +SKIP
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager, ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Protocol

import yaml

from ..containers.load import CommandOutput, LoadedImage, docker_available, loaded, run_command
from ..errors import InspectError, UsageError
from ..platforms import Platform
from .binary_check import BinaryCheck
from .bounded import DEFAULT_LIMITS, InspectLimits
from .oci import FileEntry, ImageInfo, PlatformImage, inspect_image

# ---------------------------------------------------------------- sources


class CommandsUnsupported(InspectError):
    """The source cannot run commands (an OCI layout read from disk)."""


class Source(Protocol):
    """What a check can ask of an image: a layout on disk or a running container."""

    @property
    def description(self) -> str: ...

    def stat(self, path: str) -> FileEntry | None: ...
    def entries(self) -> Mapping[str, FileEntry]: ...
    def read(self, path: str) -> bytes: ...
    def metadata(self) -> PlatformImage: ...
    def run(self, command: Sequence[str], env: Mapping[str, str]) -> CommandOutput: ...


@dataclass
class LayoutSource:
    """One platform of an OCI layout, read from disk. It cannot run commands."""

    info: ImageInfo
    image: PlatformImage
    _fs: dict[str, FileEntry] = field(default_factory=dict, repr=False)

    @property
    def description(self) -> str:
        return f"{self.info.path} [{self.image.platform}]"

    def stat(self, path: str) -> FileEntry | None:
        return self.entries().get("/" + path.strip("/"))

    def entries(self) -> Mapping[str, FileEntry]:
        if not self._fs:
            self._fs = self.image.filesystem()
        return self._fs

    def read(self, path: str) -> bytes:
        return self.info.read_file(self.image, path)

    def metadata(self) -> PlatformImage:
        return self.image

    def run(self, command: Sequence[str], env: Mapping[str, str]) -> CommandOutput:
        raise CommandsUnsupported(
            f"{self.description}: an OCI layout read from disk cannot run commands",
            hint="command tests need a container source (Docker); file and metadata tests do not",
        )


@dataclass
class ContainerSource:
    """One platform loaded into Docker: commands run in fresh containers, files come from the layout.

    A scratch image has no shell, so nothing here execs ``sh``; each command's first word is
    the entrypoint of a new container.
    """

    layout: LayoutSource
    loaded: LoadedImage

    @property
    def description(self) -> str:
        return f"{self.loaded.ref} [{self.loaded.platform}] in Docker"

    def stat(self, path: str) -> FileEntry | None:
        return self.layout.stat(path)

    def entries(self) -> Mapping[str, FileEntry]:
        return self.layout.entries()

    def read(self, path: str) -> bytes:
        return self.layout.read(path)

    def metadata(self) -> PlatformImage:
        return self.layout.metadata()

    def run(self, command: Sequence[str], env: Mapping[str, str]) -> CommandOutput:
        return run_command(self.loaded, command, env)


# ---------------------------------------------------------------- check kinds


def _strings(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str | int) for v in value):
        raise UsageError(f"{where} must be a list of strings")
    return tuple(str(v) for v in value)


def _pairs(value: Any, where: str) -> tuple[tuple[str, str, bool], ...]:
    if not isinstance(value, list):
        raise UsageError(f"{where} must be a list of {{key, value}} mappings")
    out = []
    for number, item in enumerate(value):
        if not isinstance(item, dict) or "key" not in item:
            raise UsageError(f"{where}[{number}] must be a mapping with key and value")
        out.append((str(item["key"]), str(item.get("value", "")), bool(item.get("isRegex", False))))
    return tuple(out)


def _search_all(patterns: Sequence[str], text: str, should: bool, what: str) -> list[str]:
    """One error per pattern that is missing from ``text`` (``should``) or present in it (not)."""
    verb, outcome = ("Expected", "not found") if should else ("Excluded", "found")
    return [
        f"{verb} {what} {pattern!r} {outcome} in {text[:300]!r}"
        for pattern in patterns
        if (re.search(pattern, text, re.MULTILINE) is not None) != should
    ]


@dataclass(frozen=True)
class FileExistenceCheck:
    kind: ClassVar[str] = "fileExistenceTests"
    required: ClassVar[tuple[str, ...]] = ("name", "path")
    keys: ClassVar[frozenset[str]] = frozenset(
        {"name", "path", "shouldExist", "permissions", "uid", "gid", "isExecutableBy"}
    )
    needs_commands: ClassVar[bool] = False
    name: str
    path: str
    should_exist: bool = True
    permissions: str | None = None
    uid: int | None = None
    gid: int | None = None
    executable_by: str | None = None

    @classmethod
    def parse(cls, raw: Mapping[str, Any], where: str) -> FileExistenceCheck:
        by = raw.get("isExecutableBy")
        if by is not None and by not in ("any", "owner", "group", "other"):
            raise UsageError(f"{where}.isExecutableBy must be any, owner, group or other (got {by!r})")
        return cls(
            str(raw["name"]),
            str(raw["path"]),
            bool(raw.get("shouldExist", True)),
            raw.get("permissions"),
            raw.get("uid"),
            raw.get("gid"),
            by,
        )

    def check(self, source: Source) -> list[str]:
        entry = source.stat(self.path)
        if entry is None:
            return [f"File {self.path} should exist but does not"] if self.should_exist else []
        if not self.should_exist:
            return [f"File {self.path} should not exist but does"]
        errors = []
        if self.permissions is not None and entry.permissions != self.permissions:
            errors.append(
                f"{self.path} has incorrect permissions. Expected: {self.permissions}, "
                f"Actual: {entry.permissions}"
            )
        if self.uid is not None and entry.uid != self.uid:
            errors.append(
                f"{self.path} has incorrect user ownership. Expected: {self.uid}, Actual: {entry.uid}"
            )
        if self.gid is not None and entry.gid != self.gid:
            errors.append(
                f"{self.path} has incorrect group ownership. Expected: {self.gid}, Actual: {entry.gid}"
            )
        if self.executable_by is not None:
            mask = {"any": 0o111, "owner": 0o100, "group": 0o010, "other": 0o001}[self.executable_by]
            if not entry.mode & mask:
                errors.append(
                    f"{self.path} has incorrect executable bit. Expected: executable by "
                    f"{self.executable_by}, Actual: {entry.permissions}"
                )
        return errors


@dataclass(frozen=True)
class FileContentCheck:
    kind: ClassVar[str] = "fileContentTests"
    required: ClassVar[tuple[str, ...]] = ("name", "path")
    keys: ClassVar[frozenset[str]] = frozenset({"name", "path", "expectedContents", "excludedContents"})
    needs_commands: ClassVar[bool] = False
    name: str
    path: str
    expected: tuple[str, ...] = ()
    excluded: tuple[str, ...] = ()

    @classmethod
    def parse(cls, raw: Mapping[str, Any], where: str) -> FileContentCheck:
        return cls(
            str(raw["name"]),
            str(raw["path"]),
            _strings(raw.get("expectedContents", []), f"{where}.expectedContents"),
            _strings(raw.get("excludedContents", []), f"{where}.excludedContents"),
        )

    def check(self, source: Source) -> list[str]:
        if source.stat(self.path) is None:
            return [f"File {self.path} should exist but does not"]
        text = source.read(self.path).decode("utf-8", errors="replace")
        return _search_all(self.expected, text, True, "contents") + _search_all(
            self.excluded, text, False, "contents"
        )


@dataclass(frozen=True)
class MetadataCheck:
    kind: ClassVar[str] = "metadataTest"
    keys: ClassVar[frozenset[str]] = frozenset(
        {"env", "labels", "exposedPorts", "unexposedPorts", "entrypoint", "cmd", "workdir", "user"}
    )
    needs_commands: ClassVar[bool] = False
    name: str = "Metadata Test"
    env: tuple[tuple[str, str, bool], ...] = ()
    labels: tuple[tuple[str, str, bool], ...] = ()
    exposed_ports: tuple[str, ...] = ()
    unexposed_ports: tuple[str, ...] = ()
    entrypoint: tuple[str, ...] | None = None
    cmd: tuple[str, ...] | None = None
    workdir: str | None = None
    user: str | None = None

    @classmethod
    def parse(cls, raw: Mapping[str, Any], where: str) -> MetadataCheck:
        def opt_list(key: str) -> tuple[str, ...] | None:
            return None if raw.get(key) is None else _strings(raw[key], f"{where}.{key}")

        return cls(
            env=_pairs(raw.get("env", []), f"{where}.env"),
            labels=_pairs(raw.get("labels", []), f"{where}.labels"),
            exposed_ports=_strings(raw.get("exposedPorts", []), f"{where}.exposedPorts"),
            unexposed_ports=_strings(raw.get("unexposedPorts", []), f"{where}.unexposedPorts"),
            entrypoint=opt_list("entrypoint"),
            cmd=opt_list("cmd"),
            workdir=None if raw.get("workdir") is None else str(raw["workdir"]),
            user=None if raw.get("user") is None else str(raw["user"]),
        )

    @staticmethod
    def _port(text: str) -> str:
        return text if "/" in text else f"{text}/tcp"

    def _pairs_errors(
        self, what: str, wanted: Sequence[tuple[str, str, bool]], have: Mapping[str, str]
    ) -> list[str]:
        errors = []
        for key, value, is_regex in wanted:
            if key not in have:
                errors.append(f"{what} {key} not found. Expected: {key}={value}, Actual: not set")
                continue
            ok = re.fullmatch(value, have[key]) is not None if is_regex else have[key] == value
            if not ok:
                errors.append(f"{what} {key} has the wrong value. Expected: {value}, Actual: {have[key]}")
        return errors

    def check(self, source: Source) -> list[str]:
        image = source.metadata()
        errors = self._pairs_errors("Env var", self.env, image.env_map)
        errors += self._pairs_errors("Label", self.labels, image.labels)
        ports = set(image.exposed_ports)
        errors += [
            f"Port {p} not found in config. Expected: exposed, Actual: {sorted(ports)}"
            for p in map(self._port, self.exposed_ports)
            if p not in ports
        ]
        errors += [
            f"Port {p} should not be exposed. Expected: not exposed, Actual: {sorted(ports)}"
            for p in map(self._port, self.unexposed_ports)
            if p in ports
        ]
        for what, wanted, actual in (
            ("Image entrypoint", self.entrypoint, image.entrypoint),
            ("Image cmd", self.cmd, image.cmd),
        ):
            if wanted is not None and tuple(wanted) != tuple(actual):
                errors.append(f"{what} does not match. Expected: {list(wanted)}, Actual: {list(actual)}")
        for what, wanted_s, actual_s in (
            ("workdir", self.workdir, image.workdir),
            ("user", self.user, image.user),
        ):
            if wanted_s is not None and wanted_s != actual_s:
                errors.append(f"Image {what} does not match. Expected: {wanted_s!r}, Actual: {actual_s!r}")
        return errors


@dataclass(frozen=True)
class CommandCheck:
    kind: ClassVar[str] = "commandTests"
    required: ClassVar[tuple[str, ...]] = ("name", "command")
    keys: ClassVar[frozenset[str]] = frozenset(
        {
            "name",
            "command",
            "args",
            "envVars",
            "expectedOutput",
            "excludedOutput",
            "expectedError",
            "excludedError",
            "exitCode",
        }
    )
    needs_commands: ClassVar[bool] = True
    name: str
    command: tuple[str, ...]
    env: tuple[tuple[str, str, bool], ...] = ()
    expected_output: tuple[str, ...] = ()
    excluded_output: tuple[str, ...] = ()
    expected_error: tuple[str, ...] = ()
    excluded_error: tuple[str, ...] = ()
    exit_code: int = 0

    @classmethod
    def parse(cls, raw: Mapping[str, Any], where: str) -> CommandCheck:
        command = (str(raw["command"]), *_strings(raw.get("args", []), f"{where}.args"))
        lists = {
            k: _strings(raw.get(k, []), f"{where}.{k}")
            for k in ("expectedOutput", "excludedOutput", "expectedError", "excludedError")
        }
        return cls(
            str(raw["name"]),
            command,
            _pairs(raw.get("envVars", []), f"{where}.envVars"),
            expected_output=lists["expectedOutput"],
            excluded_output=lists["excludedOutput"],
            expected_error=lists["expectedError"],
            excluded_error=lists["excludedError"],
            exit_code=int(raw.get("exitCode", 0)),
        )

    def check(self, source: Source, global_env: Mapping[str, str] | None = None) -> list[str]:
        env = {**(global_env or {}), **{k: v for k, v, _ in self.env}}
        out = source.run(self.command, env)
        if out.timed_out:
            return [f"Command {list(self.command)} timed out"]
        errors = []
        if out.rc != self.exit_code:
            errors.append(
                f"Test '{self.name}' exited with incorrect error code. Expected: {self.exit_code}, "
                f"Actual: {out.rc} (stderr: {out.stderr.strip()[:300]!r})"
            )
        errors += _search_all(self.expected_output, out.stdout, True, "output")
        errors += _search_all(self.excluded_output, out.stdout, False, "output")
        errors += _search_all(self.expected_error, out.stderr, True, "error")
        errors += _search_all(self.excluded_error, out.stderr, False, "error")
        return errors


Check = FileExistenceCheck | FileContentCheck | MetadataCheck | CommandCheck | BinaryCheck
#: The kinds that stand in the YAML as lists of checks (``metadataTest`` is one mapping).
LIST_KINDS: tuple[type[FileExistenceCheck | FileContentCheck | CommandCheck | BinaryCheck], ...] = (
    FileExistenceCheck,
    FileContentCheck,
    CommandCheck,
    BinaryCheck,
)
_TOP_KEYS = frozenset({"schemaVersion", "globalEnvVars", MetadataCheck.kind, *(k.kind for k in LIST_KINDS)})


# ---------------------------------------------------------------- YAML with line numbers


class _Mapping(dict[str, Any]):
    line = 0


class _LineLoader(yaml.SafeLoader):
    pass


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> _Mapping:
    mapping = _Mapping({str(k): v for k, v in loader.construct_mapping(node, deep=True).items()})
    mapping.line = node.start_mark.line + 1
    return mapping


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


# ---------------------------------------------------------------- spec and results


@dataclass(frozen=True)
class CheckResult:
    platform: str
    kind: str
    name: str
    errors: tuple[str, ...]
    skipped: str = ""  # why the check did not run (never a silent pass)

    @property
    def passed(self) -> bool:
        return not self.errors and not self.skipped


@dataclass(frozen=True)
class StructureReport:
    image: Path
    results: tuple[CheckResult, ...]

    @property
    def failures(self) -> tuple[CheckResult, ...]:
        return tuple(r for r in self.results if r.errors)

    @property
    def ok(self) -> bool:
        return not self.failures

    def lines(self) -> list[str]:
        return [f"[{r.platform}] {r.kind} '{r.name}': {error}" for r in self.failures for error in r.errors]

    def assert_ok(self) -> None:
        """Raise one AssertionError listing every mismatch on every platform."""
        __tracebackhide__ = True
        if not self.ok:
            raise AssertionError(
                f"{self.image}: {len(self.lines())} structure mismatch(es):\n" + "\n".join(self.lines())
            )


@dataclass(frozen=True)
class StructureSpec:
    """A parsed container-structure-test v2 spec."""

    path: Path
    checks: tuple[Check, ...]
    global_env: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path) -> StructureSpec:
        """Parse and validate ``path``; errors name the file, line and key."""
        try:
            raw = yaml.load(path.read_text(), Loader=_LineLoader)  # a SafeLoader subclass
        except yaml.YAMLError as exc:
            raise UsageError(f"{path}: not valid YAML: {exc}") from exc
        except OSError as exc:
            raise UsageError(f"{path}: cannot read the structure spec ({exc.strerror})") from exc
        return cls.from_mapping(raw, path)

    @classmethod
    def from_mapping(cls, raw: Any, path: Path) -> StructureSpec:
        if not isinstance(raw, dict):
            raise UsageError(f"{path}: a structure spec is a YAML mapping")
        if str(raw.get("schemaVersion", "")) != "2.0.0":
            raise UsageError(
                f'{path}: schemaVersion must be "2.0.0" (got {raw.get("schemaVersion")!r})',
                hint="container-structure-test v2 specs start with schemaVersion: 2.0.0",
            )
        _check_keys(raw, _TOP_KEYS, path, "the top level")
        checks: list[Check] = []
        for kind in LIST_KINDS:
            items = raw.get(kind.kind) or []
            if not isinstance(items, list):
                raise UsageError(f"{path}: {kind.kind} must be a list")
            for number, item in enumerate(items):
                where = f"{kind.kind}[{number}]"
                if not isinstance(item, dict):
                    raise UsageError(f"{path}: {where} must be a mapping")
                _check_keys(item, kind.keys, path, where)
                for key in kind.required:
                    if key not in item:
                        raise UsageError(f"{path}:{getattr(item, 'line', '?')}: {where} has no {key!r}")
                checks.append(_at(path, item, kind.parse, where))
        if raw.get("metadataTest"):
            meta = raw["metadataTest"]
            _check_keys(meta, MetadataCheck.keys, path, "metadataTest")
            checks.append(_at(path, meta, MetadataCheck.parse, "metadataTest"))
        global_env = {k: v for k, v, _ in _pairs(raw.get("globalEnvVars", []), "globalEnvVars")}
        return cls(path, tuple(checks), global_env)

    @property
    def needs_commands(self) -> bool:
        return any(c.needs_commands for c in self.checks)

    def run_on(self, platform: str, layout: Source, container: Source | None) -> list[CheckResult]:
        """Run every check against the right source for one platform (the one generic loop)."""
        results = []
        for item in self.checks:
            if item.needs_commands and container is None:
                results.append(
                    CheckResult(
                        platform,
                        item.kind,
                        item.name,
                        (),
                        "not run: command tests need Docker (run_commands=False or no daemon)",
                    )
                )
                continue
            source = container if item.needs_commands and container is not None else layout
            try:
                errors = (
                    item.check(source, self.global_env)
                    if isinstance(item, CommandCheck)
                    else item.check(source)
                )
            except InspectError as exc:
                errors = [str(exc).splitlines()[0]]
            results.append(CheckResult(platform, item.kind, item.name, tuple(errors)))
        return results

    def check(
        self,
        image: Path,
        *,
        platforms: Sequence[str] | None = None,
        run_commands: bool = True,
        allow_unsafe_entries: bool = False,
        limits: InspectLimits = DEFAULT_LIMITS,
    ) -> StructureReport:
        """Apply the spec to every platform of ``image`` (an OCI layout, layout tarball or docker-archive).

        Layer entries unsafe to extract (absolute or ``..`` paths, hard links out of the layer,
        device nodes) fail the report as a ``layerSafety`` check unless ``allow_unsafe_entries``.
        """
        info = inspect_image(image, limits=limits)
        selected = [info.platform(p) for p in platforms] if platforms else list(info.platforms)
        if run_commands and self.needs_commands:
            reason = docker_available()
            if reason:
                raise InspectError(
                    f"{self.path}: command tests need Docker: {reason}",
                    hint="or pass run_commands=False to run only file and metadata tests",
                )
        results: list[CheckResult] = []
        for image_ in selected:
            layout = LayoutSource(info, image_)
            with ExitStack() as stack:
                container = None
                if run_commands and self.needs_commands:
                    container = ContainerSource(layout, stack.enter_context(_load(info, image_)))
                if not allow_unsafe_entries:
                    results.append(_layer_safety(image_))
                results += self.run_on(image_.platform, layout, container)
        return StructureReport(Path(image), tuple(results))


def _layer_safety(image: PlatformImage) -> CheckResult:
    """The built-in check every spec runs: no layer entry may escape the root or be a device."""
    return CheckResult(image.platform, "layerSafety", "no unsafe layer entries", image.findings)


def _check_keys(raw: Mapping[str, Any], valid: frozenset[str], path: Path, where: str) -> None:
    unknown = sorted(set(raw) - valid)
    if unknown:
        raise UsageError(
            f"{path}:{getattr(raw, 'line', '?')}: unknown key {unknown[0]!r} in {where}",
            hint=f"valid keys: {', '.join(sorted(valid))}",
        )


def _at(
    path: Path, raw: Mapping[str, Any], parse: Callable[[Mapping[str, Any], str], Check], where: str
) -> Check:
    try:
        return parse(raw, where)
    except UsageError as exc:
        raise UsageError(f"{path}:{getattr(raw, 'line', '?')}: {exc.message}", hint=exc.hint) from exc
    except (TypeError, ValueError) as exc:
        raise UsageError(f"{path}:{getattr(raw, 'line', '?')}: invalid value ({exc})") from exc


def _load(info: ImageInfo, image: PlatformImage) -> AbstractContextManager[LoadedImage]:
    platform = Platform.parse(f"{image.os}/{image.architecture}")
    if info.format != "oci-dir":
        raise InspectError(
            f"{info.path}: command tests load images from an OCI layout directory",
            hint="unpack the tarball into a directory first",
        )
    # unique per load: parallel workers checking the same index must not remove each other's tag
    ref = f"pytest-rules-rust/structure:{info.short_tag}-{platform.arch}-{uuid.uuid4().hex[:8]}"
    return loaded(info.path, platform, ref)
