"""The one definition of a check's uptime over a window (24 h, 7 d, 30 d, 90 d), and its text.

Uptime over a window of ``w`` seconds at time ``now`` is the share of passing runs among all
runs that started in ``[H - w, now]``, where ``H`` is the start of the current UTC hour: the
whole hours before it (read from hourly or daily rollups where they exist, from raw results
where they are not rolled up yet) plus the current partial hour (raw results). So "24 h" is
the 24 whole hours before this one and this hour so far.

Why whole hours: rollups are per UTC hour, so a window that started mid-hour could not be read
from them exactly. Why the partial hour: a failure a minute ago must move the figure now, not
when its hour is rolled up. The start does not depend on how far the rollup job got, so the
same database gives the same figure whichever part is rolled up; every view (API, overview,
check page, status page, badges, CLI) reads the store's one implementation of it and shows it
with :func:`percent_text`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from nyxmon.domain.history.figures import HOUR

__all__ = ["Uptime", "percent_text", "uptime_pct", "uptime_window"]


def uptime_window(now: float, window: float) -> tuple[float, float]:
    """``(start, end)`` of the window of ``window`` seconds ending at ``now``: the start
    rounded down to its UTC hour; ``end`` is ``now`` and a run started exactly then counts."""
    if not (math.isfinite(window) and window > 0):
        raise ValueError(f"window must be a positive number of seconds, got {window!r}")
    if not math.isfinite(now):
        raise ValueError(f"now must be a finite time, got {now!r}")
    return math.floor((now - window) / HOUR) * HOUR, now


def uptime_pct(ok_count: int, count: int) -> float | None:
    """Percentage of passing runs (unrounded), ``None`` when nothing ran."""
    return 100.0 * ok_count / count if count else None


@dataclass(frozen=True, slots=True)
class Uptime:
    """Runs of one check in ``[start, end]`` (see the module docstring) and how many passed."""

    check_id: str
    start: float
    end: float
    count: int
    ok_count: int
    degraded_count: int

    @property
    def pct(self) -> float | None:
        return uptime_pct(self.ok_count, self.count)


def percent_text(value: float | None) -> str:
    """``"99.95 %"``: two decimals at most, trailing zeros dropped; ``"100 %"``; ``"—"``.

    Rounds half up on the exact binary value, as JavaScript's ``toFixed`` does, so the
    dashboard's script (``static/js/live.js``) writes the same text for the same number.
    """
    if value is None or not math.isfinite(value):
        return "—"
    if value >= 100:
        return "100 %"
    rounded = Decimal(value).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    text = f"{rounded:f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return f"{text} %"
