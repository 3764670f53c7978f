"""Incremental rollups for SQLite: hours from raw results, days from hours.

A step reads on a read-only connection (so the agent's writer keeps going meanwhile), lets
SQLite do the per-result work (see :mod:`.period_rollup`), then writes the new rows and the
moved progress in one short transaction. Work per step is bounded: every row read costs 1 and
every per-check index probe ``PROBE_COST``; a step stops at ``max_rows`` and records which check
it got to, so a 5,000-check hour or a year of backlog is spread over many small steps.

An hour is complete ``settle`` seconds after it ends, leaving time for the results of
long-running probes that started inside it; a result written later than that for an hour
already rolled up stays in the raw history but is not counted in the rollups.
"""

from __future__ import annotations

import bisect
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from nyxmon.domain.history.figures import DAY, HOUR
from nyxmon.domain.history.rollups import RollupRow, floor_to
from nyxmon.service_layer.records.upkeep import RollupReport
from tests.support.legacy_sqlite.codec import ROLLUP_COLUMNS, rollup_values
from tests.support.legacy_sqlite.connections import Connections, sqlite_errors
from tests.support.legacy_sqlite.period_rollup import day_row, hour_row
from tests.support.legacy_sqlite.progress import Level, Progress, read_progress, save_progress

__all__ = ["PROBE_COST", "rollup_step"]

PROBE_COST = 8


@dataclass(frozen=True, slots=True)
class _Spec:
    level: Level
    period: float
    table: str
    next_sql: str
    compute: Callable[[sqlite3.Connection, int, float, float], tuple[RollupRow | None, int]]


_HOURLY = _Spec(
    level="hourly",
    period=HOUR,
    table="rollup_hourly",
    next_sql="SELECT min(started_at) FROM results WHERE started_at >= ?",
    compute=hour_row,
)
_DAILY = _Spec(
    level="daily",
    period=DAY,
    table="rollup_daily",
    next_sql="SELECT min(start) FROM rollup_hourly WHERE start >= ?",
    compute=day_row,
)


@dataclass(slots=True)
class _Outcome:
    rows_read: int = 0
    written: int = 0
    through: float | None = None
    more: bool = False


def _plan(
    rc: sqlite3.Connection, spec: _Spec, limit: float, budget: int
) -> tuple[Progress | None, Progress | None, list[tuple[int, RollupRow]], int]:
    """Compute rows on the reader snapshot; returns (before, after, rows, rows read)."""
    before = read_progress(rc, spec.level)
    cursor = before or Progress(float("-inf"))
    pks: Sequence[int] = [r[0] for r in rc.execute("SELECT pk FROM checks ORDER BY pk")]
    out: list[tuple[int, RollupRow]] = []
    cost = read = 0
    while cursor.period_start < limit and cost < budget:
        if cursor.after_check_pk == 0:
            # Jump over periods without any data (an agent that was off for a week).
            first = rc.execute(spec.next_sql, (cursor.period_start,)).fetchone()[0]
            start = limit if first is None else min(floor_to(first, spec.period), limit)
            cursor = Progress(max(cursor.period_start, start))
            if cursor.period_start >= limit:
                break
        start = cursor.period_start
        end = start + spec.period
        for pk in pks[bisect.bisect_right(pks, cursor.after_check_pk) :]:
            row, n = spec.compute(rc, pk, start, end)
            cost += PROBE_COST + n
            read += n
            if row is not None:
                out.append((pk, row))
            cursor = Progress(start, pk)
            if cost >= budget:
                break
        else:
            cursor = Progress(end)
    if before is None and cursor.period_start == float("-inf"):
        return before, None, out, read
    return before, cursor, out, read


def _roll(conns: Connections, spec: _Spec, limit: float | None, budget: int) -> _Outcome:
    if limit is None:
        return _Outcome()
    with sqlite_errors(f"rolling up {spec.level}"):
        # No read transaction around the plan: each query sees the latest commit, so no long
        # snapshot pins the WAL and stops checkpoints from completing. Nothing it reads can
        # change under it: the cleaner deletes only before the progress, and the progress
        # itself moves by compare-and-set.
        before, after, rows, read = _plan(conns.reader(), spec, limit, budget)
        if after is None:
            return _Outcome()
        if after != before or rows:
            with conns.write_lock.held(urgent=False):
                w = conns.writer
                w.execute("BEGIN IMMEDIATE")
                try:
                    if not save_progress(w, spec.level, before, after):
                        w.execute("ROLLBACK")
                        return _Outcome(more=True)
                    w.executemany(
                        f"INSERT OR REPLACE INTO {spec.table} (check_pk, {ROLLUP_COLUMNS})"
                        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        [rollup_values(pk, row) for pk, row in rows],
                    )
                    w.execute("COMMIT")
                except BaseException:
                    if w.in_transaction:
                        w.execute("ROLLBACK")
                    raise
            if rows:
                conns.checkpoint()
        return _Outcome(read, len(rows), after.period_start, after.period_start < limit)


def _daily_limit(conns: Connections) -> float | None:
    with sqlite_errors("reading rollup progress"):
        hourly = read_progress(conns.reader(), "hourly")
    return None if hourly is None else floor_to(hourly.period_start, DAY)


def rollup_step(conns: Connections, now: float, *, max_rows: int, settle: float) -> RollupReport:
    """Roll up complete hours, then complete days, each within ``max_rows`` of work."""
    if max_rows < PROBE_COST:
        raise ValueError(f"max_rows must be >= {PROBE_COST}, got {max_rows}")
    hourly = _roll(conns, _HOURLY, floor_to(now - settle, HOUR), max_rows)
    daily = _roll(conns, _DAILY, _daily_limit(conns), max_rows)
    with sqlite_errors("reading rollup progress"):
        rc = conns.reader()
        hourly_now = read_progress(rc, "hourly")
        daily_now = read_progress(rc, "daily")
    return RollupReport(
        rows_read=hourly.rows_read + daily.rows_read,
        hourly_written=hourly.written,
        daily_written=daily.written,
        hourly_through=hourly_now.period_start if hourly_now else None,
        daily_through=daily_now.period_start if daily_now else None,
        more=hourly.more or daily.more,
    )
