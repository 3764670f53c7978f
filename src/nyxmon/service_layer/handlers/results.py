"""Results in, decisions out: the use cases of a check's state machine.

The path of one result (README, "How it is built"): a probe task hands it to the intake, which
sends a batch as :class:`~nyxmon.service_layer.messages.RecordResults`; :func:`record_results`
lets the check's machine decide, stages the result with the state row, transition and
outbox rows the decision asks for, and publishes the new status; the batch leaves for the
store writer when the dispatcher round ends, as one transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from nyxmon.domain.alerting import Decision
from nyxmon.domain.model import Result
from nyxmon.service_layer.alerting import CheckState
from nyxmon.service_layer.dependencies import Dependencies
from nyxmon.service_layer.messages import RecordResults, RestoreStates, SaveQuietStates, Tick
from nyxmon.service_layer.unit_of_work import UnitOfWork

__all__ = [
    "apply_decision",
    "record_results",
    "restore_states",
    "save_quiet_states",
    "stage_results",
    "tick",
]

log = logging.getLogger(__name__)


def record_results(command: RecordResults, uow: UnitOfWork, deps: Dependencies) -> None:
    """Each result goes to its check's machine; everything is staged for the next batch."""
    with uow:
        stage_results(deps, uow, command.results)
        uow.commit()


def stage_results(deps: Dependencies, uow: UnitOfWork, results: Iterable[Result]) -> None:
    """Each result to its check's machine and staged with what the decision asks for, inside
    the caller's unit of work: probe results (:func:`record_results`) and pings alike."""
    live = deps.live
    alerting = deps.alerting
    publish = deps.publish
    counters = deps.counters
    staged = uow.results
    now = alerting.clock()
    windows = alerting.settings.windows
    for result in results:
        counters.results += 1
        staged.append(result)
        state = live.get(result.check_id)
        if state is None:  # removed while its probe ran; the writer drops its result
            counters.results_of_unknown_checks += 1
            continue
        try:
            machine = state.machine
            decision = machine.on_result(
                result,
                now,
                in_maintenance=bool(windows) and alerting.in_maintenance(state.check, now),
            )
            state.status = state.status.after(result, decision.state.value, machine.since)
            alerting.decided(state, decision, now, result.message, uow)
        except Exception:  # one bad result must not lose the others of the batch
            counters.handler_errors += 1
            log.exception("applying a result of check %r failed", result.check_id)
            continue
        publish(state.status)


def apply_decision(
    state: CheckState, decision: Decision, now: float, why: str, uow: UnitOfWork, deps: Dependencies
) -> None:
    """Stage a decision taken without a result (timer, pause, resume) and publish a change."""
    deps.alerting.decided(state, decision, now, why, uow)
    if decision.changed:
        state.status = state.status.with_alert(decision.state.value, state.machine.since)
        deps.publish(state.status)


def tick(command: Tick, uow: UnitOfWork, deps: Dependencies) -> int:
    """Wake machines whose timers are due; save snapshots that changed quietly. Returns how
    many machines were woken."""
    alerting = deps.alerting
    now = alerting.clock() if command.now is None else command.now
    with uow:
        due = alerting.due(now, deps.live)
        for check_id in due:
            state = deps.live.get(check_id)
            if state is not None:
                in_maintenance = alerting.in_maintenance(state.check, now)
                decision = state.machine.on_tick(now, in_maintenance=in_maintenance)
                apply_decision(state, decision, now, "timer", uow, deps)
        _save_states(alerting.quiet_snapshots(now), now, uow, deps)
        uow.commit()
    return len(due)


def save_quiet_states(command: SaveQuietStates, uow: UnitOfWork, deps: Dependencies) -> int:
    """Save up to ``limit`` quietly changed snapshots however recent; 0 when none are left."""
    now = deps.alerting.clock()
    with uow:
        taken = _save_states(
            deps.alerting.quiet_snapshots(now, force=True, limit=command.limit), now, uow, deps
        )
        uow.commit()
    return taken


def restore_states(command: RestoreStates, uow: UnitOfWork, deps: Dependencies) -> None:
    deps.alerting.restore(command.states)


def _save_states(check_ids: Iterable[str], now: float, uow: UnitOfWork, deps: Dependencies) -> int:
    """Stage the snapshots of ``check_ids``; returns how many ids were taken (a check removed
    meanwhile counts, so a caller looping until 0 never stops early)."""
    taken = list(check_ids)
    for check_id in taken:
        state = deps.live.get(check_id)
        if state is not None:
            uow.states.append(deps.alerting.state_row(check_id, state.machine, now))
    return len(taken)
