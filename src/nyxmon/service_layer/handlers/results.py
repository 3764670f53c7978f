"""Results in, decisions out: the use cases of a check's state machine.

The path of one result (README, "How it is built"): a probe task hands it to the intake, which
sends a batch as :class:`~nyxmon.service_layer.messages.RecordResults`; :func:`record_results`
lets the check's machine decide, stages the result with the state row, transition and
outbox rows the decision asks for, and publishes the new status; the batch leaves for the
store writer when the dispatcher round ends, as one transaction.

A check probed from several locations takes another path (:mod:`nyxmon.domain.locations`):
its result goes to the view of the location it was probed from (:func:`_observe_view`), and
the agent holding its state feeds its machine the combined verdict (:func:`combine_views`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from nyxmon.domain.alerting import Decision
from nyxmon.domain.locations import (
    LocationView,
    combine,
    combined_result,
    observe,
    stale_after,
)
from nyxmon.domain.model import Result
from nyxmon.service_layer.alerting import CheckState
from nyxmon.service_layer.dependencies import Dependencies
from nyxmon.service_layer.messages import (
    CombineViews,
    RecordResults,
    RestoreStates,
    SaveQuietStates,
    Tick,
)
from nyxmon.service_layer.stored_status import stored_status
from nyxmon.service_layer.unit_of_work import UnitOfWork

__all__ = [
    "apply_decision",
    "combine_views",
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
    kept_views = deps.views.kept
    combines = deps.ownership.combines
    for result in results:
        counters.results += 1
        staged.append(result)
        view = kept_views.get(result.check_id)
        if view is not None:  # probed here for one of its locations: that location's view
            _observe_view(deps, uow, view, result)
            continue
        state = live.get(result.check_id)
        if state is None:  # removed while its probe ran; the writer drops its result
            counters.results_of_unknown_checks += 1
            continue
        if combines(state.check):  # a late result of a location this agent no longer probes
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


def _observe_view(deps: Dependencies, uow: UnitOfWork, view: LocationView, result: Result) -> None:
    """A result of a check probed here for its location: the view follows it (the check's
    own thresholds and retries), staged with the result; the combiner does the rest."""
    check = deps.views.checks[result.check_id]
    policy = deps.alerting.policy_for(check)
    try:
        after, retry = observe(view, result, policy, agent_id=deps.views.agent_id)
    except Exception:  # one bad result must not lose the others of the batch
        deps.counters.handler_errors += 1
        log.exception("applying a result of check %r to its view failed", result.check_id)
        return
    deps.views.kept[result.check_id] = after
    uow.views.append(after)
    if retry:
        deps.probes.run_after(check.id, policy.retry_interval or check.interval)


def combine_views(command: CombineViews, uow: UnitOfWork, deps: Dependencies) -> int:
    """Feed each located check whose machine runs here its locations' combined verdict, when
    it tells something new; returns how many machines were fed."""
    alerting = deps.alerting
    now = alerting.clock() if command.now is None else command.now
    fed = 0
    with uow:
        for check_id, views in command.views.items():
            state = deps.live.get(check_id)
            if state is None or not deps.ownership.combines(state.check):
                continue
            check = state.check
            combined = combine(
                views,
                check.locations,
                check.quorum_needed,
                now=now,
                stale_limit=stale_after(check.interval, command.lease_seconds),
            )
            if not deps.views.is_news(check_id, combined):
                continue
            result = combined_result(check_id, combined, now)
            if result is None:
                continue
            try:
                in_maintenance = bool(alerting.settings.windows) and alerting.in_maintenance(
                    check, now
                )
                decision = state.machine.on_result(result, now, in_maintenance=in_maintenance)
                alerting.decided(state, decision, now, combined.message, uow)
            except Exception:
                deps.counters.handler_errors += 1
                log.exception("combining the views of check %r failed", check_id)
                continue
            fed += 1
            # News for whoever follows the check (its page lists the locations' views). Its
            # status is the one every reader of the store rebuilds: the state and the newest
            # result of any location, so every page, API and CLI says the same.
            row = alerting.state_row(check_id, state.machine, now)
            status = stored_status(check_id, row, command.latest.get(check_id))
            if status is not None:
                state.status = status
                deps.publish(status)
        uow.commit()
    return fed


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
