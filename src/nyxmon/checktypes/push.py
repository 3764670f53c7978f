"""The ``push`` check type's parameters: a ping key and a schedule (Healthchecks' model).

A push check is not probed: the job it watches calls ``/ping/{token}`` (success, ``/start``,
``/fail``, ``/{exit_status}``, ``/log``), and silence past the schedule's next time plus the
``grace`` fails it. The period is the check's ``interval``, unless ``cron`` names the times
(in ``timezone``) instead; a run opened with ``/start`` must end within the check's
``timeout``. The agent's side: :mod:`nyxmon.domain.push`, :mod:`nyxmon.service_layer.push`.

This module may import nothing else of ours, so the cron and zone checks are repeated here in
their smallest form; the domain's schedule checks them again when it builds a tracker.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter
from pydantic import Field, field_validator

from nyxmon.checktypes.base import CheckType, SpecModel, secret
from nyxmon.checktypes.durations import IntervalDuration

__all__ = ["PUSH", "PushSpec"]

_ALIASES = frozenset(
    {"@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"}
)


class PushSpec(SpecModel):
    """Params of a ``push`` check."""

    token: str = Field(
        min_length=1,
        max_length=128,
        pattern=r"^[A-Za-z0-9_.~-]+$",
        description=(
            "the ping key: the secret part of the check's ping URL /ping/{token}; the API, "
            "the form and `check add` generate one when none is given; write-only"
        ),
        json_schema_extra=secret(),
    )
    cron: str | None = Field(
        None,
        description=(
            "expect pings at the times this five-field cron expression (or @daily, @hourly, "
            "...) matches, instead of every interval"
        ),
    )
    timezone: str = Field("UTC", description="the time zone of cron (like Europe/Berlin)")
    grace: IntervalDuration = Field(
        60.0,
        description="how long after an expected time a ping may still come before it is missing",
    )
    body_limit: int = Field(
        10_000,
        ge=0,
        le=1_048_576,
        description="bytes of a ping's body (the job's output) kept; the rest is cut",
    )

    @field_validator("cron")
    @classmethod
    def _cron(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        text = value.strip()
        if text in _ALIASES:
            return text
        if len(text.split()) != 5 or not croniter.is_valid(text):
            raise ValueError(
                "expected five cron fields (minute hour day-of-month month day-of-week) or "
                f'@hourly, @daily, @weekly, @monthly, @yearly, got "{value}"'
            )
        try:
            croniter(text, datetime(2000, 1, 1)).get_next(datetime)
        except Exception:  # a date that never comes (Feb 30)
            raise ValueError(f'cron expression "{value}" never matches a date') from None
        return text

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f'unknown time zone "{value}" (expected a name like Europe/Berlin)'
            ) from None
        return value


PUSH = CheckType(
    name="push",
    params=PushSpec,
    observes=frozenset({"BODY", "EXIT_STATUS", "DURATION"}),
    executor="nyxmon.probes.push:create_executor",
    summary="a job that pings NyxMon (heartbeat): silence past its schedule and grace is DOWN",
)
