"""Query parameters the API shares: times, label filters, windows; errors name the parameter."""

from __future__ import annotations

import datetime as dt
import math
import time
from collections.abc import Sequence

from nyxmon.config import parse_duration
from nyxmon.web.problems import Problem

__all__ = ["bad_parameter", "parse_labels", "parse_time"]


def bad_parameter(name: str, message: str) -> Problem:
    return Problem(
        422,
        f"{name}: {message}",
        kind="validation",
        errors=[{"field": name, "message": message}],
    )


def parse_time(value: str | None, name: str, *, now: float | None = None) -> float | None:
    """POSIX seconds (``1718000000``), ISO 8601 (``2024-06-10T08:00:00Z``) or a duration
    back from now (``15m``, ``24h``, ``7d``)."""
    if value is None or value == "":
        return None
    now = time.time() if now is None else now
    text = value.strip()
    try:
        number = float(text)
    except ValueError:
        number = None
    if number is not None:
        if not math.isfinite(number) or not 0 <= number < 1e11:
            raise bad_parameter(name, f"expected POSIX seconds, got {value!r}")
        return number
    if text[:1].isdigit() and text[-1:].isalpha() and "-" not in text:
        try:
            return now - parse_duration(text)
        except ValueError:
            pass
    try:
        parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise bad_parameter(
            name,
            f"expected POSIX seconds, an ISO 8601 time or a duration like 24h, got {value!r}",
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed.timestamp()


def parse_labels(values: Sequence[str], name: str = "label") -> dict[str, str]:
    labels: dict[str, str] = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise bad_parameter(name, f"expected KEY=VALUE, got {item!r}")
        labels[key.strip()] = value.strip()
    return labels
