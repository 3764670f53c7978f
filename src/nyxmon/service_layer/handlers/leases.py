"""Running the checks this agent owns: the catalog filtered by its leases.

With several agents on one store a check's machine lives on the agent that holds its lease
and nowhere else. :func:`follow_catalog` turns every change of the store's checks into the
set this agent runs; :func:`set_leases` follows a change of leases: checks gained get a
machine resumed from the snapshot their previous owner saved, checks given up are saved and
then dropped, checks lost (another agent owns them now) are dropped at once, unsaved; checks
taken over from a dead agent run once at once (:func:`run_taken_over`). Leases are named by
keys (:mod:`nyxmon.service_layer.ownership`): a check's state lease, or its probe lease at a
location, whose view resumes from the stored one.
"""

from __future__ import annotations

from nyxmon.service_layer.dependencies import Dependencies
from nyxmon.service_layer.messages import (
    CatalogChanged,
    ChecksChanged,
    ChecksTakenOver,
    SetLeases,
)
from nyxmon.service_layer.ownership import split_key
from nyxmon.service_layer.unit_of_work import UnitOfWork

__all__ = ["checks_changed", "follow_catalog", "run_taken_over", "set_leases"]


def follow_catalog(event: CatalogChanged, uow: UnitOfWork, deps: Dependencies) -> None:
    deps.ownership.follow(event.checks)
    uow.emit(checks_changed(deps))


def checks_changed(deps: Dependencies) -> ChecksChanged:
    """What this agent runs now: machines for its state leases, probes for what it probes."""
    ownership = deps.ownership
    return ChecksChanged(ownership.mine(), ownership.probed() if ownership.shared else None)


def set_leases(command: SetLeases, uow: UnitOfWork, deps: Dependencies) -> None:
    ownership = deps.ownership
    alerting = deps.alerting
    before = set(deps.live) if ownership.owned is None else ownership.owned
    released = [key for key in before if key not in command.owned]
    # A state lease's key is the check id; a probe lease's names its location too.
    released_states = [cid for cid, loc in map(split_key, released) if loc is None]
    ownership.owned = command.owned
    alerting.restore_some(command.states)
    deps.views.restore_some(command.views)
    if command.agent_id is not None:
        deps.views.agent_id = command.agent_id
    now = alerting.clock()
    saved = 0
    with uow:
        if command.save_released:
            for check_id in released_states:
                state = deps.live.get(check_id)
                if state is not None:
                    uow.states.append(alerting.state_row(check_id, state.machine, now))
                    saved += 1
        if command.on_saved is not None and saved:
            uow.acks.append(command.on_saved)  # called once the batch holding them committed
        uow.commit()
    if command.on_saved is not None and not saved:
        command.on_saved()  # nothing to save (a probe lease's view is saved with each result)
    for check_id in released_states:
        alerting.forget(check_id)
    deps.views.forget_fed(released_states)
    changed = checks_changed(deps)
    uow.emit(changed)
    if command.run_now:
        probed = changed.probed or {}
        run = {split_key(key)[0] for key in command.run_now & command.owned}
        uow.emit(ChecksTakenOver(frozenset(cid for cid in run if cid in probed)))


def run_taken_over(event: ChecksTakenOver, uow: UnitOfWork, deps: Dependencies) -> None:
    """A dead agent's checks missed runs while their leases ran out: run each once now."""
    for check_id in sorted(event.check_ids):
        deps.probes.run_after(check_id, 0.0)
