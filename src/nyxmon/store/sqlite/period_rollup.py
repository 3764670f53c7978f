"""One check's rollup row for one period, computed mostly inside SQLite.

Hours: SQLite groups the hour's results by histogram bucket (count, ok, degraded, min, max and
sum per bucket) and, when the 95th-percentile rank falls inside a bucket, fetches that one value
with ``ORDER BY duration LIMIT 1 OFFSET rank-1``. Python then sees a dozen rows per hour instead
of every result: the rollup barely holds the GIL, so the agent's writer thread keeps its pace
while a backlog is rolled up. Days merge their hourly rows in Python (24 small rows).

The SQL bucket expression must equal :func:`nyxmon.domain.history.histogram.bucket_of`;
both divide by the same ``FLOOR`` and take the same C ``log``, and a test holds them together.
"""

from __future__ import annotations

import math
import sqlite3

from nyxmon.domain.history.histogram import FLOOR, GAMMA, DurationHistogram
from nyxmon.domain.history.rollups import RollupRow, rollup_of_rollups
from nyxmon.store.sqlite.codec import ROLLUP_COLUMNS, rollup_from_row, to_ms

__all__ = ["BUCKET_PARAMS", "BUCKET_SQL", "day_row", "hour_row"]

#: The histogram bucket of column ``duration``; bind BUCKET_PARAMS with it.
BUCKET_SQL = (
    "CASE WHEN duration < :floor THEN 0"
    " ELSE 1 + CAST(ln(duration / :floor) / :log_gamma AS INTEGER) END"
)
BUCKET_PARAMS = {"floor": FLOOR, "log_gamma": math.log(GAMMA)}

_BUCKETS = (
    f"SELECT {BUCKET_SQL} AS bucket, count(*), sum(outcome = 0), sum(degraded),"
    " min(duration), max(duration), sum(duration) FROM (SELECT outcome, degraded,"
    " duration_us / 1000000.0 AS duration FROM results"
    " WHERE check_pk = :pk AND started_ms >= :start AND started_ms < :end) GROUP BY bucket"
)
_NTH = (
    "SELECT duration_us / 1000000.0 FROM results"
    " WHERE check_pk = ? AND started_ms >= ? AND started_ms < ?"
    " ORDER BY duration_us LIMIT 1 OFFSET ?"
)
_HOURS_OF_DAY = (
    f"SELECT {ROLLUP_COLUMNS} FROM rollup_hourly WHERE check_pk = ? AND start >= ? AND start < ?"
)


def hour_row(
    rc: sqlite3.Connection, pk: int, start: float, end: float
) -> tuple[RollupRow | None, int]:
    """The row of results ``start <= started_at < end`` of check ``pk`` and how many it read.

    Reads the rows of ``results`` only: an hour is packed into blocks in the transaction that
    writes its rollup row, so before that every result of it is still a row."""
    start_ms, end_ms = to_ms(start), to_ms(end)
    buckets = sorted(
        rc.execute(
            _BUCKETS, {**BUCKET_PARAMS, "pk": pk, "start": start_ms, "end": end_ms}
        ).fetchall()
    )
    if not buckets:
        return None, 0
    count = sum(b[1] for b in buckets)
    rank = max(1, math.ceil(0.95 * count))
    seen = 0
    p95 = buckets[-1][5]
    for _, n, _, _, lo, hi, _ in buckets:
        if seen + n >= rank:
            position = rank - seen
            if position == 1 or lo == hi:
                p95 = lo
            elif position == n:
                p95 = hi
            else:
                p95 = rc.execute(_NTH, (pk, start_ms, end_ms, rank - 1)).fetchone()[0]
            break
        seen += n
    row = RollupRow(
        start=start,
        count=count,
        ok_count=sum(b[2] for b in buckets),
        degraded_count=sum(b[3] for b in buckets),
        duration_min=buckets[0][4],
        duration_max=max(b[5] for b in buckets),
        duration_sum=math.fsum(b[6] for b in buckets),
        duration_p95=p95,
        histogram=DurationHistogram({b[0]: b[1] for b in buckets}),
    )
    return row, count


def day_row(
    rc: sqlite3.Connection, pk: int, start: float, end: float
) -> tuple[RollupRow | None, int]:
    """The row of check ``pk`` for ``[start, end)`` from its hourly rows."""
    hours = [rollup_from_row(r) for r in rc.execute(_HOURS_OF_DAY, (pk, start, end))]
    if not hours:
        return None, 0
    return rollup_of_rollups(start, hours), len(hours)
