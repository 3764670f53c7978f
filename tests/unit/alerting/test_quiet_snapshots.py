"""Machines that change without a notice are saved later, spread out, never all at once."""

from __future__ import annotations

from nyxmon.domain.alerting import AlertMachine, AlertPolicy
from nyxmon.domain.alerting.snapshot import MachineSnapshot
from nyxmon.domain.model import Check
from nyxmon.domain.status import CheckStatus
from nyxmon.service_layer.alerting import SNAPSHOT_BATCH, SNAPSHOT_EVERY, Alerting, CheckState
from nyxmon.service_layer.messages import AlertSettings
from nyxmon.service_layer.unit_of_work import UnitOfWork

from .helpers import START, result


class NoProbes:
    def set_checks(self, checks: tuple[Check, ...]) -> None:
        pass

    def run_after(self, check_id: str, delay: float) -> None:
        pass


def _check(n: int) -> Check:
    return Check(id=f"svc.c{n}", service="svc", name=f"c{n}", type="http", interval=60, timeout=5)


def _context() -> tuple[Alerting, UnitOfWork]:
    return Alerting(AlertSettings(), NoProbes()), UnitOfWork()


def _state(check: Check, machine: AlertMachine) -> CheckState:
    return CheckState(check, machine, CheckStatus(check.id))


def _quiet_change(context: Alerting, check: Check, machine: AlertMachine, at: float) -> None:
    """A passing result for a pending check: counters move, nobody is told."""
    decision = machine.on_result(result(at, check_id=check.id), at)
    assert not decision.changed
    assert not decision.notices
    uow = UnitOfWork()
    context.decided(_state(check, machine), decision, at, "ok", uow)
    assert uow.take_batch() is None  # nothing staged for a quiet change


def test_a_quiet_change_is_saved_after_snapshot_every_not_before() -> None:
    context, _ = _context()
    check = _check(0)
    machine = AlertMachine(check.id, AlertPolicy(success_threshold=5), 60)
    _quiet_change(context, check, machine, START)
    assert list(context.quiet_snapshots(START + SNAPSHOT_EVERY - 1)) == []
    assert list(context.quiet_snapshots(START + SNAPSHOT_EVERY)) == [check.id]
    assert list(context.quiet_snapshots(START + 10 * SNAPSHOT_EVERY)) == []  # saved once


def test_a_burst_of_quiet_changes_drains_in_batches_oldest_first() -> None:
    context, _ = _context()
    total = 2 * SNAPSHOT_BATCH + 10
    for n in range(total):
        check = _check(n)
        machine = AlertMachine(check.id, AlertPolicy(success_threshold=5), 60)
        _quiet_change(context, check, machine, START + n * 0.001)
    later = START + SNAPSHOT_EVERY + 1
    batches = [list(context.quiet_snapshots(later + tick)) for tick in range(4)]
    assert [len(b) for b in batches] == [SNAPSHOT_BATCH, SNAPSHOT_BATCH, 10, 0]
    assert [cid for b in batches for cid in b] == [f"svc.c{n}" for n in range(total)]


def test_force_takes_recent_changes_too_in_slices() -> None:
    context, _ = _context()
    for n in range(SNAPSHOT_BATCH + 1):
        check = _check(n)
        machine = AlertMachine(check.id, AlertPolicy(success_threshold=5), 60)
        _quiet_change(context, check, machine, START)
    assert list(context.quiet_snapshots(START + 1)) == []  # not due yet
    assert len(list(context.quiet_snapshots(START + 1, force=True))) == SNAPSHOT_BATCH
    assert list(context.quiet_snapshots(START + 1, force=True, limit=10)) == [
        f"svc.c{SNAPSHOT_BATCH}"
    ]
    assert list(context.quiet_snapshots(START + 100 * SNAPSHOT_EVERY, force=True)) == []


def test_a_change_with_a_notice_is_saved_at_once_and_leaves_the_quiet_queue() -> None:
    context, _ = _context()
    check = _check(0)
    machine = AlertMachine(check.id, AlertPolicy(success_threshold=2), 60)
    _quiet_change(context, check, machine, START)
    decision = machine.on_result(result(START + 60, check_id=check.id), START + 60)
    assert decision.changed  # pending -> up
    uow = UnitOfWork()
    context.decided(_state(check, machine), decision, START + 60, "ok", uow)
    batch = uow.take_batch()
    assert batch is not None
    (row,) = batch.states
    assert MachineSnapshot.from_dict(row.snapshot) == machine.snapshot()
    assert list(context.quiet_snapshots(START + 10 * SNAPSHOT_EVERY)) == []


def test_snapshot_to_dict_round_trips() -> None:
    machine = AlertMachine("svc.c0", AlertPolicy(), 60)
    for n in range(5):
        machine.on_result(result(START + n * 60, check_id="svc.c0"), START + n * 60)
    snapshot = machine.snapshot()
    data = snapshot.to_dict()
    assert MachineSnapshot.from_dict(data) == snapshot
    assert all(isinstance(v, (str, int, float, bool, list, type(None))) for v in data.values())
