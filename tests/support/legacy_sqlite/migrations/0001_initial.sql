-- NyxMon schema 1: services, checks, results, hourly and daily rollups.
-- Times are POSIX seconds (REAL), durations seconds. JSON columns hold text.
-- Checks get an integer surrogate key (pk) so the millions of result rows and their indexes
-- carry a small integer instead of the check's text id.

CREATE TABLE services (
    name        TEXT PRIMARY KEY,
    grp         TEXT NOT NULL DEFAULT '',
    labels      TEXT NOT NULL DEFAULT '{}',
    description TEXT NOT NULL DEFAULT '',
    source      TEXT NOT NULL CHECK (source IN ('config', 'api')),
    created_at  REAL NOT NULL,
    updated_at  REAL NOT NULL
) WITHOUT ROWID;

CREATE TABLE checks (
    pk          INTEGER PRIMARY KEY AUTOINCREMENT,
    id          TEXT NOT NULL UNIQUE,
    service     TEXT NOT NULL,
    name        TEXT NOT NULL,
    type        TEXT NOT NULL,
    interval    REAL NOT NULL CHECK (interval > 0),
    timeout     REAL NOT NULL CHECK (timeout > 0),
    params      TEXT NOT NULL DEFAULT '{}',
    conditions  TEXT NOT NULL DEFAULT '[]',
    enabled     INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
    paused      INTEGER NOT NULL DEFAULT 0 CHECK (paused IN (0, 1)),
    labels      TEXT NOT NULL DEFAULT '{}',
    source      TEXT NOT NULL CHECK (source IN ('config', 'api')),
    created_at  REAL NOT NULL,
    updated_at  REAL NOT NULL,
    -- Set when the check left the config file; history stays, re-adding the id revives it.
    archived_at REAL
);
CREATE INDEX checks_by_service ON checks (service);

-- AUTOINCREMENT: result ids are never reused, so links and outbox rows stay unambiguous.
CREATE TABLE results (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    check_pk     INTEGER NOT NULL REFERENCES checks (pk) ON DELETE CASCADE,
    scheduled_at REAL NOT NULL,
    started_at   REAL NOT NULL,
    duration     REAL NOT NULL CHECK (duration >= 0),
    outcome      TEXT NOT NULL CHECK (outcome IN ('ok', 'fail', 'error', 'timeout')),
    degraded     INTEGER NOT NULL DEFAULT 0 CHECK (degraded IN (0, 1)),
    message      TEXT NOT NULL DEFAULT '',
    timings      TEXT NOT NULL DEFAULT '{}',
    details      TEXT NOT NULL DEFAULT '{}'
);
-- Serves a check's history and its latest result (id right after started_at, so ORDER BY
-- started_at DESC, id DESC needs no sort), and covers what rollups and uptime windows read:
-- they scan a check's hour in the index alone instead of fetching every row from the table,
-- whose rows of one check are spread among every other check's (measured: several times
-- faster rollups for twice this index's size).
CREATE INDEX results_by_check_time ON results (check_pk, started_at, id, duration, outcome, degraded);
-- Serves retention (oldest first) and the oldest/newest figures.
CREATE INDEX results_by_time ON results (started_at);

CREATE TABLE rollup_hourly (
    check_pk       INTEGER NOT NULL REFERENCES checks (pk) ON DELETE CASCADE,
    start          REAL NOT NULL,
    count          INTEGER NOT NULL CHECK (count > 0),
    ok_count       INTEGER NOT NULL,
    degraded_count INTEGER NOT NULL,
    duration_min   REAL NOT NULL,
    duration_max   REAL NOT NULL,
    duration_sum   REAL NOT NULL,
    duration_p95   REAL NOT NULL,
    -- Sparse log-bucket counts ({"bucket": count}); see nyxmon.store.histogram.
    histogram      TEXT NOT NULL,
    PRIMARY KEY (check_pk, start)
) WITHOUT ROWID;
CREATE INDEX rollup_hourly_by_start ON rollup_hourly (start);

CREATE TABLE rollup_daily (
    check_pk       INTEGER NOT NULL REFERENCES checks (pk) ON DELETE CASCADE,
    start          REAL NOT NULL,
    count          INTEGER NOT NULL CHECK (count > 0),
    ok_count       INTEGER NOT NULL,
    degraded_count INTEGER NOT NULL,
    duration_min   REAL NOT NULL,
    duration_max   REAL NOT NULL,
    duration_sum   REAL NOT NULL,
    duration_p95   REAL NOT NULL,
    histogram      TEXT NOT NULL,
    PRIMARY KEY (check_pk, start)
) WITHOUT ROWID;
CREATE INDEX rollup_daily_by_start ON rollup_daily (start);

-- How far each rollup level got: every period before period_start is done; within
-- period_start, checks up to after_check_pk are done (a step does a bounded amount of work).
CREATE TABLE rollup_progress (
    level          TEXT PRIMARY KEY CHECK (level IN ('hourly', 'daily')),
    period_start   REAL NOT NULL,
    after_check_pk INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
