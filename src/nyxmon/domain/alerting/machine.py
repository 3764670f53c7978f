"""One check's alert state machine: results in, state and notices out (pure, clock passed in).

The machine keeps three things apart:

- the *verdict* of the thresholds (:mod:`.thresholds`): PENDING, UP, DEGRADED or DOWN from
  consecutive results. A failure is any outcome but ok; a degraded result is an ok one with
  ``result.degraded``. Failures first use ``retries`` (``Decision.retry_in`` asks the agent to
  run the check again that soon) and count only afterwards; any success resets them.
- *overlays* that hide the verdict: PAUSED (``pause``/``resume``), MAINTENANCE (the caller says
  ``in_maintenance``) and FLAPPING (:mod:`.flapping`, weighted share of changes with hysteresis).
  The shown ``state`` is the first overlay that applies, else the verdict.
- what was *announced*: the last state people were told about. Notices come from comparing the
  verdict with it whenever no overlay hides the verdict, never from the path in between, so an
  outage that began and ended inside a maintenance window, a pause or a flap sends nothing, a
  restart never repeats DOWN, and one that is still down afterwards sends DOWN once.

========================  ==========================  =================  ==========
announced -> verdict      notice                      severity           when
========================  ==========================  =================  ==========
nothing -> UP             none (a check starting up)  -                  -
nothing/UP -> DEGRADED    DEGRADED                    warning            notify_degraded
nothing/UP/DEG. -> DOWN   DOWN                        critical           always
DOWN -> UP or DEGRADED    RECOVERED (+duration)       info               send_on_resolved
DOWN -> DEGRADED          DEGRADED                    warning            not send_on_resolved
DEGRADED -> UP            RECOVERED (+duration)       info               send_on_resolved
still DOWN                REMINDER every remind_every critical           at most remind_max
escalate_after past DOWN  ESCALATION to escalate_to   critical           once per outage
flapping starts           FLAPPING                    warning            once
flapping ends             FLAPPING_ENDED, then the    info               once
                          row above for its verdict
========================  ==========================  =================  ==========

With ``notify_degraded`` off, DEGRADED is announced as UP. Nothing is sent while PAUSED, in
MAINTENANCE or FLAPPING (reminders and escalation wait too). Leaving maintenance, or resuming,
starts the counters afresh (state PENDING): only results after it decide, and their verdict is
compared with what was announced before.

A notice's ``key`` is ``"{check_id}:{incident}:{kind}:{seq}"``: ``seq`` counts every notice of
the check and ``incident`` every episode from the first problem notice (DOWN, DEGRADED,
FLAPPING) to the all-clear, so keys are unique and survive restarts via :meth:`snapshot`.
Times are POSIX seconds; ``since`` of a verdict is the start of the first result of the streak
that produced it, so an outage lasts from its first failed run to its first good one. That is
the one outage start: the DOWN notice's ``since``, the state's :attr:`AlertMachine.since` (kept
on the transition row, from which pages and the API read incidents) and the start RECOVERED
measures its duration from. A check that returns to DOWN after a flap, a maintenance window or
a pause without a RECOVERED in between is still in that outage and keeps its start.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from nyxmon.domain.alerting.flapping import FlapDetector, classify, flap_share
from nyxmon.domain.alerting.policy import policy_problems
from nyxmon.domain.alerting.snapshot import MachineSnapshot
from nyxmon.domain.alerting.thresholds import Thresholds
from nyxmon.domain.alerting.types import AlertPolicy, AlertState, Notice, NoticeKind, Severity
from nyxmon.domain.model import Result
from nyxmon.errors import AlertingError, PolicyError, SnapshotError

__all__ = ["SEVERITIES", "AlertMachine", "Decision"]

SEVERITIES: Mapping[NoticeKind, Severity] = MappingProxyType(
    {
        NoticeKind.DOWN: Severity.CRITICAL,
        NoticeKind.REMINDER: Severity.CRITICAL,
        NoticeKind.ESCALATION: Severity.CRITICAL,
        NoticeKind.DEGRADED: Severity.WARNING,
        NoticeKind.FLAPPING: Severity.WARNING,
        NoticeKind.RECOVERED: Severity.INFO,
        NoticeKind.FLAPPING_ENDED: Severity.INFO,
        NoticeKind.TEST: Severity.INFO,
    }
)
_OPENING = frozenset({NoticeKind.DOWN, NoticeKind.DEGRADED, NoticeKind.FLAPPING})


@dataclass(frozen=True, slots=True)
class Decision:
    """What one call changed: the state before and after, and the notices to send.

    ``retry_in``: run the check again after this many seconds (a retry is pending).
    ``next_tick``: call ``on_tick`` at this time (next reminder or escalation), if any.
    """

    state: AlertState
    previous: AlertState
    changed: bool
    notices: tuple[Notice, ...] = ()
    retry_in: float | None = None
    next_tick: float | None = None


class AlertMachine:
    """The alert state of one check; every call runs on the dispatcher thread, no I/O."""

    def __init__(
        self,
        check_id: str,
        policy: AlertPolicy,
        interval: float,
        *,
        snapshot: MachineSnapshot | None = None,
    ) -> None:
        self.check_id = check_id
        self._policy, self._interval = _checked(check_id, policy, interval)
        snap = MachineSnapshot(check_id) if snapshot is None else snapshot
        if snap.check_id != check_id:
            raise SnapshotError(f"check_id: snapshot of {snap.check_id!r} given to {check_id!r}")
        try:
            self._thresholds = Thresholds(
                health=snap.health,
                since=snap.health_since,
                ok=snap.consecutive_ok,
                fast=snap.consecutive_fast,
                slow=snap.consecutive_slow,
                failures=snap.consecutive_failures,
                retries_used=snap.retries_used,
                ok_start=snap.ok_start,
                fast_start=snap.fast_start,
                slow_start=snap.slow_start,
                fail_start=snap.fail_start,
            )
            self._flaps = FlapDetector(
                policy.flap_window, policy.flap_high, policy.flap_low, snap.history, snap.flapping
            )
        except ValueError as exc:
            raise SnapshotError(str(exc)) from None
        self._state, self._since = snap.state, snap.since
        self._maintenance, self._paused = snap.maintenance, snap.paused
        self._announced, self._announced_since = snap.announced, snap.announced_since
        self._announced_at = snap.announced_at
        self._flap_announced = snap.flap_announced
        self._incident, self._incident_open = snap.incident, snap.incident_open
        self._reminders_sent, self._last_alert_at = snap.reminders_sent, snap.last_alert_at
        self._escalated, self._sequence = snap.escalated, snap.sequence
        self._last_kind = snap.last_kind
        self._last_message, self._last_failing = snap.last_message, snap.last_failing

    # -- reading -------------------------------------------------------------------------

    @property
    def state(self) -> AlertState:
        return self._state

    @property
    def since(self) -> float | None:
        """When the current state began (None before the first call)."""
        return self._since

    @property
    def policy(self) -> AlertPolicy:
        return self._policy

    @property
    def announced(self) -> AlertState | None:
        """The last verdict people were told about (None: nothing yet)."""
        return self._announced

    def snapshot(self) -> MachineSnapshot:
        """Everything needed to resume after a restart without repeating a notice."""
        t = self._thresholds
        return MachineSnapshot(
            check_id=self.check_id,
            state=self._state,
            since=self._since,
            health=t.health,
            health_since=t.since,
            consecutive_ok=t.ok,
            consecutive_fast=t.fast,
            consecutive_slow=t.slow,
            consecutive_failures=t.failures,
            retries_used=t.retries_used,
            ok_start=t.ok_start,
            fast_start=t.fast_start,
            slow_start=t.slow_start,
            fail_start=t.fail_start,
            history=self._flaps.history,
            flapping=self._flaps.flapping,
            maintenance=self._maintenance,
            paused=self._paused,
            announced=self._announced,
            announced_since=self._announced_since,
            announced_at=self._announced_at,
            flap_announced=self._flap_announced,
            incident=self._incident,
            incident_open=self._incident_open,
            reminders_sent=self._reminders_sent,
            last_alert_at=self._last_alert_at,
            escalated=self._escalated,
            sequence=self._sequence,
            last_kind=self._last_kind,
            last_message=self._last_message,
            last_failing=self._last_failing,
        )

    # -- events --------------------------------------------------------------------------

    def on_result(self, result: Result, now: float, *, in_maintenance: bool = False) -> Decision:
        """Apply one probe result seen at ``now``."""
        if result.check_id != self.check_id:
            raise AlertingError(
                f"result of check {result.check_id!r} given to the machine of {self.check_id!r}"
            )
        previous = self._state
        if self._paused or self._enter_or_leave_maintenance(now, in_maintenance):
            return self._decision(previous, [])
        code = classify(result.ok, result.degraded)
        retry = self._thresholds.observe(code, result.started_at, self._policy)
        if not result.ok:
            self._last_message = result.message
            self._last_failing = _failing(result.details)
        verdict_known = self._thresholds.health is not AlertState.PENDING
        self._flaps.observe(code, may_settle=verdict_known)
        notices: list[Notice] = []
        self._settle(now, previous, notices, result.message)
        retry_in = self._retry_interval() if retry else None
        return self._decision(previous, notices, retry_in)

    def on_tick(self, now: float, *, in_maintenance: bool = False) -> Decision:
        """Time passed without a result: maintenance starting or ending, reminders, escalation."""
        previous = self._state
        notices: list[Notice] = []
        if not self._paused and not self._enter_or_leave_maintenance(now, in_maintenance):
            self._timers(now, notices)
        return self._decision(previous, notices)

    def pause(self, now: float) -> Decision:
        """PAUSED until :meth:`resume`: results are ignored and nothing is sent."""
        previous = self._state
        if not self._paused:
            self._paused = True
            self._set_state(AlertState.PAUSED, now)
        return self._decision(previous, [])

    def resume(self, now: float) -> Decision:
        """Back to PENDING: the next results decide, compared with what was announced before."""
        previous = self._state
        if self._paused:
            self._paused = False
            self._maintenance = False
            self._restart_counting(now)
        return self._decision(previous, [])

    def update_policy(self, policy: AlertPolicy, interval: float) -> None:
        """Adopt a changed policy or interval; counters and flap history carry over."""
        self._policy, self._interval = _checked(self.check_id, policy, interval)
        self._flaps.reconfigure(policy.flap_window, policy.flap_high, policy.flap_low)

    # -- internals -----------------------------------------------------------------------

    def _enter_or_leave_maintenance(self, now: float, in_maintenance: bool) -> bool:
        if in_maintenance:
            if not self._maintenance:
                self._maintenance = True
                self._set_state(AlertState.MAINTENANCE, now)
            return True
        if self._maintenance:
            self._maintenance = False
            self._restart_counting(now)
        return False

    def _restart_counting(self, now: float) -> None:
        self._thresholds.reset(now)
        self._flaps.reset()
        self._set_state(AlertState.PENDING, now)

    def _set_state(self, state: AlertState, since: float) -> None:
        if state is not self._state:
            self._state, self._since = state, since

    def _settle(self, now: float, previous: AlertState, notices: list[Notice], text: str) -> None:
        if self._flaps.flapping:
            if not self._flap_announced:
                self._flap_announced = True
                share = flap_share(self._flaps.history)
                notices.append(
                    self._notice(
                        NoticeKind.FLAPPING,
                        now,
                        state=AlertState.FLAPPING,
                        previous=previous,
                        since=now,
                        message=f"changed state in {share:.0%} of the last "
                        f"{len(self._flaps.history)} results",
                        details={"flap_share": round(share, 4)},
                    )
                )
            self._set_state(AlertState.FLAPPING, now)
            return
        health = self._thresholds.health
        since = self._thresholds.since
        announced_since = self._announced_since
        down_before = self._announced is AlertState.DOWN and announced_since is not None
        if health is AlertState.DOWN and down_before:
            # Back to DOWN after a flap, a window or a pause, with no RECOVERED sent: still the
            # outage people were told about, so it keeps the start its DOWN notice gave.
            since = announced_since
        self._set_state(health, now if since is None else since)
        if health is AlertState.PENDING:
            return
        self._announce(now, previous, notices, text)
        self._timers(now, notices)

    def _announce(self, now: float, previous: AlertState, notices: list[Notice], text: str) -> None:
        health = self._thresholds.health
        since = self._thresholds.since if self._thresholds.since is not None else now
        announced = self._announced
        if self._flap_announced:
            self._flap_announced = False
            notices.append(
                self._notice(
                    NoticeKind.FLAPPING_ENDED,
                    now,
                    state=health,
                    previous=previous,
                    since=since,
                    message=text,
                )
            )
        still_down = announced is AlertState.DOWN and health is AlertState.DOWN
        if still_down and previous is not AlertState.DOWN:
            # Back from a flap, a window or a pause and still down: reminders count from now
            # instead of firing the ones that fell due while nothing could be sent.
            self._last_alert_at = now
        policy = self._policy
        degraded_hidden = health is AlertState.DEGRADED and not policy.notify_degraded
        target = AlertState.UP if degraded_hidden else health
        if target is not announced:
            kind: NoticeKind | None = None
            duration: float | None = None
            if target is AlertState.DOWN:
                kind = NoticeKind.DOWN
                self._reminders_sent, self._escalated, self._last_alert_at = 0, False, now
                text = self._last_message
            elif announced in (AlertState.DOWN, AlertState.DEGRADED):
                if policy.send_on_resolved:
                    kind = NoticeKind.RECOVERED
                    began = self._announced_since if self._announced_since is not None else since
                    duration = max(0.0, since - began)
                elif target is AlertState.DEGRADED:
                    kind = NoticeKind.DEGRADED  # no all-clear wanted, but the news is not "down"
            elif target is AlertState.DEGRADED:
                kind = NoticeKind.DEGRADED
            if kind is not None:
                notices.append(
                    self._notice(
                        kind,
                        now,
                        state=health,
                        previous=previous,
                        since=since,
                        message=text,
                        duration=duration,
                    )
                )
            self._announced, self._announced_since = target, since
            self._announced_at = now
        if self._announced is AlertState.UP and not self._flap_announced:
            self._incident_open = False

    def _timers(self, now: float, notices: list[Notice]) -> None:
        if self._state is not AlertState.DOWN or self._announced is not AlertState.DOWN:
            return
        policy = self._policy
        began = self._announced_since if self._announced_since is not None else now
        escalate_at = self._escalation_due()
        if escalate_at is not None and now >= escalate_at:
            self._escalated = True
            notices.append(
                self._notice(
                    NoticeKind.ESCALATION,
                    now,
                    state=AlertState.DOWN,
                    previous=AlertState.DOWN,
                    since=began,
                    message=self._last_message,
                    routes=policy.escalate_to,
                    details={"down_for": now - began},
                )
            )
        due = self._reminder_due()
        if due is not None and now >= due:
            self._reminders_sent += 1
            self._last_alert_at = now
            notices.append(
                self._notice(
                    NoticeKind.REMINDER,
                    now,
                    state=AlertState.DOWN,
                    previous=AlertState.DOWN,
                    since=began,
                    message=self._last_message,
                    details={"reminder": self._reminders_sent, "down_for": now - began},
                )
            )

    def _reminder_due(self) -> float | None:
        policy = self._policy
        if policy.remind_every is None or self._reminders_sent >= policy.remind_max:
            return None
        if self._last_alert_at is None:
            return None
        return self._last_alert_at + policy.remind_every

    def _next_tick(self) -> float | None:
        if self._state is not AlertState.DOWN or self._announced is not AlertState.DOWN:
            return None
        times: list[float] = []
        due = self._reminder_due()
        if due is not None:
            times.append(due)
        escalate_at = self._escalation_due()
        if escalate_at is not None:
            times.append(escalate_at)
        return min(times) if times else None

    def _escalation_due(self) -> float | None:
        after = self._policy.escalate_after
        if after is None or self._escalated or self._announced_at is None:
            return None
        return self._announced_at + after

    def _notice(
        self,
        kind: NoticeKind,
        now: float,
        *,
        state: AlertState,
        previous: AlertState,
        since: float,
        message: str = "",
        duration: float | None = None,
        routes: tuple[str, ...] = (),
        details: Mapping[str, Any] | None = None,
    ) -> Notice:
        if kind in _OPENING and not self._incident_open:
            self._incident += 1
            self._incident_open = True
        self._sequence += 1
        self._last_kind = kind
        failing = self._last_failing if state is AlertState.DOWN else ()
        info: dict[str, Any] = {"incident": self._incident, "sequence": self._sequence}
        if details:
            info.update(details)
        return Notice(
            key=f"{self.check_id}:{self._incident}:{kind}:{self._sequence}",
            check_id=self.check_id,
            kind=kind,
            state=state,
            previous=previous,
            at=now,
            since=since,
            severity=SEVERITIES[kind],
            message=message,
            failing=failing,
            duration=duration,
            routes=routes,
            details=MappingProxyType(info),
        )

    def _retry_interval(self) -> float:
        retry = self._policy.retry_interval
        return self._interval if retry is None else retry

    def _decision(
        self, previous: AlertState, notices: list[Notice], retry_in: float | None = None
    ) -> Decision:
        return Decision(
            state=self._state,
            previous=previous,
            changed=self._state is not previous,
            notices=tuple(notices),
            retry_in=retry_in,
            next_tick=self._next_tick(),
        )


def _checked(check_id: str, policy: AlertPolicy, interval: float) -> tuple[AlertPolicy, float]:
    problems = policy_problems(policy)
    if problems:
        listed = "; ".join(f"alert.{key}: {message}" for key, message in problems)
        raise PolicyError(f"check {check_id!r}: {listed}")
    if not interval > 0:
        raise PolicyError(f"check {check_id!r}: interval: expected above zero, got {interval!r}")
    return policy, float(interval)


def _failing(details: Mapping[str, Any]) -> tuple[str, ...]:
    failed = details.get("failed_conditions")
    if isinstance(failed, list | tuple):
        return tuple(str(item) for item in failed)
    return ()
