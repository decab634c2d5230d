"""Read the Build Event Protocol stream Bazel writes with ``--build_event_json_file``.

Outputs come from ``targetCompleted`` events, whose output groups point at ``namedSetOfFiles``
events (which may nest further sets), never from globbing ``bazel-bin``. The reader tolerates what
real streams contain: sets announced before or after the targets that claim them, proto3's habit of
omitting false/zero fields (a failed target has no ``success`` key), and a truncated last line when
Bazel was killed mid-write.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from ..errors import BuildError


@dataclass(frozen=True)
class BepFile:
    name: str  # path relative to the output directory named by path_prefix
    uri: str
    path_prefix: tuple[str, ...] = ()
    digest: str | None = None
    length: int | None = None

    @property
    def relative_path(self) -> str:
        """Path relative to the execution root, e.g. ``bazel-out/k8-fastbuild/bin/pkg/tool``."""
        return "/".join((*self.path_prefix, self.name))

    def local_path(self, path_map: Mapping[str, Path] | None = None) -> Path:
        """The file on this machine: its ``file://`` URI, with container prefixes mapped to host paths."""
        parsed = urlparse(self.uri)
        if parsed.scheme != "file":
            raise BuildError(
                f"output {self.name} is not a local file (URI {self.uri})",
                hint="remote builds with --remote_download_minimal keep outputs remote: add "
                "--remote_download_outputs=toplevel to --rr-bazel-arg",
            )
        path = unquote(parsed.path)
        for prefix, host in sorted((path_map or {}).items(), key=lambda kv: -len(kv[0])):
            if path == prefix or path.startswith(prefix.rstrip("/") + "/"):
                return host / path[len(prefix) :].lstrip("/")
        return Path(path)


@dataclass(frozen=True)
class TargetOutcome:
    label: str
    success: bool
    output_groups: dict[str, tuple[BepFile, ...]] = field(default_factory=dict)
    failure: str = ""

    @property
    def files(self) -> tuple[BepFile, ...]:
        """The ``default`` output group: what ``bazel build`` reports for the target."""
        return self.output_groups.get("default", ())


@dataclass(frozen=True)
class BepSummary:
    tool_version: str | None
    command: str | None
    finished: bool
    success: bool
    exit_name: str | None
    exit_code: int | None
    targets: dict[str, TargetOutcome]
    unresolved_sets: tuple[str, ...] = ()
    skipped_lines: int = 0

    def target(self, label: str) -> TargetOutcome:
        try:
            return self.targets[label]
        except KeyError:
            have = ", ".join(sorted(self.targets)) or "none"
            raise BuildError(
                f"the build event stream has no completed target {label} (completed: {have})"
            ) from None

    @property
    def failed_targets(self) -> list[TargetOutcome]:
        return [t for t in self.targets.values() if not t.success]


def _file(raw: Mapping[str, Any]) -> BepFile:
    length = raw.get("length")
    return BepFile(
        name=str(raw.get("name", "")),
        uri=str(raw.get("uri", "")),
        path_prefix=tuple(raw.get("pathPrefix", ())),
        digest=raw.get("digest"),
        length=int(length) if length is not None else None,
    )


def parse_events(lines: Iterable[str]) -> tuple[list[dict[str, Any]], int]:
    """JSON events, one per line; undecodable lines (a truncated tail) are counted, not fatal."""
    events: list[dict[str, Any]] = []
    skipped = 0
    for line in lines:
        line = line.strip()
        if not line:
            continue
        try:
            event = json.loads(line)
        except json.JSONDecodeError:
            skipped += 1
            continue
        if isinstance(event, dict):
            events.append(event)
    return events, skipped


def summarize(events: list[dict[str, Any]], skipped_lines: int = 0) -> BepSummary:
    sets: dict[str, tuple[list[BepFile], list[str]]] = {}
    completions: list[tuple[str, dict[str, Any] | None, dict[str, Any] | None]] = []
    tool_version = command = exit_name = None
    exit_code: int | None = None
    finished = success = False
    for event in events:
        ident = event.get("id", {})
        if "namedSet" in ident:
            body = event.get("namedSetOfFiles", {})
            sets[str(ident["namedSet"]["id"])] = (
                [_file(f) for f in body.get("files", ())],
                [str(s["id"]) for s in body.get("fileSets", ())],
            )
        elif "targetCompleted" in ident:
            completions.append(
                (ident["targetCompleted"]["label"], event.get("completed"), event.get("aborted"))
            )
        elif "started" in ident:
            started = event.get("started", {})
            tool_version, command = started.get("buildToolVersion"), started.get("command")
        elif "buildFinished" in ident:
            fin = event.get("finished", {})
            finished = True
            success = bool(fin.get("overallSuccess", False))
            code = fin.get("exitCode", {})
            exit_name = code.get("name")
            exit_code = int(code.get("code", 0))  # proto3 omits 0 (SUCCESS)

    unresolved: set[str] = set()

    def resolve(set_ids: Iterable[str]) -> tuple[BepFile, ...]:
        out: list[BepFile] = []
        seen: set[str] = set()
        stack = list(set_ids)
        while stack:
            sid = stack.pop(0)
            if sid in seen:
                continue
            seen.add(sid)
            if sid not in sets:
                unresolved.add(sid)
                continue
            files, children = sets[sid]
            out.extend(files)
            stack.extend(children)
        return tuple(dict.fromkeys(out))

    targets: dict[str, TargetOutcome] = {}
    for label, completed, aborted in completions:
        if aborted is not None:
            reason = aborted.get("reason", "ABORTED")
            targets[label] = TargetOutcome(
                label, False, failure=f"{reason}: {aborted.get('description', '')}"
            )
            continue
        completed = completed or {}
        groups = {
            g.get("name", "default"): resolve(str(s["id"]) for s in g.get("fileSets", ()))
            for g in completed.get("outputGroup", ())
        }
        if not groups and completed.get("importantOutput"):
            groups["default"] = tuple(_file(f) for f in completed["importantOutput"])
        ok = bool(completed.get("success", False))
        failure = "" if ok else str(completed.get("failureDetail", {}).get("message", "target failed"))
        targets[label] = TargetOutcome(label, ok, groups, failure)
    return BepSummary(
        tool_version,
        command,
        finished,
        success,
        exit_name,
        exit_code,
        targets,
        tuple(sorted(unresolved)),
        skipped_lines,
    )


def read_bep(path: Path) -> BepSummary:
    """Summarise a ``--build_event_json_file``; a missing file is a ``BuildError`` naming it."""
    try:
        text = path.read_text(errors="replace")
    except FileNotFoundError:
        raise BuildError(
            f"Bazel wrote no build event file at {path}",
            hint="Bazel stopped before the build started; read the build log",
        ) from None
    events, skipped = parse_events(text.splitlines())
    return summarize(events, skipped)
