"""One way to show a span of time to people, everywhere (notices, pages, API, CLI).

``human_duration(8040)`` is ``"2 h 14 min"``: the largest unit and the next one when it is not
zero, rounded down, so a notice, the check page and the CLI say the same of the same outage.
Config files spell durations their own way (``1h30m``, :mod:`nyxmon.config.durations`).
"""

from __future__ import annotations

import math

__all__ = ["human_duration"]

_UNITS = (("d", 86_400), ("h", 3_600), ("min", 60), ("s", 1))


def human_duration(seconds: float | None) -> str:
    """``45 -> "45 s"``, ``125 -> "2 min 5 s"``, ``11100 -> "3 h 5 min"``; ``"—"`` if unknown."""
    if seconds is None or not math.isfinite(seconds):
        return "—"
    left = max(0, int(seconds))
    for index, (unit, size) in enumerate(_UNITS):
        if left >= size or unit == "s":
            text = f"{left // size} {unit}"
            if index + 1 < len(_UNITS):
                next_unit, next_size = _UNITS[index + 1]
                rest = (left % size) // next_size
                if rest:
                    text += f" {rest} {next_unit}"
            return text
    raise AssertionError("unreachable: the last unit always matches")
