"""Maintenance windows: planned periods in which a check's results are kept but nothing alerts.

A window has a name, a scope (everything, or some checks, services or labels) and a schedule
(:mod:`.schedules`: once, cron-like, or weekdays between two times, in a time zone). The agent
asks :func:`active_windows` when a result arrives, passes ``in_maintenance`` to the check's
:class:`~nyxmon.domain.alerting.machine.AlertMachine`, and calls ``on_tick`` at
:func:`next_change` so a window that opens or closes between two results is noticed on time.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from nyxmon.domain.alerting.schedules import CRON_ALIASES, Cron, OneOff, Schedule, Weekly
from nyxmon.domain.model import Check

__all__ = [
    "CRON_ALIASES",
    "Cron",
    "MaintenanceScope",
    "MaintenanceWindow",
    "OneOff",
    "Schedule",
    "Weekly",
    "active_windows",
    "next_change",
]

# Periods that keep touching each other (a cron firing more often than its duration) are
# merged up to this many; past it the agent simply ticks again at the reported end.
_MAX_MERGED = 1000
_MAX_STEPS = 1000


def _no_labels() -> Mapping[str, str]:
    return MappingProxyType({})


@dataclass(frozen=True, slots=True)
class MaintenanceScope:
    """Which checks a window covers: everything, or any listed check id, service or labels.

    The kinds combine with OR (a check in a listed service *or* with a listed id); ``labels``
    match a check whose labels contain every listed pair.
    """

    everything: bool = False
    checks: frozenset[str] = frozenset()
    services: frozenset[str] = frozenset()
    labels: Mapping[str, str] = field(default_factory=_no_labels)

    def applies_to(self, check: Check) -> bool:
        if self.everything or check.id in self.checks or check.service in self.services:
            return True
        if not self.labels:
            return False
        labels = check.effective_labels
        return all(labels.get(key) == value for key, value in self.labels.items())


@dataclass(frozen=True, slots=True)
class MaintenanceWindow:
    """A named, scoped schedule of maintenance."""

    name: str
    scope: MaintenanceScope
    schedule: Schedule
    # (from, until, open): the last answer of active() and the span it holds for. Every check's
    # results ask about the same window, and a cron answer costs a few hundred microseconds.
    _known: list[tuple[float, float, bool]] = field(
        default_factory=list, init=False, repr=False, compare=False
    )

    def applies_to(self, check: Check) -> bool:
        return self.scope.applies_to(check)

    def active(self, now: float) -> bool:
        """Whether the window is open at ``now`` (POSIX seconds; start included, end not)."""
        known = self._known[0] if self._known else None
        if known is not None and known[0] <= now < known[1]:
            return known[2]
        first = next(self.schedule.occurrences(now), None)
        if first is None:
            answer = (now, math.inf, False)
        elif first[0] <= now < first[1]:
            answer = (first[0], first[1], True)
        else:
            answer = (now, first[0], False)
        self._known[:] = [answer]
        return answer[2]

    def next_change(self, now: float) -> float | None:
        """When the window next opens (if closed) or closes (if open), after ``now``."""
        periods = self.schedule.occurrences(now)
        first = next(periods, None)
        if first is None:
            return None
        start, end = first
        if start > now:
            return start
        for _ in range(_MAX_MERGED):
            following = next(periods, None)
            if following is None or following[0] > end:
                break
            end = max(end, following[1])
        return end


def active_windows(
    windows: Iterable[MaintenanceWindow], check: Check, now: float
) -> tuple[MaintenanceWindow, ...]:
    """The windows that cover ``check`` and are open at ``now``."""
    return tuple(w for w in windows if w.applies_to(check) and w.active(now))


def next_change(windows: Iterable[MaintenanceWindow], check: Check, now: float) -> float | None:
    """When ``check`` next enters or leaves maintenance after ``now``; None if it never will.

    Overlapping windows count as one: a window closing while another still covers the check is
    not a change.
    """
    mine = [w for w in windows if w.applies_to(check)]
    if not mine:
        return None
    inside = any(w.active(now) for w in mine)
    t = now
    for _ in range(_MAX_STEPS):
        changes = [c for c in (w.next_change(t) for w in mine) if c is not None]
        if not changes:
            return None
        t = min(changes)
        if any(w.active(t) for w in mine) != inside:
            return t
    return None
