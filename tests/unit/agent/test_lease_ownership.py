"""Which checks the application runs when several agents share a store: only those this
agent holds leases on (each check's machine has one writer), a check gained resumes from the
snapshot its previous owner saved, a check given up is saved before its lease may be freed,
and a check lost is dropped unsaved. Without leases (one agent on SQLite) it runs them all."""

from __future__ import annotations

from collections.abc import Sequence
from types import MappingProxyType

import pytest

from nyxmon.domain.model import Check, Outcome, Result
from nyxmon.service_layer.application import Application
from nyxmon.service_layer.messages import AlertSettings, RecordResults, SetLeases, SyncChecks
from nyxmon.service_layer.ports import BatchDone, OpDone
from nyxmon.service_layer.records.alerts import OutboxEntry
from nyxmon.service_layer.records.batches import WriteBatch, WriteReceipt
from nyxmon.service_layer.unit_of_work import WriteOp

T0 = 1_750_000_000.0


class Writer:
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


class Probes:
    def __init__(self) -> None:
        self.scheduled: tuple[str, ...] = ()
        self.calls: list[tuple[str, ...]] = []

    def set_checks(self, checks: tuple[Check, ...]) -> None:
        self.scheduled = tuple(sorted(c.id for c in checks))
        self.calls.append(("schedule", *self.scheduled))

    def run_after(self, check_id: str, delay: float) -> None:
        self.calls.append(("run", check_id, str(delay)))


class Sent:
    def deliver(self, entries: Sequence[OutboxEntry]) -> None:
        pass


def check(check_id: str) -> Check:
    service, _, name = check_id.partition(".")
    return Check(check_id, service, name, "http", 5.0, 1.0, MappingProxyType({"url": "http://x/"}))


CHECKS = (check("web.a"), check("web.b"), check("web.c"))


def failed(check_id: str, at: float) -> Result:
    return Result(check_id, at, at, 0.01, Outcome.FAIL, "503")


@pytest.fixture
def parts() -> tuple[Application, Writer, Probes]:
    writer, probes = Writer(), Probes()
    app = Application(
        writer=writer,
        deliveries=Sent(),
        probes=probes,
        publish=lambda status: None,
        settings=AlertSettings(),
        clock=lambda: T0,
    )
    return app, writer, probes


def test_one_agent_on_its_store_runs_every_check(parts: tuple[Application, Writer, Probes]) -> None:
    app, _writer, probes = parts
    app.handle(SyncChecks(CHECKS))
    assert probes.scheduled == ("web.a", "web.b", "web.c")


def test_an_agent_among_several_runs_only_the_checks_it_holds(
    parts: tuple[Application, Writer, Probes],
) -> None:
    app, _writer, probes = parts
    app.handle(SetLeases(frozenset()))
    app.handle(SyncChecks(CHECKS))
    assert probes.scheduled == ()
    assert not app.deps.live
    app.handle(SetLeases(frozenset({"web.a", "web.c"})))
    assert probes.scheduled == ("web.a", "web.c")
    assert set(app.deps.live) == {"web.a", "web.c"}
    app.handle(SyncChecks((*CHECKS, check("web.d"))))  # a new check waits for a lease
    assert probes.scheduled == ("web.a", "web.c")


def test_a_check_given_up_is_saved_before_its_lease_is_freed_and_resumes_elsewhere(
    parts: tuple[Application, Writer, Probes],
) -> None:
    app, writer, probes = parts
    app.handle(SetLeases(frozenset({"web.a", "web.b"})))
    app.handle(SyncChecks(CHECKS))
    for n in range(5):  # web.a goes DOWN
        app.handle(RecordResults([failed("web.a", T0 + n)]))
    app.end_of_batch()
    writer.commit()
    assert app.statuses()["web.a"].alert_state == "down"

    freed: list[str] = []
    app.handle(
        SetLeases(frozenset({"web.b"}), save_released=True, on_saved=lambda: freed.append("a"))
    )
    assert probes.scheduled == ("web.b",)
    assert "web.a" not in app.deps.live
    app.end_of_batch()
    assert not freed  # not before the snapshot is committed
    writer.commit()
    assert freed == ["a"]
    (saved,) = [row for row in writer.batches[-1].states if row.check_id == "web.a"]
    assert saved.state == "down"

    # Another agent (here: a fresh application) gains web.a with that snapshot: still DOWN.
    other_writer, other_probes = Writer(), Probes()
    other = Application(
        writer=other_writer,
        deliveries=Sent(),
        probes=other_probes,
        publish=lambda status: None,
        settings=AlertSettings(),
        clock=lambda: T0,
    )
    other.handle(SetLeases(frozenset()))
    other.handle(SyncChecks(CHECKS))
    other.handle(SetLeases(frozenset({"web.a"}), {"web.a": saved}))
    assert other_probes.scheduled == ("web.a",)
    assert other.statuses()["web.a"].alert_state == "down"


def test_a_check_lost_stops_at_once_and_is_not_saved(
    parts: tuple[Application, Writer, Probes],
) -> None:
    app, writer, probes = parts
    app.handle(SetLeases(frozenset({"web.a"})))
    app.handle(SyncChecks(CHECKS))
    app.handle(RecordResults([failed("web.a", T0)]))
    app.end_of_batch()
    writer.commit()
    app.handle(SetLeases(frozenset()))
    assert probes.scheduled == ()
    app.end_of_batch()
    writer.commit()
    assert all(row.check_id != "web.a" for b in writer.batches[1:] for row in b.states)


def test_checks_taken_from_a_dead_agent_run_once_at_once_after_being_scheduled(
    parts: tuple[Application, Writer, Probes],
) -> None:
    app, _writer, probes = parts
    app.handle(SetLeases(frozenset()))
    app.handle(SyncChecks(CHECKS))
    probes.calls.clear()
    app.handle(SetLeases(frozenset({"web.a", "web.b"}), run_now=frozenset({"web.b"})))
    assert probes.calls == [("schedule", "web.a", "web.b"), ("run", "web.b", "0.0")]
