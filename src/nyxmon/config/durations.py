"""Durations in the config file: the one spelling of :mod:`nyxmon.checktypes.durations`.

The check types' params (``max_response_time: 500ms``) use the same field types as the file's
own keys (``interval: 30s``), so they are defined there, where the check types can import them,
and named here for the rest of the config package and its users.
"""

from __future__ import annotations

from nyxmon.checktypes.durations import (
    EXAMPLE,
    MAX_DURATION,
    MAX_INTERVAL,
    MAX_TIMEOUT,
    Duration,
    IntervalDuration,
    PositiveDuration,
    TimeoutDuration,
    is_duration,
    parse_duration,
    spell_duration,
)

__all__ = [
    "EXAMPLE",
    "MAX_DURATION",
    "MAX_INTERVAL",
    "MAX_TIMEOUT",
    "Duration",
    "IntervalDuration",
    "PositiveDuration",
    "TimeoutDuration",
    "is_duration",
    "parse_duration",
    "spell_duration",
]
