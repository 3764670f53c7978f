"""When a push check expects its next ping: every ``period`` seconds, or at the times a cron
expression matches in a time zone (Healthchecks' two kinds of schedule).

A schedule answers one question, :meth:`PushSchedule.next_after`: the first expected time
strictly after ``t``. The deadline of a slot is that time plus the check's grace; the tracker
(:mod:`.tracker`) builds everything else on these two numbers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from nyxmon.domain.alerting.localtime import zone
from nyxmon.domain.alerting.schedules import Cron, cron_problem
from nyxmon.domain.durations import human_duration

__all__ = ["PUSH_TYPE", "PushSchedule", "schedule_for"]

PUSH_TYPE = "push"
"""The check type whose results come from pings, not from a probe."""


@dataclass(frozen=True, slots=True)
class PushSchedule:
    """Every ``period`` seconds, or on ``cron`` in ``tz``; ``grace`` seconds of slack after
    each expected time before the check counts as missing."""

    period: float
    grace: float = 0.0
    cron: str | None = None
    tz: str = "UTC"

    def __post_init__(self) -> None:
        if not self.period > 0:
            raise ValueError(f"period: expected above zero, got {self.period!r}")
        if self.grace < 0:
            raise ValueError(f"grace: expected zero or more, got {self.grace!r}")
        if self.cron is not None:
            problem = cron_problem(self.cron)
            if problem is not None:
                raise ValueError(f"cron: {problem}")
            zone(self.tz)

    def next_after(self, t: float) -> float:
        """The first expected ping time strictly after ``t``."""
        if self.cron is None:
            return t + self.period
        for start, _ in Cron(self.cron, 1.0, self.tz).occurrences(t):
            if start > t:
                return start
        return float("inf")  # a cron that never fires again: never due

    def describe(self) -> str:
        grace = f", grace {human_duration(self.grace)}" if self.grace else ""
        if self.cron is None:
            return f"every {human_duration(self.period)}{grace}"
        return f"cron {self.cron} ({self.tz}){grace}"


def schedule_for(interval: float, params: Mapping[str, Any]) -> PushSchedule:
    """The schedule of a push check: its ``interval`` as the period unless its params name a
    ``cron`` expression (and ``timezone``); ``grace`` from its params."""
    cron = params.get("cron") or None
    return PushSchedule(
        period=float(interval),
        grace=float(params.get("grace") or 0.0),
        cron=None if cron is None else str(cron),
        tz=str(params.get("timezone") or "UTC"),
    )
