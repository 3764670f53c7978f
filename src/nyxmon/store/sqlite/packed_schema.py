"""The tables results live in from schema 7 on, as SQL (created by migration 0007).

Recent results stay one row each in ``results`` (integer milliseconds and microseconds, the
outcome as a small integer, message, timings and details as text): that is what the writer
appends to and what the newest hours' reads and the rollups scan. An hour after their hour is
rolled up, each check's results of it move into one row of ``result_blocks`` (see
:mod:`nyxmon.store.packing`), whose repeated text lives once per check in ``result_templates``.
A block spans less than an hour (``BLOCK_SPAN_MS``), which is what lets readers find the blocks
of a time range from an index alone.
"""

from __future__ import annotations

__all__ = ["BLOCK_SPAN_MS", "INDEXES", "TABLES"]

#: Every block's results start within this many milliseconds of its first one.
BLOCK_SPAN_MS = 3_600_000

#: The new tables; ``{results}`` is the name the recent-results table is created under.
TABLES = (
    """CREATE TABLE IF NOT EXISTS {results} (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    check_pk    INTEGER NOT NULL REFERENCES checks (pk) ON DELETE CASCADE,
    started_ms  INTEGER NOT NULL,
    -- started minus scheduled (the start lag; negative if the run started early)
    lag_ms      INTEGER NOT NULL,
    duration_us INTEGER NOT NULL CHECK (duration_us >= 0),
    -- 0 ok, 1 fail, 2 error, 3 timeout (nyxmon.store.sqlite.codec.OUTCOME_CODES)
    outcome     INTEGER NOT NULL CHECK (outcome BETWEEN 0 AND 3),
    degraded    INTEGER NOT NULL DEFAULT 0 CHECK (degraded IN (0, 1)),
    message     TEXT NOT NULL DEFAULT '',
    timings     TEXT NOT NULL DEFAULT '{{}}',
    details     TEXT NOT NULL DEFAULT '{{}}'
)""",
    # One row per check per distinct template (a 64-bit digest of its text is the key blocks
    # refer to); last_ms is the newest block end using it, so the cleaner can drop it after.
    # Rowid tables with an index rather than WITHOUT ROWID: a template or block of more than
    # about 1,000 bytes would spill into a mostly empty overflow page of an index b-tree.
    """CREATE TABLE IF NOT EXISTS result_templates (
    id       INTEGER PRIMARY KEY,
    check_pk INTEGER NOT NULL REFERENCES checks (pk) ON DELETE CASCADE,
    digest   INTEGER NOT NULL,
    last_ms  INTEGER NOT NULL,
    template TEXT NOT NULL
)""",
    "CREATE UNIQUE INDEX IF NOT EXISTS result_templates_by_digest"
    " ON result_templates (check_pk, digest)",
    # first_id makes the key unique when a late result gets its own block for an hour.
    """CREATE TABLE IF NOT EXISTS result_blocks (
    id       INTEGER PRIMARY KEY,
    check_pk INTEGER NOT NULL REFERENCES checks (pk) ON DELETE CASCADE,
    first_ms INTEGER NOT NULL,
    first_id INTEGER NOT NULL,
    last_ms  INTEGER NOT NULL,
    count    INTEGER NOT NULL CHECK (count > 0),
    data     BLOB NOT NULL
)""",
    # A check's blocks by time (covering what decides whether to read one).
    "CREATE UNIQUE INDEX IF NOT EXISTS result_blocks_by_check"
    " ON result_blocks (check_pk, first_ms, first_id, last_ms)",
    # Retention (oldest first), counts and the oldest/newest figures, from the index alone.
    "CREATE INDEX IF NOT EXISTS result_blocks_by_time ON result_blocks (first_ms, last_ms, count)",
)

#: Indexes of the recent-results table, created once it has its final name.
INDEXES = (
    # A check's history and newest result (id after the time: ORDER BY started_ms DESC, id
    # DESC needs no sort), covering what rollups and uptime read of the current hour.
    "CREATE INDEX IF NOT EXISTS results_by_check_time"
    " ON results (check_pk, started_ms, id, duration_us, outcome, degraded)",
    # Packing late results (oldest first) and the oldest/newest figures.
    "CREATE INDEX IF NOT EXISTS results_by_time ON results (started_ms)",
)
