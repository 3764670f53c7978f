"""When a maintenance window is open: once, on a cron schedule, or on weekdays between two times.

Every schedule answers one question, :meth:`occurrences`: its open periods ``(start, end)`` in
POSIX seconds, in order of start, beginning with one that contains ``t`` (if any) and then every
one that starts after ``t``. :mod:`.maintenance` builds ``active`` and ``next_change`` on it.
Cron and weekly schedules are wall-clock times in a named zone, converted by :mod:`.localtime`
(gap times start when the gap ends, repeated times count once); durations are real seconds.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from croniter import croniter

from nyxmon.domain.alerting.localtime import dst_nearby, to_local, to_posix, zone

__all__ = ["CRON_ALIASES", "Cron", "OneOff", "Schedule", "Weekly", "cron_problem"]

CRON_ALIASES = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
# Far enough to cover any UTC offset change, so walking wall-clock times never misses a start.
_DST_MARGIN = timedelta(hours=3)
_SECOND = timedelta(seconds=1)


def _seconds(value: float | datetime, name: str) -> float:
    if isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"{name}: expected an aware datetime (with a time zone), got {value}")
        return value.timestamp()
    return float(value)


@dataclass(frozen=True, slots=True)
class OneOff:
    """Open from ``start`` to ``end`` (POSIX seconds or aware datetimes), once."""

    start: float
    end: float

    def __post_init__(self) -> None:
        object.__setattr__(self, "start", _seconds(self.start, "start"))
        object.__setattr__(self, "end", _seconds(self.end, "end"))
        if self.end <= self.start:
            raise ValueError(f"end ({self.end}) must be after start ({self.start})")

    def occurrences(self, t: float) -> Iterator[tuple[float, float]]:
        if self.end > t:
            yield (self.start, self.end)


def cron_problem(expression: str) -> str | None:
    """Why ``expression`` is not a usable five-field cron expression, or None when it is."""
    text = CRON_ALIASES.get(expression.strip(), expression.strip())
    if len(text.split()) != 5:
        return (
            "expected five cron fields (minute hour day-of-month month day-of-week) or one of "
            f'{", ".join(CRON_ALIASES)}, got "{expression}"'
        )
    if not croniter.is_valid(text):
        return f'invalid cron expression "{expression}"'
    try:
        croniter(text, datetime(2000, 1, 1)).get_next(datetime)
    except Exception:  # croniter's CroniterBadDateError: a date that never comes (Feb 30)
        return f'cron expression "{expression}" never matches a date'
    return None


@dataclass(frozen=True, slots=True)
class Cron:
    """Open for ``duration`` seconds from every wall-clock time ``expression`` matches in ``tz``."""

    expression: str
    duration: float
    tz: str = "UTC"

    def __post_init__(self) -> None:
        problem = cron_problem(self.expression)
        if problem is not None:
            raise ValueError(problem)
        if not self.duration > 0:
            raise ValueError(f"duration: expected above zero, got {self.duration!r}")
        zone(self.tz)

    @property
    def _text(self) -> str:
        return CRON_ALIASES.get(self.expression.strip(), self.expression.strip())

    def occurrences(self, t: float) -> Iterator[tuple[float, float]]:
        tz = zone(self.tz)
        margin = _DST_MARGIN if dst_nearby(t, tz) else timedelta(0)
        local = to_local(t, tz)
        last = self._last_start(local + margin + _SECOND, t)
        if last is not None and last + self.duration > t:
            yield (last, last + self.duration)
        forward = croniter(self._text, local - margin)
        while True:
            try:
                start = to_posix(forward.get_next(datetime), tz)
            except Exception:  # no later date exists
                return
            if start > t:
                yield (start, start + self.duration)

    def _last_start(self, local_from: datetime, t: float) -> float | None:
        tz = zone(self.tz)
        backward = croniter(self._text, local_from)
        for _ in range(10_000):
            try:
                start = to_posix(backward.get_prev(datetime), tz)
            except Exception:  # no earlier date exists
                return None
            if start <= t:
                return start
        return None


_WEEKDAYS = frozenset(range(7))


@dataclass(frozen=True, slots=True)
class Weekly:
    """Open on ``days`` (0 Monday .. 6 Sunday) from ``start`` to ``end`` wall-clock time in ``tz``.

    An ``end`` at or before ``start`` ends on the next day (22:00-02:00 crosses midnight; 00:00-
    00:00 is the whole day); the period belongs to the day it starts on.
    """

    days: frozenset[int]
    start: time
    end: time
    tz: str = "UTC"

    def __init__(self, days: Iterable[int], start: time, end: time, tz: str = "UTC") -> None:
        chosen = frozenset(days)
        if not chosen or chosen - _WEEKDAYS:
            raise ValueError(f"days: expected weekdays 0 (Monday) to 6 (Sunday), got {days!r}")
        for name, value in (("start", start), ("end", end)):
            if value.tzinfo is not None:
                raise ValueError(f"{name}: a wall-clock time without zone (use tz), got {value}")
        zone(tz)
        object.__setattr__(self, "days", chosen)
        object.__setattr__(self, "start", start)
        object.__setattr__(self, "end", end)
        object.__setattr__(self, "tz", tz)

    def _period(self, day: datetime) -> tuple[float, float]:
        tz = zone(self.tz)
        begin = datetime.combine(day.date(), self.start)
        finish = datetime.combine(day.date(), self.end)
        if self.end <= self.start:
            finish += timedelta(days=1)
        return to_posix(begin, tz), to_posix(finish, tz)

    def occurrences(self, t: float) -> Iterator[tuple[float, float]]:
        # Periods never overlap (each is at most a day long), so in start order the first one
        # not yet over either contains t or starts after it.
        day = to_local(t, zone(self.tz)) - timedelta(days=1)
        while True:
            if day.weekday() in self.days:
                start, end = self._period(day)
                if end > t:
                    yield (start, end)
            day += timedelta(days=1)


Schedule = OneOff | Cron | Weekly
"""Any of the schedule kinds; each has ``occurrences(t)``."""
