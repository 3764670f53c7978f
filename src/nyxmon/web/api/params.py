"""Query parameters the API shares: times, label filters, windows; errors name the parameter.

Each comes with the JSON schema the OpenAPI document gives it, and the parser accepts exactly
what that schema allows (no more, no less): the document is the contract.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import time
from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import Query
from pydantic import WithJsonSchema

from nyxmon.checktypes import CHECK_TYPES
from nyxmon.config import parse_duration
from nyxmon.web.problems import Problem

__all__ = [
    "LABEL_PATTERN",
    "LabelsParam",
    "TimeParam",
    "TypeParam",
    "bad_parameter",
    "parse_labels",
    "parse_time",
    "parse_type",
]

_SECONDS = r"^[0-9]{1,11}(\.[0-9]{1,20})?$"
_DURATION = r"^([0-9]{1,6}(\.[0-9]{1,3})?(ms|s|m|h|d|w))+$"
_DATE_TIME = re.compile(
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?"
    r"([Zz]|[+-][0-9]{2}:[0-9]{2})$"
)
_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
_TIME_HELP = (
    "POSIX seconds, an RFC 3339 date-time (2024-06-10T08:00:00Z), a date (2024-06-10, "
    "midnight UTC) or a duration back from now (15m, 24h, 7d)"
)
_TIME_SCHEMA: dict[str, Any] = {
    "anyOf": [
        {"type": "string", "pattern": _SECONDS},
        {"type": "string", "pattern": _DURATION},
        {"type": "string", "format": "date-time"},
        {"type": "string", "format": "date"},
    ],
    "description": _TIME_HELP,
}
TimeParam = Annotated[str | None, WithJsonSchema(_TIME_SCHEMA), Query(description=_TIME_HELP)]
"""A ``since``/``until`` query parameter (see :func:`parse_time`)."""

#: ``KEY=VALUE`` with a key that is not only white space (ASCII white space, spelled out: what
#: ``\s`` means differs between regular expression dialects, and the schema's is ECMA 262's).
_BLANK = " \t\n\r\f\v"
LABEL_PATTERN = rf"^[^=]*[^={_BLANK}][^=]*="
LabelsParam = Annotated[
    list[str],
    WithJsonSchema({"type": "array", "items": {"type": "string", "pattern": LABEL_PATTERN}}),
    Query(description="KEY=VALUE (own or from the service); repeat for several"),
]

TypeParam = Annotated[
    str | None,
    WithJsonSchema({"type": "string", "enum": sorted(CHECK_TYPES)}),
    Query(description="a check type: " + ", ".join(sorted(CHECK_TYPES))),
]
"""A ``type`` query parameter: one of the declared check types (see :func:`parse_type`)."""


def parse_type(value: str | None, name: str = "query.type") -> str | None:
    """``value`` if it names a declared check type: filtering by a misspelt type is refused
    rather than answered with an empty list that looks like "no such checks"."""
    if value is None or value in CHECK_TYPES:
        return value
    known = ", ".join(sorted(CHECK_TYPES))
    raise bad_parameter(name, f"unknown check type {value!r}; known types: {known}")


def bad_parameter(name: str, message: str) -> Problem:
    return Problem(
        422,
        f"{name}: {message}",
        kind="validation",
        errors=[{"field": name, "message": message}],
    )


def parse_time(value: str | None, name: str, *, now: float | None = None) -> float | None:
    """POSIX seconds (``1718000000``), an RFC 3339 date-time (``2024-06-10T08:00:00Z``) or a
    duration back from now (``15m``, ``24h``, ``7d``): exactly what :data:`TimeParam`'s
    schema allows."""
    if value is None:
        return None
    now = time.time() if now is None else now
    if re.fullmatch(_SECONDS, value):
        return float(value)
    if re.fullmatch(_DURATION, value):
        # Any length the schema allows: one reaching back before 1970 means "from the start".
        return max(0.0, now - parse_duration(value, maximum=math.inf))
    if _DATE_TIME.fullmatch(value) or _DATE.fullmatch(value):
        try:
            parsed = dt.datetime.fromisoformat(value.upper().replace("Z", "+00:00"))
            if parsed.tzinfo is None:  # a date alone: its midnight in UTC
                parsed = parsed.replace(tzinfo=dt.UTC)
            return parsed.timestamp()
        except (ValueError, OverflowError):
            pass
    raise bad_parameter(name, f"expected {_TIME_HELP}, got {value!r}")


def parse_labels(values: Sequence[str], name: str = "label") -> dict[str, str]:
    labels: dict[str, str] = {}
    for item in values:
        key, _, value = item.partition("=")
        if not re.match(LABEL_PATTERN, item):
            raise bad_parameter(name, f"expected KEY=VALUE, got {item!r}")
        labels[key.strip(_BLANK)] = value.strip(_BLANK)
    return labels
