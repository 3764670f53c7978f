"""Durations as people write them in config files: ``500ms``, ``30s``, ``5m``, ``1h30m``, ``7d``.

A plain number means seconds, like Gatus and systemd. Everything inside NyxMon is float seconds;
this module is the only place that knows the spelling, so the YAML file, the API and the probe
specs (``max_response_time: 500ms``) all accept the same forms.
"""

from __future__ import annotations

import math
import re
from typing import Annotated, Any

from pydantic import PlainValidator, WithJsonSchema

from nyxmon.config._text import invalid, show

__all__ = [
    "Duration",
    "PositiveDuration",
    "parse_duration",
    "spell_duration",
]

_UNITS: dict[str, float] = {
    "ms": 0.001,
    "s": 1.0,
    "m": 60.0,
    "h": 3600.0,
    "d": 86400.0,
    "w": 604800.0,
}
_PART = r"(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)"
_WHOLE_RE = re.compile(rf"(?:{_PART}\s*)+")
_PART_RE = re.compile(_PART)
_NUMBER_RE = re.compile(r"\d+(?:\.\d+)?")
EXAMPLE = "a duration like 30s, 5m or 1h30m"


def parse_duration(value: object) -> float:
    """Seconds for ``value``: a number of seconds or a string such as ``"1h30m"`` or ``"250ms"``.

    Raises ``ValueError`` naming what was expected; negative durations are refused because no
    setting here can mean "before now".
    """
    if isinstance(value, bool):
        raise ValueError(f"expected {EXAMPLE}, got {show(value)}")
    if isinstance(value, int | float):
        if not math.isfinite(value) or value < 0:
            raise ValueError(f"expected {EXAMPLE} (not negative), got {value}")
        return float(value)
    if not isinstance(value, str):
        raise ValueError(f"expected {EXAMPLE}, got {show(value)}")
    text = value.strip().lower()
    if _NUMBER_RE.fullmatch(text):
        return float(text)
    if not text or not _WHOLE_RE.fullmatch(text):
        hint = " (not negative)" if text.startswith("-") else ""
        raise ValueError(f"expected {EXAMPLE}{hint}, got {show(value)}")
    return sum(float(num) * _UNITS[unit] for num, unit in _PART_RE.findall(text))


def spell_duration(seconds: float) -> str:
    """The shortest natural spelling: ``90`` -> ``"1m30s"``, ``0.5`` -> ``"500ms"``."""
    if seconds < 1:
        return f"{round(seconds * 1000):d}ms" if seconds else "0s"
    parts: list[str] = []
    rest = seconds
    for unit in ("d", "h", "m"):
        size = _UNITS[unit]
        if rest >= size:
            count = int(rest // size)
            parts.append(f"{count}{unit}")
            rest -= count * size
    if rest >= 0.001 or not parts:
        whole = round(rest, 3)
        parts.append(f"{whole:g}s" if whole != int(whole) else f"{int(whole)}s")
    return "".join(parts)


def _validate(value: Any) -> float:
    try:
        return parse_duration(value)
    except ValueError as exc:
        raise invalid("duration", str(exc)) from None


def _validate_positive(value: Any) -> float:
    seconds = _validate(value)
    if seconds <= 0:
        reason = f"expected a duration above zero, got {show(value)}"
        raise invalid("duration", reason)
    return seconds


_JSON_SCHEMA = {
    "anyOf": [
        {"type": "string", "pattern": rf"^\s*(?:{_PART}\s*)+$|^\d+(?:\.\d+)?$"},
        {"type": "number", "minimum": 0},
    ],
    "description": "seconds, or a duration like 500ms, 30s, 5m, 1h30m, 7d",
}

Duration = Annotated[float, PlainValidator(_validate), WithJsonSchema(_JSON_SCHEMA)]
"""A pydantic field type: accepts ``"30s"`` or ``30``, holds float seconds (zero allowed)."""

PositiveDuration = Annotated[
    float, PlainValidator(_validate_positive), WithJsonSchema(_JSON_SCHEMA)
]
"""Like :data:`Duration` but zero is refused (intervals, timeouts)."""
