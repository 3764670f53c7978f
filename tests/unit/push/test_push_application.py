"""Push checks through the application with an injected clock and in-memory ports: a ping is
acknowledged only after its batch committed, and the deadline handler decides DOWN exactly at
deadline plus grace, not a moment before."""

from __future__ import annotations

from collections.abc import Sequence
from types import MappingProxyType

import pytest

from nyxmon.domain.alerting.types import Route
from nyxmon.domain.model import Check, Outcome
from nyxmon.domain.push import Ping, PingKind
from nyxmon.errors import PingHeldElsewhereError, PingKeyNotFoundError
from nyxmon.runtime import OneShot
from nyxmon.service_layer.application import Application
from nyxmon.service_layer.messages import (
    AlertSettings,
    PushDeadline,
    RecordPing,
    SetLeases,
    SyncChecks,
)
from nyxmon.service_layer.ports import BatchDone, OpDone
from nyxmon.service_layer.records.alerts import OutboxEntry
from nyxmon.service_layer.records.batches import WriteBatch, WriteReceipt
from nyxmon.service_layer.unit_of_work import WriteOp

T0 = 1_750_000_000.0


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now


class Writer:
    """Holds each batch until :meth:`commit` (as a slow disk would)."""

    def __init__(self) -> None:
        self.pending: list[tuple[WriteBatch, BatchDone]] = []
        self.batches: list[WriteBatch] = []

    def write(self, batch: WriteBatch, done: BatchDone) -> None:
        self.pending.append((batch, done))

    def run(self, op: WriteOp, done: OpDone) -> None:
        raise AssertionError("no store operation expected")

    def commit(self) -> None:
        while self.pending:
            batch, done = self.pending.pop(0)
            self.batches.append(batch)
            done(WriteReceipt(outbox_ids=tuple(range(len(batch.outbox)))), 0.001, None)


class Timers:
    def __init__(self) -> None:
        self.armed: dict[str, float] = {}

    def arm(self, check_id: str, at: float) -> None:
        self.armed[check_id] = at

    def disarm(self, check_id: str) -> None:
        self.armed.pop(check_id, None)


class Sent:
    def __init__(self) -> None:
        self.entries: list[OutboxEntry] = []

    def deliver(self, entries: Sequence[OutboxEntry]) -> None:
        self.entries.extend(entries)


class NoProbes:
    def __init__(self) -> None:
        self.scheduled: tuple[Check, ...] = ()

    def set_checks(self, checks: tuple[Check, ...]) -> None:
        self.scheduled = checks

    def run_after(self, check_id: str, delay: float) -> None:
        raise AssertionError("a push check is never re-run")


PUSH = Check(
    "jobs.backup",
    "Jobs",
    "backup",
    "push",
    interval=60.0,
    timeout=30.0,
    params=MappingProxyType({"token": "k3y", "grace": 10.0}),
)
HTTP = Check("web.home", "Web", "home", "http", 5.0, 1.0, MappingProxyType({"url": "http://x/"}))


@pytest.fixture
def parts() -> tuple[Application, Writer, Timers, Sent, Clock, NoProbes]:
    writer, timers, sent, clock, probes = Writer(), Timers(), Sent(), Clock(), NoProbes()
    app = Application(
        writer=writer,
        deliveries=sent,
        probes=probes,
        publish=lambda status: None,
        settings=AlertSettings(
            routes=(Route("hook", "webhook", webhook_url="http://h/", default=True),)
        ),
        deadlines=timers,
        clock=clock,
    )
    app.handle(SyncChecks((PUSH, HTTP)))
    app.end_of_batch()
    writer.commit()
    return app, writer, timers, sent, clock, probes


def test_push_checks_are_not_scheduled_for_probing_but_armed(parts: tuple) -> None:  # type: ignore[type-arg]
    _app, _writer, timers, _sent, _clock, probes = parts
    assert [c.id for c in probes.scheduled] == ["web.home"]
    assert timers.armed == {"jobs.backup": T0 + 70}


def test_a_ping_is_acknowledged_only_once_its_batch_committed(parts: tuple) -> None:  # type: ignore[type-arg]
    app, writer, timers, _sent, clock, _probes = parts
    clock.now = T0 + 30
    reply = app.handle(RecordPing(Ping("k3y", PingKind.SUCCESS, T0 + 30)))
    assert isinstance(reply, OneShot)
    app.end_of_batch()
    assert not reply.done()
    writer.commit()
    assert reply.wait(0) == "jobs.backup"
    assert writer.batches[-1].results[0].details["ping"] == "success"
    assert timers.armed["jobs.backup"] == T0 + 30 + 60 + 10


def test_a_failed_write_keeps_the_ping_unacknowledged_until_a_retry_commits(parts: tuple) -> None:  # type: ignore[type-arg]
    app, writer, _timers, _sent, clock, _probes = parts
    reply = app.handle(RecordPing(Ping("k3y", PingKind.SUCCESS, T0 + 1)))
    app.end_of_batch()
    _batch, done = writer.pending.pop()
    done(None, 0.001, OSError("disk full"))
    assert not reply.done()
    clock.now += 60  # past the backoff
    app.end_of_batch()
    writer.commit()
    assert reply.wait(0) == "jobs.backup"


def test_an_unknown_key_is_refused_and_nothing_is_staged(parts: tuple) -> None:  # type: ignore[type-arg]
    app, _writer, _timers, _sent, _clock, _probes = parts
    with pytest.raises(PingKeyNotFoundError):
        app.handle(RecordPing(Ping("nope", PingKind.SUCCESS, T0)))
    assert app.idle


def test_down_exactly_at_deadline_plus_grace(parts: tuple) -> None:  # type: ignore[type-arg]
    app, writer, timers, sent, clock, _probes = parts
    deadline = timers.armed["jobs.backup"]
    clock.now = deadline - 0.001  # a timer that fired a hair early changes nothing
    assert app.handle(PushDeadline("jobs.backup", deadline)) == 0
    assert app.statuses()["jobs.backup"].alert_state != "down"
    assert timers.armed["jobs.backup"] == deadline
    clock.now = deadline
    assert app.handle(PushDeadline("jobs.backup", deadline)) == 1
    status = app.statuses()["jobs.backup"]
    assert (status.alert_state, status.last_outcome) == ("down", Outcome.TIMEOUT)
    app.end_of_batch()
    writer.commit()
    (down,) = sent.entries
    assert down.notice.kind.value == "down"
    assert down.notice.at == deadline
    assert timers.armed["jobs.backup"] == deadline + 60


def test_one_ping_brings_a_down_push_check_up(parts: tuple) -> None:  # type: ignore[type-arg]
    app, _writer, _timers, _sent, clock, _probes = parts
    clock.now = T0 + 70
    app.handle(PushDeadline("jobs.backup", T0 + 70))
    clock.now = T0 + 80
    app.handle(RecordPing(Ping("k3y", PingKind.SUCCESS, T0 + 80)))
    assert app.statuses()["jobs.backup"].alert_state == "up"


def test_a_key_held_by_another_agent_asks_for_a_retry_and_an_unknown_one_is_not_found(
    parts: tuple,  # type: ignore[type-arg]
) -> None:
    app, _writer, _timers, _sent, _clock, _probes = parts
    other = Check(
        "jobs.report", "Jobs", "report", "push", 60.0, 30.0, MappingProxyType({"token": "k4y"})
    )
    app.handle(SetLeases(frozenset({"jobs.backup", "web.home"})))
    app.handle(SyncChecks((PUSH, HTTP, other)))  # jobs.report: another agent's lease
    app.end_of_batch()
    with pytest.raises(PingHeldElsewhereError):
        app.handle(RecordPing(Ping("k4y", PingKind.SUCCESS, T0)))
    with pytest.raises(PingKeyNotFoundError):
        app.handle(RecordPing(Ping("nope", PingKind.SUCCESS, T0)))
    reply = app.handle(RecordPing(Ping("k3y", PingKind.SUCCESS, T0)))  # held here: recorded
    assert isinstance(reply, OneShot)
