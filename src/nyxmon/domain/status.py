"""A check's live status as the agent sees it between results (pure, no I/O)."""

from __future__ import annotations

from dataclasses import dataclass, replace

from nyxmon.domain.model import Outcome, Result

__all__ = ["CheckStatus"]


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

    def after(self, result: Result) -> CheckStatus:
        """The status once ``result`` is known."""
        ok = result.outcome is Outcome.OK
        return replace(
            self,
            last_outcome=result.outcome,
            last_degraded=result.degraded,
            last_result_at=result.started_at,
            last_duration=result.duration,
            last_message=result.message,
            consecutive_ok=self.consecutive_ok + 1 if ok else 0,
            consecutive_failures=0 if ok else self.consecutive_failures + 1,
            results_seen=self.results_seen + 1,
        )
