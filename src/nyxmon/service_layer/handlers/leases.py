"""Running the checks this agent owns: the catalog filtered by its leases.

With several agents on one store a check's machine lives on the agent that holds its lease
and nowhere else. :func:`follow_catalog` turns every change of the store's checks into the
set this agent runs; :func:`set_leases` follows a change of leases: checks gained get a
machine resumed from the snapshot their previous owner saved, checks given up are saved and
then dropped, checks lost (another agent owns them now) are dropped at once, unsaved; checks
taken over from a dead agent run once at once (:func:`run_taken_over`).
"""

from __future__ import annotations

from nyxmon.service_layer.dependencies import Dependencies
from nyxmon.service_layer.messages import (
    CatalogChanged,
    ChecksChanged,
    ChecksTakenOver,
    SetLeases,
)
from nyxmon.service_layer.unit_of_work import UnitOfWork

__all__ = ["follow_catalog", "run_taken_over", "set_leases"]


def follow_catalog(event: CatalogChanged, uow: UnitOfWork, deps: Dependencies) -> None:
    uow.emit(ChecksChanged(deps.ownership.follow(event.checks)))


def set_leases(command: SetLeases, uow: UnitOfWork, deps: Dependencies) -> None:
    ownership = deps.ownership
    alerting = deps.alerting
    before = set(deps.live) if ownership.owned is None else ownership.owned
    released = [cid for cid in before if cid not in command.owned]
    ownership.owned = command.owned
    alerting.restore_some(command.states)
    now = alerting.clock()
    saved = 0
    with uow:
        if command.save_released:
            for check_id in released:
                state = deps.live.get(check_id)
                if state is not None:
                    uow.states.append(alerting.state_row(check_id, state.machine, now))
                    saved += 1
        if command.on_saved is not None and saved:
            uow.acks.append(command.on_saved)  # called once the batch holding them committed
        uow.commit()
    if command.on_saved is not None and not saved:
        command.on_saved()  # nothing to save: free at once
    for check_id in released:
        alerting.forget(check_id)
    uow.emit(ChecksChanged(ownership.mine()))
    if command.run_now:
        uow.emit(ChecksTakenOver(command.run_now & command.owned))


def run_taken_over(event: ChecksTakenOver, uow: UnitOfWork, deps: Dependencies) -> None:
    """A dead agent's checks missed runs while their leases ran out: run each once now."""
    for check_id in sorted(event.check_ids):
        if check_id in deps.live:
            deps.probes.run_after(check_id, 0.0)
