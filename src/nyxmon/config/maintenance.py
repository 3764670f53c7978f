"""The ``maintenance:`` section: planned windows in which checks keep running but nothing alerts.

Each window has a ``name``, a scope (``all: true``, or ``checks``, ``services``, ``labels``) and
exactly one schedule, in ``timezone`` (default UTC):

- once: ``start`` and ``end`` (``2026-05-01 22:00``, ISO 8601; an offset in the text wins);
- cron: ``cron`` (five fields or ``@daily`` ...) and ``duration``;
- weekly: ``days`` (``[sat, sun]``, ``mon-fri``), ``from`` and ``to`` (``HH:MM``; ``to`` at or
  before ``from`` ends the next day, ``24:00`` is midnight).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Sequence
from datetime import datetime, time
from types import MappingProxyType
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from nyxmon.checktypes.booleans import Boolean
from nyxmon.config._text import did_you_mean, format_path, invalid, show
from nyxmon.config.durations import PositiveDuration
from nyxmon.config.issues import KeyPath, ReportIssue
from nyxmon.config.schema import Labels, NonEmptyStr
from nyxmon.domain.alerting import Cron, MaintenanceScope, MaintenanceWindow, OneOff, Weekly
from nyxmon.domain.alerting.localtime import to_posix, zone
from nyxmon.domain.alerting.schedules import Schedule, cron_problem

__all__ = ["MaintenanceSection", "maintenance_issues", "parse_days", "windows_from"]

_DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_FULL_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_CLOCK_RE = re.compile(r"([01]?\d|2[0-4]):([0-5]\d)")
_FORMS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("once", ("start", "end")),
    ("cron", ("cron", "duration")),
    ("weekly", ("days", "from_", "to")),
)
_SHOWN = {"from_": "from"}


def _day(token: str) -> int:
    word = token.strip().lower()
    for names in (_DAY_NAMES, _FULL_NAMES):
        if word in names:
            return names.index(word)
    guess = did_you_mean(word, _DAY_NAMES + _FULL_NAMES)
    hint = f"; did you mean {show(guess)}?" if guess else ""
    raise ValueError(f"unknown weekday {show(token)}{hint} (mon, tue, ... sun, or a range mon-fri)")


def parse_days(value: str | Sequence[str]) -> frozenset[int]:
    """``"mon-fri"``, ``"sat,sun"`` or ``["mon", "wed-thu"]`` -> weekday numbers (0 Monday).

    A range may wrap around the week (``fri-mon``).
    """
    items = [value] if isinstance(value, str) else list(value)
    days: set[int] = set()
    for item in items:
        for part in item.split(","):
            first, dash, last = part.partition("-")
            if not dash:
                days.add(_day(first))
                continue
            start, stop = _day(first), _day(last)
            days.update((start + step) % 7 for step in range((stop - start) % 7 + 1))
    if not days:
        raise ValueError("expected at least one weekday")
    return frozenset(days)


def _check_days(value: str | list[str]) -> str | list[str]:
    try:
        parse_days(value)
    except ValueError as exc:
        raise invalid("days", str(exc)) from None
    return value


def parse_clock(value: str) -> time:
    """``"02:00"`` -> 02:00; ``"24:00"`` is midnight at the end of the day (00:00)."""
    match = _CLOCK_RE.fullmatch(value.strip())
    if match is None or (match.group(1) == "24" and match.group(2) != "00"):
        raise ValueError(f"expected a time of day like 02:00 or 23:30, got {show(value)}")
    hour = int(match.group(1))
    return time(0, 0) if hour == 24 else time(hour, int(match.group(2)))


def _check_clock(value: str) -> str:
    try:
        parse_clock(value)
    except ValueError as exc:
        raise invalid("clock", str(exc)) from None
    return value


def _parse_moment(value: str) -> datetime:
    try:
        return datetime.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(
            f"expected a date and time like 2026-05-01 22:00 (ISO 8601), got {show(value)}"
        ) from None


def _check_moment(value: str) -> str:
    try:
        _parse_moment(value)
    except ValueError as exc:
        raise invalid("moment", str(exc)) from None
    return value


def _check_cron(value: str) -> str:
    problem = cron_problem(value)
    if problem is not None:
        raise invalid("cron", problem)
    return value


def _check_zone(value: str) -> str:
    try:
        zone(value)
    except ValueError as exc:
        raise invalid("timezone", str(exc)) from None
    return value


class MaintenanceSection(BaseModel):
    """One maintenance window as written in the file."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    name: NonEmptyStr
    all: Boolean = False
    checks: list[str] = []
    services: list[str] = []
    labels: Labels = {}
    start: Annotated[str, AfterValidator(_check_moment)] | None = None
    end: Annotated[str, AfterValidator(_check_moment)] | None = None
    cron: Annotated[str, AfterValidator(_check_cron)] | None = None
    duration: PositiveDuration | None = None
    days: Annotated[str | list[str], AfterValidator(_check_days)] | None = None
    from_: Annotated[str, AfterValidator(_check_clock)] | None = Field(None, alias="from")
    to: Annotated[str, AfterValidator(_check_clock)] | None = None
    timezone: Annotated[str, AfterValidator(_check_zone)] = "UTC"


def maintenance_issues(
    sections: Sequence[tuple[KeyPath, MaintenanceSection]],
    *,
    check_ids: Collection[str],
    services: Collection[str],
    locate: Callable[[KeyPath], int | None],
    error: ReportIssue,
    warn: ReportIssue,
) -> None:
    """Rules across keys: one complete schedule, a scope, an end after the start, unique names."""
    names: dict[str, KeyPath] = {}
    for path, window in sections:
        written = window.model_fields_set
        used = [(form, keys) for form, keys in _FORMS if written & set(keys)]
        if not used:
            error(
                path,
                "missing a schedule: set start and end (once), cron and duration, or days, from "
                "and to (weekly)",
            )
        for form, keys in used[1:]:
            key, (first_form, first_keys) = _first_written(keys, written), used[0]
            error(
                (*path, key),
                f"a window has one schedule: {show(key)} ({form}) cannot be combined with "
                f"{show(_first_written(first_keys, written))} ({first_form})",
            )
        if len(used) == 1:
            form, keys = used[0]
            missing = [_SHOWN.get(k, k) for k in keys if k not in written]
            for key in missing:
                needs = " and ".join(_SHOWN.get(k, k) for k in keys)
                error(path, f"missing required key {show(key)} (a {form} window needs {needs})")
            if not missing and form == "once":
                _check_order(window, path, error)
        scoped = window.checks or window.services or window.labels
        if not window.all and not scoped:
            error(path, "missing a scope: set all: true, or checks, services or labels")
        elif window.all and scoped:
            error(
                (*path, "all"),
                "all: true already covers every check; remove it or the checks, services and "
                "labels",
            )
        first = names.setdefault(window.name, path)
        if first != path:
            error(
                (*path, "name"),
                f"duplicate maintenance window name {show(window.name)}: already used by "
                f"{format_path(first)} (line {locate(first)})",
            )
        for key, known, what in (
            ("checks", check_ids, "check id"),
            ("services", services, "service"),
        ):
            for position, name in enumerate(getattr(window, key)):
                if name not in known:
                    guess = did_you_mean(name, known)
                    hint = f"; did you mean {show(guess)}?" if guess else ""
                    warn(
                        (*path, key, position),
                        f"no {what} {show(name)} in this file{hint} (the window covers it once "
                        "one exists)",
                    )


def _first_written(keys: Sequence[str], written: Collection[str]) -> str:
    key = next(k for k in keys if k in written)
    return _SHOWN.get(key, key)


def _moment(text: str, tz_name: str) -> float:
    moment = _parse_moment(text)
    if moment.tzinfo is None:
        return to_posix(moment, zone(tz_name))
    return moment.timestamp()


def _check_order(window: MaintenanceSection, path: KeyPath, error: ReportIssue) -> None:
    assert window.start is not None
    assert window.end is not None
    start, end = _moment(window.start, window.timezone), _moment(window.end, window.timezone)
    if end <= start:
        error((*path, "end"), f"expected an end after start ({window.start}), got {window.end}")


def _schedule(window: MaintenanceSection) -> Schedule:
    if window.start is not None and window.end is not None:
        return OneOff(_moment(window.start, window.timezone), _moment(window.end, window.timezone))
    if window.cron is not None and window.duration is not None:
        return Cron(window.cron, window.duration, window.timezone)
    assert window.days is not None
    assert window.from_ is not None
    assert window.to is not None
    return Weekly(
        parse_days(window.days), parse_clock(window.from_), parse_clock(window.to), window.timezone
    )


def windows_from(sections: Sequence[MaintenanceSection]) -> tuple[MaintenanceWindow, ...]:
    """The domain windows of valid sections."""
    return tuple(
        MaintenanceWindow(
            name=window.name,
            scope=MaintenanceScope(
                everything=window.all,
                checks=frozenset(window.checks),
                services=frozenset(window.services),
                labels=MappingProxyType(dict(window.labels)),
            ),
            schedule=_schedule(window),
        )
        for window in sections
    )
