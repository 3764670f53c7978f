-- NyxMon on PostgreSQL, schema 8 (as SQLite's 0008_check_locations.sql): checks probed from
-- several locations. `locations` is the JSON list of Check.locations, `quorum` NULL for "a
-- majority of them"; location_views holds each location's view of a check (its verdict over
-- that location's results, nyxmon.domain.locations), written with the results that changed it.
ALTER TABLE checks ADD COLUMN locations text NOT NULL DEFAULT '[]';
ALTER TABLE checks ADD COLUMN quorum integer;
CREATE TABLE location_views (
    check_id       text NOT NULL,
    location       text NOT NULL,
    state          text NOT NULL,
    since          double precision,
    last_result_at double precision,
    message        text NOT NULL DEFAULT '',
    agent_id       bigint,
    counters       text NOT NULL DEFAULT '{}',
    PRIMARY KEY (check_id, location)
);
