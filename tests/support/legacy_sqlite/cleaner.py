"""Retention for SQLite: delete expired rows in small transactions.

Each table loses at most ``max_rows`` oldest rows per step, each table in its own short
transaction, so the agent's writer waits at most one small delete. A row is expired when it is
older than its retention *and* already counted in the next resolution: raw results only once
their hour is rolled up, hourly rows only once their day is, so history is never lost because
the rollup fell behind.
"""

from __future__ import annotations

import math

from nyxmon.domain.history.figures import DAY
from nyxmon.service_layer.records.upkeep import CleanerReport, Retention
from tests.support.legacy_sqlite.connections import Connections, sqlite_errors
from tests.support.legacy_sqlite.progress import read_progress

__all__ = ["cleaner_step"]

_DELETES = {
    # The inner SELECT walks the time index from its oldest end; rowids of rows written in
    # time order are neighbours, so each chunk touches few pages.
    "results": "DELETE FROM results WHERE id IN"
    " (SELECT id FROM results WHERE started_at < ? ORDER BY started_at LIMIT ?)",
    "rollup_hourly": "DELETE FROM rollup_hourly WHERE (check_pk, start) IN"
    " (SELECT check_pk, start FROM rollup_hourly WHERE start < ? ORDER BY start LIMIT ?)",
    "rollup_daily": "DELETE FROM rollup_daily WHERE (check_pk, start) IN"
    " (SELECT check_pk, start FROM rollup_daily WHERE start < ? ORDER BY start LIMIT ?)",
    # Settled notifications only: a pending one is never deleted, however old.
    "outbox": "DELETE FROM outbox WHERE id IN (SELECT id FROM outbox WHERE created_at < ?"
    " AND status IN ('delivered', 'given_up') ORDER BY id LIMIT ?)",
    "state_changes": "DELETE FROM state_changes WHERE id IN"
    " (SELECT id FROM state_changes WHERE at < ? ORDER BY at LIMIT ?)",
    # Sign-in sessions past their end (absolute or idle, whichever came first).
    "web_sessions": "DELETE FROM web_sessions WHERE token_hash IN"
    " (SELECT token_hash FROM web_sessions WHERE expires_at < ? ORDER BY expires_at LIMIT ?)",
}


def _delete_chunk(conns: Connections, table: str, horizon: float, max_rows: int) -> int:
    if horizon == -math.inf:
        return 0
    with sqlite_errors(f"deleting expired rows from {table}"), conns.write_lock.held(urgent=False):
        w = conns.writer
        w.execute("BEGIN IMMEDIATE")
        try:
            deleted = w.execute(_DELETES[table], (horizon, max_rows)).rowcount
            w.execute("COMMIT")
        except BaseException:
            if w.in_transaction:
                w.execute("ROLLBACK")
            raise
    return int(deleted)


def horizons(conns: Connections, now: float, retention: Retention) -> dict[str, float]:
    """The time before which each table's rows may go (``-inf``: none may yet)."""
    with sqlite_errors("reading rollup progress"):
        rc = conns.reader()
        hourly = read_progress(rc, "hourly")
        daily = read_progress(rc, "daily")
    return {
        "results": -math.inf
        if hourly is None
        else min(now - retention.raw_days * DAY, hourly.period_start),
        "rollup_hourly": -math.inf
        if daily is None
        else min(now - retention.hourly_days * DAY, daily.period_start),
        "rollup_daily": now - retention.daily_days * DAY,
        # Notifications as long as raw results; state history (incidents) as long as the
        # daily rollups it is shown beside.
        "outbox": now - retention.raw_days * DAY,
        "state_changes": now - retention.daily_days * DAY,
        "web_sessions": now,
    }


def cleaner_step(
    conns: Connections, now: float, retention: Retention, *, max_rows: int
) -> CleanerReport:
    """Delete up to ``max_rows`` expired rows from each table; ``more`` if a chunk was full."""
    if max_rows < 1:
        raise ValueError(f"max_rows must be >= 1, got {max_rows}")
    limits = horizons(conns, now, retention)
    raw = _delete_chunk(conns, "results", limits["results"], max_rows)
    hourly = _delete_chunk(conns, "rollup_hourly", limits["rollup_hourly"], max_rows)
    daily = _delete_chunk(conns, "rollup_daily", limits["rollup_daily"], max_rows)
    other = _delete_chunk(conns, "outbox", limits["outbox"], max_rows)
    other = max(other, _delete_chunk(conns, "state_changes", limits["state_changes"], max_rows))
    other = max(other, _delete_chunk(conns, "web_sessions", limits["web_sessions"], max_rows))
    if raw or hourly or daily or other:
        conns.checkpoint()
    return CleanerReport(
        raw_deleted=raw,
        hourly_deleted=hourly,
        daily_deleted=daily,
        more=max(raw, hourly, daily, other) >= max_rows,
    )
