"""Machines that change without a notice are saved later, spread out, never all at once."""

from __future__ import annotations

from typing import Any, cast

from nyxmon.agent.alerting import SNAPSHOT_BATCH, SNAPSHOT_EVERY, AlertContext, AlertSettings
from nyxmon.domain.alerting import AlertMachine, AlertPolicy
from nyxmon.domain.alerting.snapshot import MachineSnapshot
from nyxmon.domain.model import Check
from nyxmon.service_layer.messagebus import MessageBus
from nyxmon.service_layer.messages import RecordAlertChanges

from .helpers import START, result


class Bus:
    def __init__(self) -> None:
        self.handled: list[Any] = []

    def handle(self, message: Any) -> None:
        self.handled.append(message)


def _check(n: int) -> Check:
    return Check(id=f"svc.c{n}", service="svc", name=f"c{n}", type="http", interval=60, timeout=5)


def _context() -> tuple[AlertContext, Bus]:
    bus = Bus()
    context = AlertContext(cast(MessageBus, bus), AlertSettings(), retry=lambda _id, _delay: None)
    return context, bus


def _quiet_change(context: AlertContext, check: Check, machine: AlertMachine, at: float) -> None:
    """A passing result for a pending check: counters move, nobody is told."""
    decision = machine.on_result(result(at, check_id=check.id), at)
    assert not decision.changed
    assert not decision.notices
    context.record(check, machine, decision, at, "ok")


def test_a_quiet_change_is_saved_after_snapshot_every_not_before() -> None:
    context, bus = _context()
    check = _check(0)
    machine = AlertMachine(check.id, AlertPolicy(success_threshold=5), 60)
    _quiet_change(context, check, machine, START)
    assert list(context.dirty_snapshots(START + SNAPSHOT_EVERY - 1)) == []
    assert list(context.dirty_snapshots(START + SNAPSHOT_EVERY)) == [check.id]
    assert list(context.dirty_snapshots(START + 10 * SNAPSHOT_EVERY)) == []  # saved once
    assert bus.handled == []  # nothing went out for a quiet change


def test_a_burst_of_quiet_changes_drains_in_batches_oldest_first() -> None:
    context, _ = _context()
    total = 2 * SNAPSHOT_BATCH + 10
    for n in range(total):
        check = _check(n)
        machine = AlertMachine(check.id, AlertPolicy(success_threshold=5), 60)
        _quiet_change(context, check, machine, START + n * 0.001)
    later = START + SNAPSHOT_EVERY + 1
    batches = [list(context.dirty_snapshots(later + tick)) for tick in range(4)]
    assert [len(b) for b in batches] == [SNAPSHOT_BATCH, SNAPSHOT_BATCH, 10, 0]
    assert [cid for b in batches for cid in b] == [f"svc.c{n}" for n in range(total)]


def test_force_takes_recent_changes_too_in_slices() -> None:
    context, _ = _context()
    for n in range(SNAPSHOT_BATCH + 1):
        check = _check(n)
        machine = AlertMachine(check.id, AlertPolicy(success_threshold=5), 60)
        _quiet_change(context, check, machine, START)
    assert list(context.dirty_snapshots(START + 1)) == []  # not due yet
    assert len(list(context.dirty_snapshots(START + 1, force=True))) == SNAPSHOT_BATCH
    assert list(context.dirty_snapshots(START + 1, force=True, limit=10)) == [
        f"svc.c{SNAPSHOT_BATCH}"
    ]
    assert list(context.dirty_snapshots(START + 100 * SNAPSHOT_EVERY, force=True)) == []


def test_a_change_with_a_notice_is_saved_at_once_and_leaves_the_quiet_queue() -> None:
    context, bus = _context()
    check = _check(0)
    machine = AlertMachine(check.id, AlertPolicy(success_threshold=2), 60)
    _quiet_change(context, check, machine, START)
    decision = machine.on_result(result(START + 60, check_id=check.id), START + 60)
    assert decision.changed  # pending -> up
    context.record(check, machine, decision, START + 60, "ok")
    (message,) = bus.handled
    assert isinstance(message, RecordAlertChanges)
    (row,) = message.states
    assert MachineSnapshot.from_dict(row.snapshot) == machine.snapshot()
    assert list(context.dirty_snapshots(START + 10 * SNAPSHOT_EVERY)) == []


def test_snapshot_to_dict_round_trips() -> None:
    machine = AlertMachine("svc.c0", AlertPolicy(), 60)
    for n in range(5):
        machine.on_result(result(START + n * 60, check_id="svc.c0"), START + n * 60)
    snapshot = machine.snapshot()
    data = snapshot.to_dict()
    assert MachineSnapshot.from_dict(data) == snapshot
    assert all(isinstance(v, (str, int, float, bool, list, type(None))) for v in data.values())
