"""What every check's alert state machine shares on the dispatcher thread.

The routes, maintenance windows and default policy of the config; the snapshots saved by the
last run, so each machine resumes where it was; the timers that wake machines with no result
to react to (reminders, escalation, maintenance starting or ending); and the translation of a
machine's decision into rows: its state snapshot, the transition, and one outbox row per notice
and route, all handed to the message bus so they commit with the batch's results.
"""

from __future__ import annotations

import heapq
import json
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from nyxmon.domain.alerting import (
    AlertMachine,
    AlertPolicy,
    Decision,
    MachineSnapshot,
    MaintenanceWindow,
    Route,
    apply_overrides,
)
from nyxmon.domain.model import Check
from nyxmon.errors import AlertingError
from nyxmon.notify import CheckInfo, encode_payload, notification_key, routes_for
from nyxmon.service_layer.messagebus import MessageBus
from nyxmon.service_layer.messages import RecordAlertChanges
from nyxmon.service_layer.records.alerts import OutboxRow, StateRow, Transition

__all__ = ["AlertContext", "AlertSettings"]

log = logging.getLogger(__name__)

SNAPSHOT_EVERY = 30.0  # seconds a machine that changed without a notice may wait to be saved
# Quiet snapshots saved per tick at most: with thousands of checks, saving them all at once
# held the dispatcher (and the GIL) for 300 ms and stalled probe starts (bench/agent_throughput).
SNAPSHOT_BATCH = 250


@dataclass(frozen=True, slots=True)
class AlertSettings:
    """The alerting part of the config, swapped as a whole on reload."""

    routes: tuple[Route, ...] = ()
    windows: tuple[MaintenanceWindow, ...] = ()
    default_policy: AlertPolicy = field(default_factory=AlertPolicy)


class AlertContext:
    """Shared by the check sessions; used only on the dispatcher thread."""

    def __init__(
        self,
        bus: MessageBus,
        settings: AlertSettings,
        *,
        retry: Callable[[str, float], None],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.bus = bus
        self.settings = settings
        self.clock = clock
        self._retry = retry
        self.saved: dict[str, StateRow] = {}
        self._ticks: list[tuple[float, str]] = []
        self._tick_at: dict[str, float] = {}
        # Check id -> when it first changed since its last save; insertion order is that time.
        self._dirty: dict[str, float] = {}
        self._active_windows: frozenset[int] = frozenset()
        self.notices = 0
        self.unrouted = 0

    # -- machines -------------------------------------------------------------------------------
    def policy_for(self, check: Check) -> AlertPolicy:
        try:
            return apply_overrides(self.settings.default_policy, check.alert)
        except (AlertingError, ValueError) as exc:
            log.error("check %r: invalid alert overrides (%s); using the defaults", check.id, exc)
            return self.settings.default_policy

    def machine_for(self, check: Check) -> AlertMachine:
        """A machine for ``check``, resumed from its saved snapshot when there is a valid one."""
        policy = self.policy_for(check)
        saved = self.saved.pop(check.id, None)
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
    def record(
        self, check: Check, machine: AlertMachine, decision: Decision, now: float, why: str
    ) -> None:
        """Turn ``decision`` into rows for the batch, a retry and a timer as it asks."""
        if decision.changed or decision.notices:
            transitions: tuple[Transition, ...] = ()
            if decision.changed:
                transitions = (
                    Transition(check.id, now, decision.previous.value, decision.state.value, why),
                )
            self._dirty.pop(check.id, None)
            self.bus.handle(
                RecordAlertChanges(
                    states=(self.state_row(check.id, machine, now),),
                    transitions=transitions,
                    outbox=self._outbox_rows(check, decision, now),
                )
            )
        else:
            self._dirty.setdefault(check.id, now)
        if decision.retry_in is not None:
            self._retry(check.id, decision.retry_in)
        if decision.next_tick is not None:
            self.schedule_tick(check.id, decision.next_tick)

    def state_row(self, check_id: str, machine: AlertMachine, now: float) -> StateRow:
        return StateRow(
            check_id, machine.state.value, machine.since, machine.snapshot().to_dict(), now
        )

    def _outbox_rows(self, check: Check, decision: Decision, now: float) -> tuple[OutboxRow, ...]:
        rows: list[OutboxRow] = []
        info = CheckInfo(check.id, check.name, check.service, check.labels)
        for notice in decision.notices:
            self.notices += 1
            routes = routes_for(
                notice, check.service, check.labels, self.settings.routes, check_name=check.name
            )
            if not routes:
                self.unrouted += 1
                log.info("%s notice for check %r matches no route", notice.kind, check.id)
            payload = json.loads(encode_payload(notice, info))
            for route in routes:
                rows.append(
                    OutboxRow(
                        key=notification_key(notice, route.name),
                        check_id=check.id,
                        route=route.name,
                        kind=notice.kind.value,
                        payload=payload,
                        created_at=now,
                        next_attempt_at=now,
                    )
                )
        return tuple(rows)

    # -- timers ---------------------------------------------------------------------------------
    def schedule_tick(self, check_id: str, at: float) -> None:
        current = self._tick_at.get(check_id)
        if current is None or at < current:
            self._tick_at[check_id] = at
            heapq.heappush(self._ticks, (at, check_id))

    def due(self, now: float, checks: Mapping[str, Check]) -> set[str]:
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
            due.update(cid for cid, c in checks.items() if any(w.applies_to(c) for w in changed))
        return due

    def dirty_snapshots(
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
