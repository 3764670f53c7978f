"""Durations as people write them: ``500ms``, ``30s``, ``5m``, ``1h30m``, ``7d``.

A plain number means seconds, like Gatus and systemd. Everything inside NyxMon is float seconds;
this module is the only place that knows the spelling, so the YAML file, the API, the web form,
the CLI and the check types' own params (``max_response_time: 500ms``) accept the same forms
and show them the same way (:func:`spell_duration`). It lives with the check types because
their params models use it and they import nothing else of ours; :mod:`nyxmon.config` exports
it for everything else.

Every duration has a ceiling (:data:`MAX_DURATION`, ten years; an interval one year, a timeout
one day): a number past it is a typo or an attack, never a schedule, and an unbounded one ends
in ``inf`` seconds (a check that never runs) or an ``OverflowError`` somewhere far away.
"""

from __future__ import annotations

import json
import math
import re
import types
from collections.abc import Callable
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel, PlainValidator, WithJsonSchema
from pydantic_core import PydanticCustomError

__all__ = [
    "EXAMPLE",
    "MAX_DURATION",
    "MAX_INTERVAL",
    "MAX_TIMEOUT",
    "Duration",
    "IntervalDuration",
    "PositiveDuration",
    "TimeoutDuration",
    "duration_fields",
    "is_duration",
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
_SHOWN = 60
EXAMPLE = "a duration like 30s, 5m or 1h30m"
MAX_DURATION = 3650 * 86400.0
"""The longest duration anywhere (ten years: retention, reminders, maintenance windows)."""
MAX_INTERVAL = 365 * 86400.0
"""The longest interval of a check, and of a retry (one year)."""
MAX_TIMEOUT = 86400.0
"""The longest timeout of a probe (one day)."""
# Errors of this kind are shown word for word by the config's messages (its "nyxmon_" kinds).
_ERROR_KIND = "nyxmon_duration"


def _show(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        text = value if len(value) <= _SHOWN else value[: _SHOWN - 3] + "..."
        return json.dumps(text, ensure_ascii=False)
    if value is None:
        return "null"
    if isinstance(value, int | float):
        text = repr(value)
        return text if len(text) <= _SHOWN else f"{text[:20]}... ({len(text)} digits)"
    return "a mapping" if isinstance(value, dict) else type(value).__name__


def parse_duration(value: object, *, maximum: float = MAX_DURATION) -> float:
    """Seconds for ``value``: a number of seconds or a string such as ``"1h30m"`` or ``"250ms"``.

    Raises ``ValueError`` naming what was expected; negative durations are refused because no
    setting here can mean "before now", and those above ``maximum`` because none can mean
    "never" (a huge number is compared before it becomes a float, which could overflow).
    """
    if isinstance(value, bool):
        raise ValueError(f"expected {EXAMPLE}, got {_show(value)}")
    if isinstance(value, int | float):
        if isinstance(value, float) and math.isnan(value):
            raise ValueError(f"expected {EXAMPLE}, got {_show(value)}")
        if value < 0:
            raise ValueError(f"expected {EXAMPLE} (not negative), got {_show(value)}")
        return _at_most(value, maximum, value)
    if not isinstance(value, str):
        raise ValueError(f"expected {EXAMPLE}, got {_show(value)}")
    text = value.strip().lower()
    if _NUMBER_RE.fullmatch(text):
        return _at_most(float(text), maximum, value)
    if not text or not _WHOLE_RE.fullmatch(text):
        hint = " (not negative)" if text.startswith("-") else ""
        raise ValueError(f"expected {EXAMPLE}{hint}, got {_show(value)}")
    total = sum(float(num) * _UNITS[unit] for num, unit in _PART_RE.findall(text))
    return _at_most(total, maximum, value)


def _at_most(seconds: float, maximum: float, value: object) -> float:
    # ``seconds`` may be an int of any size or ``inf`` (float("1e999")): compare, then convert.
    if not seconds <= maximum:
        raise ValueError(
            f"expected a duration of at most {spell_duration(maximum)}, got {_show(value)}"
        )
    return float(seconds)


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


def _validator(*, positive: bool, maximum: float) -> Callable[[Any], float]:
    """The pydantic validator of durations in ``(0 or above, maximum]`` seconds."""

    def validate(value: Any) -> float:
        try:
            seconds = parse_duration(value, maximum=maximum)
        except ValueError as exc:
            raise PydanticCustomError(_ERROR_KIND, "{reason}", {"reason": str(exc)}) from None
        if positive and seconds <= 0:
            reason = f"expected a duration above zero, got {_show(value)}"
            raise PydanticCustomError(_ERROR_KIND, "{reason}", {"reason": reason})
        return seconds

    return validate


def _json_schema(maximum: float) -> dict[str, Any]:
    return {
        "anyOf": [
            {"type": "string", "pattern": rf"^\s*(?:{_PART}\s*)+$|^\d+(?:\.\d+)?$"},
            {"type": "number", "minimum": 0, "maximum": maximum},
        ],
        "description": "seconds, or a duration like 500ms, 30s, 5m, 1h30m, 7d; at most "
        + spell_duration(maximum),
    }


Duration = Annotated[
    float,
    PlainValidator(_validator(positive=False, maximum=MAX_DURATION)),
    WithJsonSchema(_json_schema(MAX_DURATION)),
]
"""A pydantic field type: accepts ``"30s"`` or ``30``, holds float seconds (zero allowed)."""

PositiveDuration = Annotated[
    float,
    PlainValidator(_validator(positive=True, maximum=MAX_DURATION)),
    WithJsonSchema(_json_schema(MAX_DURATION)),
]
"""Like :data:`Duration` but zero is refused (retry intervals, reminders)."""

IntervalDuration = Annotated[
    float,
    PlainValidator(_validator(positive=True, maximum=MAX_INTERVAL)),
    WithJsonSchema(_json_schema(MAX_INTERVAL)),
]
"""A check's interval: above zero, at most :data:`MAX_INTERVAL`."""

TimeoutDuration = Annotated[
    float,
    PlainValidator(_validator(positive=True, maximum=MAX_TIMEOUT)),
    WithJsonSchema(_json_schema(MAX_TIMEOUT)),
]
"""A probe's timeout: above zero, at most :data:`MAX_TIMEOUT`."""


_MARKS = frozenset(
    id(meta)
    for tp in (Duration, PositiveDuration, IntervalDuration, TimeoutDuration)
    for meta in get_args(tp)[1:]
)


def is_duration(annotation: Any) -> bool:
    """Whether a field annotation is :data:`Duration` or :data:`PositiveDuration` (optional
    or not): such values are shown spelled (``500ms``), wherever they are shown."""
    if get_origin(annotation) in (Union, types.UnionType):
        return any(is_duration(arg) for arg in get_args(annotation) if arg is not type(None))
    if get_origin(annotation) is Annotated:
        return any(id(meta) in _MARKS for meta in get_args(annotation)[1:])
    return False


def duration_fields(model: type[BaseModel]) -> frozenset[str]:
    """The names of ``model``'s duration fields (``max_response_time`` of http checks)."""
    return frozenset(
        name for name, info in model.model_fields.items() if is_duration(info.annotation)
    )
