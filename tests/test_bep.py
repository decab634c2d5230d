"""The BEP reader on a stream recorded by a real Bazel (tests/data/bep, see ATTRIBUTION.md)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from pytest_rules_rust.builders.bazel import collect_artifacts
from pytest_rules_rust.builders.bep import BepFile, parse_events, read_bep, summarize
from pytest_rules_rust.errors import BuildError

RECORDED = Path(__file__).parent / "data" / "bep" / "bazel-7.1.2-test-go.excerpt.jsonl"
RECORDED_BASE = "/home/admlocal/.cache/bazel/_bazel_admlocal/8840dffcb55c00344648fd909b7a6f6c"
GENINTER = "//go/cmd/geninter:geninter_test"
ALFRED = "//go/pkg/alfred:alfred_test"


def test_recorded_stream_summary() -> None:
    summary = read_bep(RECORDED)
    assert summary.tool_version == "7.1.2"
    assert summary.command == "test"
    assert summary.finished and summary.success
    assert (summary.exit_name, summary.exit_code) == ("SUCCESS", 0)  # proto3 omits code 0
    assert set(summary.targets) == {GENINTER, ALFRED}
    assert summary.failed_targets == []
    assert summary.unresolved_sets == ()
    assert summary.skipped_lines == 0


def test_outputs_come_from_named_sets() -> None:
    (geninter,) = read_bep(RECORDED).target(GENINTER).files
    assert geninter.relative_path == "bazel-out/k8-fastbuild/bin/go/cmd/geninter/geninter_test_/geninter_test"
    assert geninter.length == 4735236
    assert geninter.digest == "3b54c83f746e97e7d600cf949116bc28e7c4586ddad9f422eed592cf7adcf8de"
    assert geninter.local_path() == Path(RECORDED_BASE + "/execroot/_main/" + geninter.relative_path)


def test_sets_announced_before_the_target_and_unclaimed_sets() -> None:
    events, _ = parse_events(RECORDED.read_text().splitlines())
    # Named sets 22 and 23 precede their targets in the recording; set 24 is never claimed.
    order = [next(iter(e["id"])) for e in events]
    assert order.index("namedSet") < order.index("targetCompleted")
    assert sum(1 for e in events if "namedSet" in e["id"]) == 3
    assert len(read_bep(RECORDED).targets) == 2


def test_target_listed_before_its_set_is_still_resolved() -> None:
    events, _ = parse_events(RECORDED.read_text().splitlines())
    sets = [e for e in events if "namedSet" in e["id"]]
    rest = [e for e in events if "namedSet" not in e["id"]]
    summary = summarize(rest + sets)  # same events, sets last
    assert summary.target(ALFRED).files[0].name == "go/pkg/alfred/alfred_test_/alfred_test"


def test_truncated_stream_is_read_as_unfinished(tmp_path: Path) -> None:
    text = RECORDED.read_text()
    cut = tmp_path / "bep.json"
    cut.write_text(text[: text.rindex('{"id":{"buildFinished"') + 40])  # Bazel killed mid-write
    summary = read_bep(cut)
    assert not summary.finished and not summary.success
    assert summary.skipped_lines == 1
    assert summary.exit_code is None
    assert set(summary.targets) == {GENINTER, ALFRED}


def test_missing_set_is_reported() -> None:
    events, _ = parse_events(RECORDED.read_text().splitlines())
    summary = summarize([e for e in events if e["id"].get("namedSet", {}).get("id") != "22"])
    assert summary.unresolved_sets == ("22",)
    assert summary.target(ALFRED).files == ()


def test_unknown_target_names_what_completed() -> None:
    with pytest.raises(BuildError, match=r"no completed target //nope:x \(completed: //go/cmd/geninter"):
        read_bep(RECORDED).target("//nope:x")


def test_missing_stream_file(tmp_path: Path) -> None:
    with pytest.raises(BuildError, match="Bazel wrote no build event file"):
        read_bep(tmp_path / "bep.json")


def test_container_paths_map_to_host_paths(tmp_path: Path) -> None:
    (f,) = read_bep(RECORDED).target(ALFRED).files
    mapped = f.local_path({RECORDED_BASE: tmp_path / "ob", "/home": tmp_path / "wrong"})
    assert mapped == tmp_path / "ob" / "execroot/_main" / f.relative_path  # longest prefix wins


def test_remote_only_outputs_are_a_clear_error() -> None:
    remote = BepFile(name="pkg/tool", uri="bytestream://cache.example/blobs/aaa/12")
    with pytest.raises(BuildError) as info:
        remote.local_path()
    assert "--remote_download_outputs=toplevel" in info.value.hint


def test_collect_artifacts_copies_default_outputs(tmp_path: Path) -> None:
    summary = read_bep(RECORDED)
    base = tmp_path / "output_base"
    for target in (GENINTER, ALFRED):
        (f,) = summary.target(target).files
        src = base / "execroot/_main" / f.relative_path
        src.parent.mkdir(parents=True)
        shutil.copy("/bin/true", src)
    out = tmp_path / "out"
    artifacts = collect_artifacts(summary, [GENINTER, ALFRED], {RECORDED_BASE: base}, out)
    assert [(a.target, a.kind) for a in artifacts] == [(GENINTER, "binary"), (ALFRED, "binary")]
    assert artifacts[1].path == (out / "go/pkg/alfred/alfred_test_/alfred_test").resolve()
    assert artifacts[1].path.read_bytes() == Path("/bin/true").read_bytes()


def test_collect_artifacts_reports_a_missing_output(tmp_path: Path) -> None:
    with pytest.raises(BuildError, match="geninter_test_/geninter_test is not at"):
        collect_artifacts(read_bep(RECORDED), [GENINTER], {RECORDED_BASE: tmp_path}, tmp_path / "out")
