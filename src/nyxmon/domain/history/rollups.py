"""Rollup arithmetic shared by every store: aggregating results and rollups, planning windows.

An hourly row is computed from raw results, so its p95 is exact (nearest rank). A daily row is
computed from its hourly rows: counts, min, max and the duration sum merge exactly, and its p95
comes from the summed histograms, because percentiles of hours cannot be combined into the
percentile of a day (see :mod:`nyxmon.domain.history.histogram`). Windows and chart series read the
coarsest rows that fit (days, then hours) plus raw results for what is not rolled up yet.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from nyxmon.domain.history.figures import DAY, HOUR, Availability, SeriesPoint
from nyxmon.domain.history.histogram import DurationHistogram, nearest_rank

__all__ = [
    "Aggregate",
    "RollupRow",
    "Segment",
    "floor_to",
    "plan_segments",
    "rollup_of_results",
    "rollup_of_rollups",
]


#: Up to this many raw durations an aggregate keeps them for exact percentiles.
EXACT_LIMIT = 200_000


def floor_to(t: float, period: float) -> float:
    """The start of the UTC-aligned period (hour, day) containing ``t``."""
    return math.floor(t / period) * period


def _ceil_to(t: float, period: float) -> float:
    return math.ceil(t / period) * period


@dataclass(frozen=True, slots=True)
class RollupRow:
    """One check's figures for one hour or day starting at ``start``."""

    start: float
    count: int
    ok_count: int
    degraded_count: int
    duration_min: float
    duration_max: float
    duration_sum: float
    duration_p95: float
    histogram: DurationHistogram

    @property
    def duration_avg(self) -> float:
        return self.duration_sum / self.count


def rollup_of_results(start: float, samples: Sequence[tuple[float, bool, bool]]) -> RollupRow:
    """The row for ``(duration, ok, degraded)`` samples of one period: exact p95."""
    if not samples:
        raise ValueError("a rollup needs at least one result")
    durations = sorted(s[0] for s in samples)
    histogram = DurationHistogram()
    histogram.add_all(durations)
    return RollupRow(
        start=start,
        count=len(durations),
        ok_count=sum(1 for s in samples if s[1]),
        degraded_count=sum(1 for s in samples if s[2]),
        duration_min=durations[0],
        duration_max=durations[-1],
        duration_sum=math.fsum(durations),
        duration_p95=nearest_rank(durations, 0.95),
        histogram=histogram,
    )


def rollup_of_rollups(start: float, rows: Iterable[RollupRow]) -> RollupRow:
    """The row for a longer period from its sub-period rows: p95 from the merged histogram."""
    agg = Aggregate()
    for row in rows:
        agg.add_rollup(row)
    if agg.count == 0:
        raise ValueError("a rollup needs at least one row")
    p95 = agg.quantile(0.95)
    assert p95 is not None
    return RollupRow(
        start=start,
        count=agg.count,
        ok_count=agg.ok_count,
        degraded_count=agg.degraded_count,
        duration_min=agg.duration_min,
        duration_max=agg.duration_max,
        duration_sum=agg.duration_sum,
        duration_p95=p95,
        histogram=agg.histogram,
    )


@dataclass(slots=True)
class Aggregate:
    """A running total of raw results and rollup rows, for windows and series buckets."""

    count: int = 0
    ok_count: int = 0
    degraded_count: int = 0
    duration_min: float = math.inf
    duration_max: float = -math.inf
    duration_sum: float = 0.0
    histogram: DurationHistogram = field(default_factory=DurationHistogram)
    # Exact answers where they are cheap: the stored p95 when the aggregate is one hourly row,
    # nearest rank over the raw durations while there are only raw results (and not too many).
    _sole_p95: float | None = None
    _parts: int = 0
    _raw: list[float] | None = field(default_factory=list)

    def add_result(self, duration: float, ok: bool, degraded: bool) -> None:
        self._parts += 1
        if self._raw is not None:
            self._raw.append(duration)
            if len(self._raw) > EXACT_LIMIT:
                self._raw = None
        self.count += 1
        self.ok_count += ok
        self.degraded_count += degraded
        self.duration_min = min(self.duration_min, duration)
        self.duration_max = max(self.duration_max, duration)
        self.duration_sum += duration
        self.histogram.add(duration)

    def add_rollup(self, row: RollupRow) -> None:
        self._parts += 1
        self._sole_p95 = row.duration_p95 if self._parts == 1 else None
        self._raw = None
        self.count += row.count
        self.ok_count += row.ok_count
        self.degraded_count += row.degraded_count
        self.duration_min = min(self.duration_min, row.duration_min)
        self.duration_max = max(self.duration_max, row.duration_max)
        self.duration_sum += row.duration_sum
        self.histogram.merge(row.histogram)

    def quantile(self, q: float) -> float | None:
        if self.count == 0:
            return None
        if q == 0.95 and self._parts == 1 and self._sole_p95 is not None:
            return self._sole_p95
        if self._raw is not None:
            self._raw.sort()
            return nearest_rank(self._raw, q)
        return self.histogram.quantile(q, self.duration_min, self.duration_max)

    @property
    def uptime_pct(self) -> float | None:
        return 100.0 * self.ok_count / self.count if self.count else None

    def to_availability(self, check_id: str, start: float, end: float) -> Availability:
        empty = self.count == 0
        return Availability(
            check_id=check_id,
            start=start,
            end=end,
            count=self.count,
            ok_count=self.ok_count,
            degraded_count=self.degraded_count,
            uptime_pct=self.uptime_pct,
            duration_min=None if empty else self.duration_min,
            duration_avg=None if empty else self.duration_sum / self.count,
            duration_max=None if empty else self.duration_max,
            duration_p50=self.quantile(0.50),
            duration_p95=self.quantile(0.95),
            duration_p99=self.quantile(0.99),
        )

    def to_point(self, start: float) -> SeriesPoint:
        empty = self.count == 0
        return SeriesPoint(
            start=start,
            count=self.count,
            ok_count=self.ok_count,
            degraded_count=self.degraded_count,
            uptime_pct=self.uptime_pct,
            duration_min=None if empty else self.duration_min,
            duration_avg=None if empty else self.duration_sum / self.count,
            duration_max=None if empty else self.duration_max,
            duration_p95=self.quantile(0.95),
        )


@dataclass(frozen=True, slots=True)
class Segment:
    """A half-open time range ``[start, end)`` read from one resolution."""

    source: Literal["raw", "hourly", "daily"]
    start: float
    end: float


def plan_segments(
    start: float, end: float, hourly_through: float | None, daily_through: float | None
) -> tuple[float, list[Segment]]:
    """Split ``[start, end)`` into disjoint daily, hourly and raw segments.

    Raw results cover everything from ``hourly_through`` (the first hour not rolled up) on;
    rolled-up time is read from whole days where days are rolled up, else from hours. When
    rollups are used the start is rounded down to its hour; returns that effective start too.
    """
    if end <= start:
        return start, []
    if hourly_through is None or hourly_through <= start:
        return start, [Segment("raw", start, end)]
    start_h = floor_to(start, HOUR)
    rolled_end = min(hourly_through, _ceil_to(end, HOUR))
    segments: list[Segment] = []
    day_lo = _ceil_to(start_h, DAY)
    day_hi = min(daily_through, floor_to(rolled_end, DAY)) if daily_through is not None else day_lo
    if day_lo < day_hi:
        segments += [
            Segment("hourly", start_h, day_lo),
            Segment("daily", day_lo, day_hi),
            Segment("hourly", day_hi, rolled_end),
        ]
    else:
        segments.append(Segment("hourly", start_h, rolled_end))
    if hourly_through < end:
        segments.append(Segment("raw", hourly_through, end))
    return start_h, [s for s in segments if s.start < s.end]
