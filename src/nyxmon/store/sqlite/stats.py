"""Uptime, latency and chart series for SQLite, from rollups plus not-yet-rolled raw results.

Each read runs in one read transaction, so the rollup progress and the rows it implies come
from the same snapshot: a rollup step committing meanwhile can neither hide an hour nor count
it twice. Uptime (:mod:`nyxmon.domain.history.uptime` defines it) is counted by one function,
:func:`_tally`, for one check (``availability``, with its latency figures) or for a screenful
(``uptime_many``: a few aggregate queries whatever the number of checks).
"""

from __future__ import annotations

import dataclasses
import json
import math
import sqlite3
from collections.abc import Iterable, Sequence
from typing import Literal, NamedTuple

from nyxmon.domain.history.figures import DAY, HOUR, Availability, SeriesPoint
from nyxmon.domain.history.rollups import Aggregate, RollupRow, Segment, plan_segments
from nyxmon.domain.history.uptime import Uptime, uptime_pct, uptime_window
from nyxmon.store.sqlite.codec import ROLLUP_COLUMNS, rollup_from_row, to_ms
from nyxmon.store.sqlite.connections import Connections
from nyxmon.store.sqlite.history import ms_ceil, raw_points, raw_tally
from nyxmon.store.sqlite.progress import read_progress
from nyxmon.store.sqlite.results import check_pk_of

__all__ = ["MAX_POINTS", "availability", "rollups", "series", "uptime_many"]

#: Most points one series may have; a chart cannot show more and a typo should not OOM us.
MAX_POINTS = 10_000

_ROLLUP_SQL = {
    level: f"SELECT {ROLLUP_COLUMNS} FROM rollup_{level}"
    " WHERE check_pk = ? AND start >= ? AND start < ?"
    for level in ("hourly", "daily")
}
_IDS = "check_pk IN (SELECT value FROM json_each(?))"
_TALLY_SQL = {
    level: "SELECT check_pk, SUM(count), SUM(ok_count), SUM(degraded_count)"
    f" FROM rollup_{level} WHERE {_IDS} AND start >= ? AND start < ? GROUP BY check_pk"
    for level in ("hourly", "daily")
}


class _Plan(NamedTuple):
    """Where a time range is read from: its start, its segments (days, hours, raw) and the
    time (ms) no block reaches (the hourly progress: blocks hold only rolled-up hours)."""

    start: float
    segments: list[Segment]
    packed_before: int | None


def _segments_of(
    rc: sqlite3.Connection, start: float, end: float, *, use_daily: bool = True
) -> _Plan:
    hourly = read_progress(rc, "hourly")
    daily = read_progress(rc, "daily")
    first, segments = plan_segments(
        start,
        end,
        hourly.period_start if hourly else None,
        daily.period_start if daily and use_daily else None,
    )
    packed = None
    if hourly is not None and math.isfinite(hourly.period_start):
        packed = to_ms(hourly.period_start)
    return _Plan(first, segments, packed)


def _window(rc: sqlite3.Connection, now: float, window: float) -> _Plan:
    """The uptime window ending at ``now`` and the segments (days, hours, raw) it is read from."""
    start, end = uptime_window(now, window)
    # The window includes a run started exactly at ``now``.
    return _segments_of(rc, start, math.nextafter(end, math.inf))


def _tally(
    rc: sqlite3.Connection, pks: Sequence[int], plan: _Plan
) -> dict[int, tuple[int, int, int]]:
    """``pk -> (runs, passed, degraded)`` over the segments of ``plan`` for the checks
    ``pks``: one aggregate query per segment, whatever the number of checks or rows."""
    ids = json.dumps(list(pks))
    counts: dict[int, tuple[int, int, int]] = {}
    packed = plan.packed_before
    for seg in plan.segments:
        if seg.source == "raw":
            lo, hi = ms_ceil(seg.start), ms_ceil(seg.end)
            found = raw_tally(rc, pks, lo, hi, packed_before=packed).items()
            rows: Iterable[tuple[int, int, int, int]] = ((pk, *c) for pk, c in found)
        else:
            rows = rc.execute(_TALLY_SQL[seg.source], (ids, seg.start, seg.end))
        for pk, count, ok, degraded in rows:
            was = counts.get(pk, (0, 0, 0))
            counts[pk] = (was[0] + count, was[1] + ok, was[2] + degraded)
    return counts


def uptime_many(
    conns: Connections, check_ids: Sequence[str], *, now: float, window: float
) -> dict[str, Uptime]:
    """The uptime of each of ``check_ids`` that exists (archived ones too), by id."""
    with conns.read_transaction("reading uptime of several checks") as rc:
        pks = dict(
            rc.execute(
                "SELECT pk, id FROM checks WHERE id IN (SELECT value FROM json_each(?))",
                (json.dumps(list(check_ids)),),
            ).fetchall()
        )
        plan = _window(rc, now, window)
        counts = _tally(rc, list(pks), plan)
        start = plan.start
    return {
        check_id: Uptime(check_id, start, now, *counts.get(pk, (0, 0, 0)))
        for pk, check_id in pks.items()
    }


def availability(conns: Connections, check_id: str, *, now: float, window: float) -> Availability:
    """Uptime and latency of one check over a window: the runs counted as :func:`_tally`
    counts them (rollup rows by SQL, raw results one by one while they feed the latency
    figures: the same rows of the same snapshot, read once)."""
    with conns.read_transaction(f"reading availability of check {check_id!r}") as rc:
        pk = check_pk_of(rc, check_id)
        plan = _window(rc, now, window)
        rolled = [seg for seg in plan.segments if seg.source != "raw"]
        count, ok, degraded = _tally(rc, [pk], plan._replace(segments=rolled)).get(pk, (0, 0, 0))
        agg = Aggregate()
        for seg in plan.segments:
            if seg.source == "raw":
                lo, hi = ms_ceil(seg.start), ms_ceil(seg.end)
                for row in raw_points(rc, pk, lo, hi, packed_before=plan.packed_before):
                    agg.add_result(row[1], row[2], row[3])
                    count += 1
                    ok += row[2]
                    degraded += row[3]
            else:
                for row in rc.execute(_ROLLUP_SQL[seg.source], (pk, seg.start, seg.end)):
                    agg.add_rollup(rollup_from_row(row))
    figures = agg.to_availability(check_id, plan.start, now)
    return dataclasses.replace(
        figures,
        count=count,
        ok_count=ok,
        degraded_count=degraded,
        uptime_pct=uptime_pct(ok, count),
    )


def rollups(
    conns: Connections,
    check_id: str,
    *,
    level: Literal["hourly", "daily"],
    since: float | None,
    until: float | None,
) -> tuple[RollupRow, ...]:
    if level not in _ROLLUP_SQL:
        raise ValueError(f"level must be 'hourly' or 'daily', got {level!r}")
    lo = -math.inf if since is None else since
    hi = math.inf if until is None else until
    with conns.read_transaction(f"reading {level} rollups of check {check_id!r}") as rc:
        pk = check_pk_of(rc, check_id)
        rows = rc.execute(_ROLLUP_SQL[level] + " ORDER BY start", (pk, lo, hi)).fetchall()
    return tuple(rollup_from_row(row) for row in rows)


def series(
    conns: Connections, check_id: str, *, start: float, end: float, step: float
) -> list[SeriesPoint]:
    """Buckets of ``step`` seconds; raw results below an hour per step, rollups above.

    A rollup row lands in the bucket holding its start (clamped into the range), so steps
    that are multiples of the rollup period give exact buckets.
    """
    if not (math.isfinite(step) and step > 0):
        raise ValueError(f"step must be a positive number of seconds, got {step!r}")
    if not (math.isfinite(start) and math.isfinite(end) and end > start):
        raise ValueError(f"series needs start < end, got start={start!r} end={end!r}")
    count = math.ceil((end - start) / step)
    if count > MAX_POINTS:
        raise ValueError(f"step {step!r} gives {count} points; at most {MAX_POINTS} allowed")
    buckets = [Aggregate() for _ in range(count)]

    def slot(t: float) -> Aggregate:
        return buckets[min(count - 1, max(0, int((t - start) // step)))]

    with conns.read_transaction(f"reading the series of check {check_id!r}") as rc:
        pk = check_pk_of(rc, check_id)
        if step < HOUR:  # raw results all the way, from rows and blocks alike
            segments, packed = [Segment("raw", start, end)], None
        else:
            plan = _segments_of(rc, start, end, use_daily=step >= DAY)
            segments, packed = plan.segments, plan.packed_before
        for seg in segments:
            if seg.source == "raw":
                lo, hi = ms_ceil(max(seg.start, start)), ms_ceil(seg.end)
                for row in raw_points(rc, pk, lo, hi, packed_before=packed):
                    slot(row[0]).add_result(row[1], row[2], row[3])
            else:
                for row in rc.execute(_ROLLUP_SQL[seg.source], (pk, seg.start, seg.end)):
                    rollup = rollup_from_row(row)
                    slot(rollup.start).add_rollup(rollup)
    return [b.to_point(start + i * step) for i, b in enumerate(buckets)]
