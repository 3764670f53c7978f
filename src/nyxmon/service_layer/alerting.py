"""What every check's alert state machine shares: settings, timers, and rows for decisions.

The routes, maintenance windows and default policy of the config; the snapshots saved by the
last run, so each machine resumes where it was; the timers that wake machines with no result
to react to (reminders, escalation, maintenance starting or ending); and the translation of a
machine's decision into staged rows: its state snapshot, the transition, and one outbox row
per notice and route. Used only on the dispatcher thread.
"""

from __future__ import annotations

import heapq
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace

from nyxmon.domain.alerting import AlertMachine, AlertPolicy, Decision, MachineSnapshot
from nyxmon.domain.alerting.notices import CheckInfo, notification_key
from nyxmon.domain.alerting.policy import apply_overrides
from nyxmon.domain.alerting.routing import routes_for
from nyxmon.domain.model import Check
from nyxmon.domain.push import PUSH_TYPE
from nyxmon.domain.status import CheckStatus
from nyxmon.errors import AlertingError
from nyxmon.service_layer.messages import AlertSettings
from nyxmon.service_layer.ports import ProbeControl
from nyxmon.service_layer.records.alerts import OutboxRow, StateRow, Transition
from nyxmon.service_layer.unit_of_work import UnitOfWork

__all__ = ["SNAPSHOT_BATCH", "SNAPSHOT_EVERY", "Alerting", "CheckState"]

log = logging.getLogger(__name__)

SNAPSHOT_EVERY = 30.0  # seconds a machine that changed without a notice may wait to be saved
# Quiet snapshots saved per tick at most: with thousands of checks, saving them all at once
# held the dispatcher (and the GIL) for 300 ms and stalled probe starts (bench/agent_throughput).
SNAPSHOT_BATCH = 250


class CheckState:
    """One live check as the application holds it: the check, its machine, its status."""

    __slots__ = ("check", "machine", "status")

    def __init__(self, check: Check, machine: AlertMachine, status: CheckStatus) -> None:
        self.check = check
        self.machine = machine
        self.status = status


class Alerting:
    """Policies, maintenance, timers and outbox rows for every check's machine."""

    def __init__(
        self,
        settings: AlertSettings,
        probes: ProbeControl,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self.clock = clock
        self._probes = probes
        self._saved: dict[str, StateRow] = {}
        self._ticks: list[tuple[float, str]] = []
        self._tick_at: dict[str, float] = {}
        # Check id -> when it first changed since its last save; insertion order is that time.
        self._dirty: dict[str, float] = {}
        self._active_windows: frozenset[int] = frozenset()
        self.notices = 0
        self.unrouted = 0

    # -- machines -------------------------------------------------------------------------------
    def restore(self, states: Mapping[str, StateRow]) -> None:
        """Snapshots saved by the last run; each is used once, by the check's first machine."""
        self._saved = dict(states)

    def restore_some(self, states: Mapping[str, StateRow]) -> None:
        """Fresher snapshots for some checks (their lease was just won from another agent):
        they replace what was read at start."""
        self._saved.update(states)

    def forget(self, check_id: str) -> None:
        """The check left this agent: its pending timers and unsaved changes go with it (the
        agent that runs it now has its own)."""
        self._dirty.pop(check_id, None)
        self._tick_at.pop(check_id, None)

    def policy_for(self, check: Check, *, combined: bool = False) -> AlertPolicy:
        """The default policy with the check's overrides. A push check's deadline already
        has its grace, so one missed deadline is DOWN and one ping UP again (Healthchecks'
        rule), unless the check overrides that too. A ``combined`` machine (fed its
        locations' combined verdict) counts each verdict once: every location applied the
        check's thresholds and retries to its own results already."""
        base = self.settings.default_policy
        if check.type == PUSH_TYPE:
            base = replace(base, failure_threshold=1, success_threshold=1, retries=0)
        try:
            policy = apply_overrides(base, check.alert)
        except (AlertingError, ValueError) as exc:
            log.error("check %r: invalid alert overrides (%s); using the defaults", check.id, exc)
            policy = base
        if combined:
            policy = replace(
                policy, failure_threshold=1, success_threshold=1, degraded_threshold=1, retries=0
            )
        return policy

    def machine_for(self, check: Check, *, combined: bool = False) -> AlertMachine:
        """A machine for ``check``, resumed from its saved snapshot when there is a valid one."""
        policy = self.policy_for(check, combined=combined)
        saved = self._saved.pop(check.id, None)
        if saved is not None:
            try:
                snapshot = MachineSnapshot.from_dict(saved.snapshot)
                return AlertMachine(check.id, policy, check.interval, snapshot=snapshot)
            except (AlertingError, ValueError) as exc:
                log.warning(
                    "check %r: saved alert state unusable (%s); starting afresh", check.id, exc
                )
        return AlertMachine(check.id, policy, check.interval)

    def in_maintenance(self, check: Check, now: float) -> bool:
        return any(w.applies_to(check) and w.active(now) for w in self.settings.windows)

    # -- decisions ------------------------------------------------------------------------------
    def decided(
        self, state: CheckState, decision: Decision, now: float, why: str, uow: UnitOfWork
    ) -> None:
        """Stage what ``decision`` means (state row, transition, notifications) and ask for
        the retry and the timer it wants."""
        check_id = state.check.id
        if decision.changed or decision.notices:
            if decision.changed:
                uow.transitions.append(
                    Transition(
                        check_id,
                        now,
                        decision.previous.value,
                        decision.state.value,
                        why,
                        since=state.machine.since,
                    )
                )
            self._dirty.pop(check_id, None)
            uow.states.append(self.state_row(check_id, state.machine, now))
            if decision.notices:
                uow.outbox.extend(self._outbox_rows(state.check, decision, now))
        else:
            self._dirty.setdefault(check_id, now)
        if decision.retry_in is not None:
            self._probes.run_after(check_id, decision.retry_in)
        if decision.next_tick is not None:
            self.schedule_tick(check_id, decision.next_tick)

    def state_row(self, check_id: str, machine: AlertMachine, now: float) -> StateRow:
        return StateRow(
            check_id, machine.state.value, machine.since, machine.snapshot().to_dict(), now
        )

    def _outbox_rows(self, check: Check, decision: Decision, now: float) -> list[OutboxRow]:
        rows: list[OutboxRow] = []
        labels = check.effective_labels
        info = CheckInfo(check.id, check.name, check.service, labels, group=check.group)
        for notice in decision.notices:
            self.notices += 1
            routes = routes_for(
                notice, check.service, labels, self.settings.routes, check_name=check.name
            )
            if not routes:
                self.unrouted += 1
                log.info("%s notice for check %r matches no route", notice.kind, check.id)
            for route in routes:
                key = notification_key(notice, route.name)
                rows.append(OutboxRow(key, route.name, notice, info, now))
        return rows

    # -- timers ---------------------------------------------------------------------------------
    def schedule_tick(self, check_id: str, at: float) -> None:
        current = self._tick_at.get(check_id)
        if current is None or at < current:
            self._tick_at[check_id] = at
            heapq.heappush(self._ticks, (at, check_id))

    def due(self, now: float, checks: Mapping[str, CheckState]) -> set[str]:
        """Checks whose machine must look at the clock now: a timer came due, or a
        maintenance window that applies to them started or ended."""
        due: set[str] = set()
        while self._ticks and self._ticks[0][0] <= now:
            at, check_id = heapq.heappop(self._ticks)
            if self._tick_at.get(check_id) == at:
                del self._tick_at[check_id]
                due.add(check_id)
        windows = self.settings.windows
        active = frozenset(i for i, w in enumerate(windows) if w.active(now))
        if active != self._active_windows:
            flipped = active ^ self._active_windows
            self._active_windows = active
            changed = [w for i, w in enumerate(windows) if i in flipped]
            due.update(
                cid for cid, s in checks.items() if any(w.applies_to(s.check) for w in changed)
            )
        return due

    def quiet_snapshots(
        self, now: float, force: bool = False, limit: int = SNAPSHOT_BATCH
    ) -> Iterable[str]:
        """Checks whose machine changed quietly ``SNAPSHOT_EVERY`` seconds ago or more (any
        time ago with ``force``), at most ``limit`` a call, oldest change first.

        Checks change at their own phases, so saves spread over time instead of coming in one
        burst; a backlog (all checks changed at start-up) drains over the following ticks."""
        due: list[str] = []
        for check_id, changed_at in self._dirty.items():
            if len(due) >= limit or (not force and changed_at + SNAPSHOT_EVERY > now):
                break
            due.append(check_id)
        for check_id in due:
            del self._dirty[check_id]
        return due
