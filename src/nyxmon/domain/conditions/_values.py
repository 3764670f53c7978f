"""How resolved values are coerced, compared and shown.

Comparisons follow Gatus: two values that both read as numbers compare as numbers, booleans
compare with ``true``/``false`` in any case, everything else compares as text. Ordering operators
need numbers; durations (``48h``, ``1h30m``, ``250ms``) count as milliseconds there, the unit of
``[RESPONSE_TIME]`` and ``[CERTIFICATE_EXPIRATION]``.
"""

from __future__ import annotations

import json
import re
from typing import Any

from nyxmon.domain.conditions._observation import Missing

__all__ = [
    "as_bool",
    "format_duration_ms",
    "parse_duration_ms",
    "parse_number",
    "render",
    "to_number",
    "truncate",
    "values_equal",
]

_NUMBER_RE = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
#: Go's base-prefixed integer literals, as ``int(text, 0)`` reads them.
_PREFIXED_RE = re.compile(r"[+-]?0(?:[xX](?:_?[0-9a-fA-F])+|[oO](?:_?[0-7])+|[bB](?:_?[01])+)")
_GROUPED_RE = re.compile(r"[+-]?\d+(?:_\d+)+")
_DURATION_RE = re.compile(r"(?:\d+(?:\.\d+)?(?:ms|s|m|h|d|w))+")
_DURATION_PART_RE = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d|w)")
_UNIT_MS = {"ms": 1, "s": 1_000, "m": 60_000, "h": 3_600_000, "d": 86_400_000, "w": 604_800_000}
_MAX_SHOWN = 80


def parse_number(text: str) -> int | float | None:
    """``text`` as an int or float when it is written as a number, else None.

    Like Gatus (Go's ``strconv.ParseInt(s, 0, 64)``), ``0x1F``, ``0o17`` and ``0b101`` are
    integers and ``_`` may separate digits (``1_000``); a decimal with a leading zero stays
    decimal (``017`` is 17, where Go would read octal 15).
    """
    text = text.strip()
    if _PREFIXED_RE.fullmatch(text) or _GROUPED_RE.fullmatch(text):
        return int(text.replace("_", "") if _GROUPED_RE.fullmatch(text) else text, 0)
    if not _NUMBER_RE.fullmatch(text):
        return None
    if "." in text or "e" in text or "E" in text:
        return float(text)
    try:
        return int(text)
    except ValueError:  # past Python's 4,300 digits: as a float (inf) it still compares
        return float(text)


def parse_duration_ms(text: str) -> int | float | None:
    """``text`` as milliseconds when it is a duration like ``48h`` or ``1h30m``, else None."""
    text = text.strip()
    if not _DURATION_RE.fullmatch(text):
        return None
    total: float = 0
    for amount, unit in _DURATION_PART_RE.findall(text):
        total += float(amount) * _UNIT_MS[unit]
    return int(total) if total.is_integer() else total


def format_duration_ms(ms: float) -> str:
    """Milliseconds as a compact duration (``89d23h5m``), whole seconds only, ``0s`` for zero."""
    sign = "-" if ms < 0 else ""
    seconds = int(abs(ms) // 1000)
    if seconds == 0:
        return "0s"
    parts = []
    for unit, size in (("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1)):
        amount, seconds = divmod(seconds, size)
        if amount:
            parts.append(f"{amount}{unit}")
    return sign + "".join(parts)


def to_number(value: Any) -> int | float | None:
    """A value as a number for ordering (durations as milliseconds), or None when it is not one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return value
    if isinstance(value, str):
        number = parse_number(value)
        return number if number is not None else parse_duration_ms(value)
    return None


def as_bool(value: Any) -> bool | None:
    """A value as a boolean (``true``/``false`` in any case), or None when it is not one."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered == "true":
            return True
        if lowered == "false":
            return False
    return None


def _plain_number(value: Any) -> int | float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return value
    if isinstance(value, str):
        return parse_number(value)
    return None


def values_equal(left: Any, right: Any) -> bool:
    """Gatus-style equality: numbers as numbers, booleans as booleans, otherwise as text."""
    if isinstance(left, Missing) or isinstance(right, Missing):
        return False
    if isinstance(left, bool) or isinstance(right, bool):
        left_bool, right_bool = as_bool(left), as_bool(right)
        return left_bool is not None and left_bool == right_bool
    left_number, right_number = _plain_number(left), _plain_number(right)
    if left_number is not None and right_number is not None:
        return left_number == right_number
    return render(left) == render(right)


def render(value: Any) -> str:
    """A resolved value as the text conditions compare and show: JSON spelling for non-strings."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, Missing):
        return f"missing: {value.reason}"
    if isinstance(value, list | tuple | dict):
        try:
            return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
        except RecursionError:  # a body nested nearly as deep as the parser allows
            return "(a value nested too deeply to show)"
    return str(value)


def truncate(text: str, limit: int = _MAX_SHOWN) -> str:
    """``text`` cut to ``limit`` characters so a whole body never lands in a message."""
    if len(text) <= limit:
        return text
    return text[:limit] + "...(truncated)"
