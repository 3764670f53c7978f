"""Migration 0007: results from float/JSON rows to integer rows and packed blocks, in place.

Schema 6 kept every result as a row with float times, the outcome as text, and timings and
details as JSON (about 310 bytes a result with its two indexes). Schema 7 keeps recent results
as integer rows and packs every hour already rolled up into blocks (:mod:`.packed_schema`).

The conversion runs in many short transactions, one check each, and records how far it got,
so an interrupted migration resumes where it stopped; the old table stays untouched (and a
NyxMon of schema 6 keeps working) until the last transaction, which checks that the old and
the new tables hold the same number of results, swaps them and sets the version, or leaves
the database at version 6 and says why. Before anything changes, an existing database is
copied to ``<database>.pre-v7.bak`` with ``VACUUM INTO`` (kept if a previous attempt made it),
and after the swap the file is vacuumed once so the old table's space goes back to the disk.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from nyxmon.errors import StoreError
from nyxmon.store.sqlite.codec import OUTCOME_CODES, RESULT_INSERT_COLUMNS, timings_text, to_ms
from nyxmon.store.sqlite.packed_schema import BLOCK_SPAN_MS, INDEXES, TABLES
from nyxmon.store.sqlite.packer import PackPlan, insert_blocks, packed_row
from nyxmon.store.sqlite.rollup_job import PACK_LAG

__all__ = [
    "VERSION",
    "backup_path",
    "convert_step",
    "finish",
    "migrate_to_packed",
    "prepare",
]

log = logging.getLogger(__name__)

VERSION = 7
_NEW = "results_v7"
_STATE = "migration_0007"
_OLD_COLUMNS = (
    "id, check_pk, started_at, scheduled_at, duration, outcome, degraded, message, timings, details"
)


def backup_path(location: str) -> Path:
    """Where the copy of a schema-6 database is kept."""
    return Path(f"{location}.pre-v{VERSION}.bak")


def _in_transaction(conn: sqlite3.Connection) -> contextlib.AbstractContextManager[None]:
    @contextlib.contextmanager
    def run() -> Any:
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    return run()


def _backup(conn: sqlite3.Connection, location: str) -> None:
    target = backup_path(location)
    if location == ":memory:" or target.exists():
        return
    partial = Path(f"{target}.partial")
    partial.unlink(missing_ok=True)
    log.warning("migrating %s to schema %d; backing it up to %s first", location, VERSION, target)
    conn.execute("VACUUM INTO ?", (str(partial),))
    os.replace(partial, target)


def _state(conn: sqlite3.Connection) -> dict[str, int]:
    return dict(conn.execute(f"SELECT key, value FROM {_STATE}").fetchall())


def prepare(conn: sqlite3.Connection) -> None:
    """Create the new tables and the progress record (nothing if a previous attempt did)."""
    with _in_transaction(conn):
        for sql in TABLES:
            conn.execute(sql.format(results=_NEW))
        conn.execute(
            f"CREATE TABLE IF NOT EXISTS {_STATE} (key TEXT PRIMARY KEY, value INTEGER NOT NULL)"
        )
        if not _state(conn):
            max_id = conn.execute("SELECT coalesce(max(id), 0) FROM results").fetchone()[0]
            row = conn.execute(
                "SELECT period_start FROM rollup_progress WHERE level = 'hourly'"
            ).fetchone()
            # What the rollup step would have packed by now; the rest stays rows, as the
            # rollup step will find them.
            packed_before = to_ms(row[0] - PACK_LAG) if row and row[0] > -1e15 else -(1 << 62)
            conn.executemany(
                f"INSERT INTO {_STATE} (key, value) VALUES (?, ?)",
                [("after_pk", 0), ("max_id", max_id), ("packed_before_ms", packed_before)],
            )


def _converted(row: Sequence[Any]) -> tuple[Any, ...]:
    """An old row (``_OLD_COLUMNS``) as a new one (``id`` then RESULT_INSERT_COLUMNS)."""
    started_ms = to_ms(row[2])
    try:
        timings = json.loads(row[8])
    except ValueError:
        timings = {}
    return (
        row[0],
        row[1],
        started_ms,
        started_ms - to_ms(row[3]),
        round(row[4] * 1_000_000),
        OUTCOME_CODES[row[5]],
        int(row[6]),
        row[7],
        timings_text(timings),
        row[9],
    )


def _insert_rows(conn: sqlite3.Connection, rows: Sequence[tuple[Any, ...]]) -> None:
    conn.executemany(
        f"INSERT INTO {_NEW} (id, {RESULT_INSERT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )


def convert_step(conn: sqlite3.Connection) -> bool:
    """Convert the results of the next check in one transaction; False when none is left."""
    with _in_transaction(conn):
        state = _state(conn)
        row = conn.execute("SELECT min(pk) FROM checks WHERE pk > ?", (state["after_pk"],))
        pk = row.fetchone()[0]
        if pk is None:
            return False
        old = conn.execute(
            f"SELECT {_OLD_COLUMNS} FROM results WHERE check_pk = ? AND id <= ?",
            (pk, state["max_id"]),
        ).fetchall()
        rows = sorted((_converted(r) for r in old), key=lambda r: (r[2], r[0]))
        recent = [r for r in rows if r[2] >= state["packed_before_ms"]]
        hours: dict[int, list[tuple[Any, ...]]] = {}
        for r in rows:
            if r[2] < state["packed_before_ms"]:
                hours.setdefault(r[2] // BLOCK_SPAN_MS, []).append(r)
        plan = PackPlan()
        for members in hours.values():
            plan.add(pk, [packed_row(r) for r in members])
        insert_blocks(conn, plan)
        _insert_rows(conn, recent)
        conn.execute(f"UPDATE {_STATE} SET value = ? WHERE key = 'after_pk'", (pk,))
    return True


def finish(conn: sqlite3.Connection, location: str) -> None:
    """Check the counts, swap the tables and set version 7, in one transaction."""
    with _in_transaction(conn):
        state = _state(conn)
        # Rows an older NyxMon wrote while the migration was interrupted: kept as rows.
        late = conn.execute(
            f"SELECT {_OLD_COLUMNS} FROM results WHERE id > ?", (state["max_id"],)
        ).fetchall()
        _insert_rows(conn, [_converted(r) for r in late])
        old = conn.execute("SELECT count(*) FROM results").fetchone()[0]
        rows = conn.execute(f"SELECT count(*) FROM {_NEW}").fetchone()[0]
        packed = conn.execute("SELECT coalesce(sum(count), 0) FROM result_blocks").fetchone()[0]
        if old != rows + packed:
            raise StoreError(
                f"migrating {location} to schema {VERSION}: the old table holds {old} results, "
                f"the new tables {rows + packed} ({rows} rows, {packed} packed); nothing was "
                f"changed, the database stays at schema version 6 (backup: "
                f"{backup_path(location)})"
            )
        seq = conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'results'").fetchone()
        conn.execute("DROP TABLE results")
        conn.execute(f"ALTER TABLE {_NEW} RENAME TO results")
        for sql in INDEXES:
            conn.execute(sql)
        # AUTOINCREMENT: ids of deleted results are never handed out again.
        conn.execute("DELETE FROM sqlite_sequence WHERE name IN ('results', ?)", (_NEW,))
        top = conn.execute("SELECT coalesce(max(id), 0) FROM results").fetchone()[0]
        conn.execute(
            "INSERT INTO sqlite_sequence (name, seq) VALUES ('results', ?)",
            (max(top, seq[0] if seq else 0),),
        )
        conn.execute(f"DROP TABLE {_STATE}")
        conn.execute(f"PRAGMA user_version = {VERSION:d}")
    log.info("migrated %s to schema %d: %d results (%d packed)", location, VERSION, old, packed)


def migrate_to_packed(conn: sqlite3.Connection, location: str, *, existing: bool) -> None:
    """The whole migration (resuming a previous attempt), then a vacuum for an existing
    database (failing only if another process holds it open: the space is then reused)."""
    had_results = existing and conn.execute("SELECT 1 FROM results LIMIT 1").fetchone()
    if had_results:
        _backup(conn, location)
    prepare(conn)
    while convert_step(conn):
        pass
    finish(conn, location)
    if had_results and location != ":memory:":
        try:
            conn.execute("VACUUM")
        except sqlite3.OperationalError as exc:
            log.warning("could not vacuum %s after migrating it: %s", location, exc)
