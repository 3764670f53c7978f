"""Each check's session on the dispatcher: the single writer of its live state.

A probe result arrives as ``Event(check_id, "result", result)``; the session feeds the check's
alert state machine, records the result and whatever the machine decided through the message
bus, and publishes the new status. Sessions follow the live check set: ``sync()`` starts
sessions for new checks, hands changed checks to theirs and retires the rest; ``tick()`` wakes
machines whose timers are due.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType

from nyxmon.agent.alerting import AlertContext
from nyxmon.agent.feed import StatusFeed
from nyxmon.domain.alerting import Decision
from nyxmon.domain.model import Check, Result
from nyxmon.domain.status import CheckStatus
from nyxmon.runtime import Dispatcher, Event, Session
from nyxmon.service_layer.messagebus import MessageBus
from nyxmon.service_layer.messages import RecordAlertChanges, RecordResult

__all__ = ["CheckSession", "CheckSessions"]


class CheckSession(Session):
    """Live state of one check; every event for it runs here, on the dispatcher thread."""

    def __init__(self, check: Check, owner: CheckSessions) -> None:
        super().__init__(check.id)
        self.check = check
        self._owner = owner
        self.machine = owner.alerts.machine_for(check)

    def on_start(self) -> None:
        self.state = "active"
        owner = self._owner
        owner.sessions[self.check.id] = self
        status = owner.statuses.get(self.check.id) or CheckStatus(self.check.id)
        owner.statuses[self.check.id] = status.with_alert(
            self.machine.state.value, self.machine.since
        )
        now = owner.alerts.clock()
        if self.check.paused or not self.check.enabled:
            self._apply(self.machine.pause(now), now, "paused")
        else:
            self.tick(now)  # maintenance may have begun while the agent was down

    def on_event(self, event: Event) -> None:
        kind = event.kind
        if kind == "result":
            self._on_result(event.payload)
        elif kind == "check":
            self._on_check(event.payload)
        elif kind == "retire":
            owner = self._owner
            owner.statuses.pop(self.check.id, None)
            owner.sessions.pop(self.check.id, None)
            self.finish()

    def tick(self, now: float) -> None:
        alerts = self._owner.alerts
        decision = self.machine.on_tick(now, in_maintenance=alerts.in_maintenance(self.check, now))
        self._apply(decision, now, "timer")

    def _on_result(self, result: Result) -> None:
        owner = self._owner
        alerts = owner.alerts
        now = alerts.clock()
        decision = self.machine.on_result(
            result, now, in_maintenance=alerts.in_maintenance(self.check, now)
        )
        status = owner.statuses[self.check.id].after(
            result, decision.state.value, self.machine.since
        )
        owner.statuses[self.check.id] = status
        owner.bus.handle(RecordResult(result))
        alerts.record(self.check, self.machine, decision, now, result.message)
        owner.feed.publish(status)

    def _on_check(self, check: Check) -> None:
        old, self.check = self.check, check
        alerts = self._owner.alerts
        now = alerts.clock()
        if check.alert != old.alert or check.interval != old.interval:
            self.machine.update_policy(alerts.policy_for(check), check.interval)
        was_active, active = old.enabled and not old.paused, check.enabled and not check.paused
        if was_active and not active:
            self._apply(self.machine.pause(now), now, "paused")
        elif active and not was_active:
            self._apply(self.machine.resume(now), now, "resumed")

    def _apply(self, decision: Decision, now: float, why: str) -> None:
        owner = self._owner
        owner.alerts.record(self.check, self.machine, decision, now, why)
        if decision.changed:
            status = owner.statuses[self.check.id].with_alert(
                decision.state.value, self.machine.since
            )
            owner.statuses[self.check.id] = status
            owner.feed.publish(status)


class CheckSessions:
    """The set of check sessions; its methods run on the dispatcher thread."""

    def __init__(
        self, dispatcher: Dispatcher, bus: MessageBus, feed: StatusFeed, alerts: AlertContext
    ) -> None:
        self.dispatcher = dispatcher
        self.bus = bus
        self.feed = feed
        self.alerts = alerts
        self.statuses: dict[str, CheckStatus] = {}
        self.sessions: dict[str, CheckSession] = {}
        self._checks: dict[str, Check] = {}

    def sync(self, checks: Iterable[Check]) -> None:
        wanted = {check.id: check for check in checks}
        for check_id in list(self._checks):
            if check_id not in wanted:
                del self._checks[check_id]
                self.dispatcher.post(Event(check_id, "retire"))
        for check_id, check in wanted.items():
            known = self._checks.get(check_id)
            if known is None:
                self.dispatcher.enqueue_child(CheckSession(check, self))
            elif known != check:
                self.dispatcher.post(Event(check_id, "check", check))
            self._checks[check_id] = check

    def refresh_policies(self) -> None:
        """The default policy changed (config reload): every machine takes its new policy."""
        for session in self.sessions.values():
            session.machine.update_policy(
                self.alerts.policy_for(session.check), session.check.interval
            )

    def tick(self, now: float | None = None) -> int:
        """Wake machines whose timers are due; save snapshots that changed quietly."""
        now = self.alerts.clock() if now is None else now
        due = self.alerts.due(now, {cid: s.check for cid, s in self.sessions.items()})
        for check_id in due:
            session = self.sessions.get(check_id)
            if session is not None:
                session.tick(now)
        self._save(self.alerts.dirty_snapshots(now), now)
        return len(due)

    def save_quiet(self, limit: int = 500) -> int:
        """Save up to ``limit`` machines that changed quietly since their last save, however
        recently (at shutdown); returns how many it took (0: none left). In slices, so stopping
        an agent with thousands of checks does not build every snapshot at once."""
        now = self.alerts.clock()
        return self._save(self.alerts.dirty_snapshots(now, force=True, limit=limit), now)

    def _save(self, check_ids: Iterable[str], now: float) -> int:
        """Save the machines of ``check_ids``; returns how many ids were taken (a check removed
        meanwhile counts, so a caller looping until 0 never stops early)."""
        taken = list(check_ids)
        dirty = [self.sessions[cid] for cid in taken if cid in self.sessions]
        if dirty:
            self.bus.handle(
                RecordAlertChanges(
                    states=tuple(self.alerts.state_row(s.check.id, s.machine, now) for s in dirty)
                )
            )
        return len(taken)

    def snapshot(self) -> Mapping[str, CheckStatus]:
        """A copy of every status (call on the dispatcher thread, e.g. via ``submit``)."""
        return MappingProxyType(dict(self.statuses))
