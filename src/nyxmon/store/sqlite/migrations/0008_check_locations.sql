-- NyxMon schema 8: checks probed from several locations (several agents on PostgreSQL; on
-- SQLite a check may name the agent's own location only). `locations` is the JSON list of
-- Check.locations, `quorum` NULL for "a majority of them". Each location's view of a check
-- (its verdict over that location's results, nyxmon.domain.locations) is a row of
-- location_views, written with the results that changed it.
ALTER TABLE checks ADD COLUMN locations TEXT NOT NULL DEFAULT '[]';
ALTER TABLE checks ADD COLUMN quorum INTEGER;
CREATE TABLE location_views (
    check_id       TEXT NOT NULL,
    location       TEXT NOT NULL,
    state          TEXT NOT NULL,
    since          REAL,
    last_result_at REAL,
    message        TEXT NOT NULL DEFAULT '',
    agent_id       INTEGER,
    counters       TEXT NOT NULL DEFAULT '{}',
    PRIMARY KEY (check_id, location)
);
