"""A check's live status as the agent sees it between results (pure, no I/O)."""

from __future__ import annotations

from dataclasses import dataclass, replace

from nyxmon.domain.model import Check, Outcome, Result

__all__ = ["CheckStatus", "state_of"]


@dataclass(frozen=True, slots=True)
class CheckStatus:
    """What NyxMon shows about a check between results.

    ``alert_state`` is the alert state machine's verdict (thresholds, retries, flapping,
    maintenance, pause) and is what ``state`` reports; without one, ``state`` follows the last
    result alone. ``last_*`` describe the last result.
    """

    check_id: str
    last_outcome: Outcome | None = None
    last_degraded: bool = False
    last_result_at: float | None = None
    last_duration: float | None = None
    last_message: str = ""
    consecutive_ok: int = 0
    consecutive_failures: int = 0
    results_seen: int = 0
    alert_state: str | None = None
    alert_since: float | None = None

    @property
    def state(self) -> str:
        if self.alert_state is not None:
            return self.alert_state
        if self.last_outcome is None:
            return "pending"
        if self.last_outcome is not Outcome.OK:
            return "down"
        return "degraded" if self.last_degraded else "up"

    def with_alert(self, state: str, since: float | None) -> CheckStatus:
        if state == self.alert_state and since == self.alert_since:
            return self
        return replace(self, alert_state=state, alert_since=since)

    def after(
        self, result: Result, alert_state: str | None = None, alert_since: float | None = None
    ) -> CheckStatus:
        """The status once ``result`` is known, with the alert verdict that followed it (kept as
        it was when not given). One constructor call, not ``replace``: it runs per result."""
        ok = result.outcome is Outcome.OK
        if alert_state is None:
            alert_state, alert_since = self.alert_state, self.alert_since
        return CheckStatus(
            self.check_id,
            result.outcome,
            result.degraded,
            result.started_at,
            result.duration,
            result.message,
            self.consecutive_ok + 1 if ok else 0,
            0 if ok else self.consecutive_failures + 1,
            self.results_seen + 1,
            alert_state,
            alert_since,
        )


def state_of(check: Check, status: CheckStatus | None) -> str:
    """The state to show: ``paused`` for paused or disabled checks, else the agent's verdict.

    One rule for every place that shows a state (pages, API, CLI, metrics), so they agree.
    """
    if status is not None:
        state = str(status.state)
        if state != "pending" or check.active:
            return state
    if not check.active:
        return "paused"
    return "pending"
