"""The figures people read about a check's history: uptime and latency over a window,
and the points of a chart.

Plain values shared by every store and every view (API, pages, badges, CLI), so a figure is
computed one way and reads the same everywhere.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

__all__ = ["DAY", "HOUR", "WINDOWS", "Availability", "SeriesPoint"]


HOUR = 3600.0

DAY = 86400.0

#: The windows the dashboard and API offer for uptime and latency figures, in seconds.
WINDOWS: Mapping[str, float] = MappingProxyType(
    {"24h": DAY, "7d": 7 * DAY, "30d": 30 * DAY, "90d": 90 * DAY}
)


@dataclass(frozen=True, slots=True)
class Availability:
    """Uptime and latency of one check over a window ending now.

    Rollups cover whole hours, so when they are used ``start`` is the window start rounded
    down to its hour. Percentiles are nearest-rank: exact over raw results alone, else read
    from merged duration histograms, within 4.4 % of the exact value (see
    :mod:`nyxmon.domain.history.histogram`). Figures are ``None`` when nothing ran in the window.
    """

    check_id: str
    start: float
    end: float
    count: int
    ok_count: int
    degraded_count: int
    uptime_pct: float | None
    duration_min: float | None
    duration_avg: float | None
    duration_max: float | None
    duration_p50: float | None
    duration_p95: float | None
    duration_p99: float | None


@dataclass(frozen=True, slots=True)
class SeriesPoint:
    """One bucket of a chart series, ``[start, start + step)``; empty buckets have count 0."""

    start: float
    count: int
    ok_count: int
    degraded_count: int
    uptime_pct: float | None
    duration_min: float | None
    duration_avg: float | None
    duration_max: float | None
    duration_p95: float | None
