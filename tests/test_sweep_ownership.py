"""What the sweep does with resources made by hand in the real engine, one per kind of owner.

Each resource carries owner labels written here (not by the harness), so every case the sweep
must tell apart exists for real: this machine's dead or reused pid (removed), a live owner,
another machine, another boot, another pid namespace (left alone), and missing or malformed
labels (reported, left alone).
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import docker.errors
import pytest
from containers_helpers import dead_owner
from docker.models.networks import Network

from pytest_rules_rust.containers import Engine, sweep_leftovers
from pytest_rules_rust.containers.ownership import (
    LABEL_HOST,
    LABEL_MACHINE,
    LABEL_PID,
    LABEL_SESSION,
    Owner,
    Verdict,
    booted_at,
    judge,
    owner_labels,
    this_process,
)

pytestmark = pytest.mark.container


@pytest.fixture
def session() -> str:
    return f"sweep-test-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def made(engine: Engine) -> Iterator[list[Any]]:
    """Resources created by a test; removed afterwards whatever the sweep did."""
    items: list[Any] = []
    yield items
    for item in items:
        with contextlib.suppress(docker.errors.NotFound):
            item.remove(**({} if isinstance(item, Network) else {"force": True}))


def _labels(session: str, owner: Owner | None = None, **override: str) -> dict[str, str]:
    labels = owner_labels(owner) | {LABEL_SESSION: session}
    for key, value in override.items():
        if value == "":
            labels.pop(key, None)
        else:
            labels[key] = value
    return labels


def _exists(item: Any) -> bool:
    try:
        item.reload()
    except docker.errors.NotFound:
        return False
    return True


def test_sweep_removes_only_what_provably_has_no_owner(
    engine: Engine, bb: str, session: str, made: list[Any]
) -> None:
    me = this_process()
    dead = dead_owner()
    cases = {
        # name: (labels, removed?)
        "dead pid": (_labels(session, dead), True),
        "reused pid": (_labels(session, replace(me, started=me.started + 1)), True),
        "live owner": (_labels(session, me), False),
        "other machine": (_labels(session, replace(dead, machine="0" * 32)), False),
        "other boot, created now": (_labels(session, replace(dead, boot=str(uuid.uuid4()))), False),
        "other pid namespace": (_labels(session, replace(dead, pidns="1")), False),
        "pid not a number": (_labels(session, dead, **{LABEL_PID: "12abc"}), False),
        "no machine label": (_labels(session, dead, **{LABEL_MACHINE: ""}), False),
        "old style (host + pid only)": (
            {LABEL_SESSION: session, LABEL_PID: str(dead.pid), LABEL_HOST: "vm"},
            False,
        ),
    }
    containers = {}
    for name, (labels, _) in cases.items():
        containers[name] = engine.client.containers.create(bb, ["true"], labels=labels)
        made.append(containers[name])
    network = engine.client.networks.create(f"{session}-net", labels=_labels(session, dead))
    volume = engine.client.volumes.create(f"{session}-vol", labels=_labels(session, dead))
    bad_volume = engine.client.volumes.create(
        f"{session}-badvol", labels=_labels(session, dead, **{LABEL_PID: "-1"})
    )
    made += [network, volume, bad_volume]

    report = sweep_leftovers(engine)

    outcome = {name: not _exists(c) for name, c in containers.items()}
    assert outcome == {name: removed for name, (_, removed) in cases.items()}
    assert not _exists(network) and not _exists(volume) and _exists(bad_volume)
    # Why (judged again from the labels: another sweeper on this machine may have been quicker).
    assert judge(cases["dead pid"][0]) == (Verdict.GONE, f"pid {dead.pid} is not running")
    assert judge(cases["reused pid"][0])[1] == f"pid {me.pid} now belongs to a process started later"
    unowned = "\n".join(report.unowned)
    for name in ("pid not a number", "no machine label", "old style (host + pid only)"):
        assert f"container {containers[name].name}:" in unowned
    assert f"volume {session}-badvol: malformed pid '-1'" in unowned
    assert report.foreign >= 3 and report.live >= 1
    assert "missing or malformed owner labels alone" in report.notice()


def test_an_earlier_boot_of_this_machine_is_gone_only_if_it_predates_this_boot() -> None:
    labels = owner_labels(replace(this_process(), boot=str(uuid.uuid4())))
    assert judge(labels, created=booted_at() - 3600)[0] is Verdict.GONE
    assert judge(labels, created=booted_at() + 1)[0] is Verdict.FOREIGN
    assert judge(labels, created=None)[0] is Verdict.FOREIGN
