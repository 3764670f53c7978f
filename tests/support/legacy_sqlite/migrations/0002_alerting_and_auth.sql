-- NyxMon schema 2: alert state per check, its transitions, the notification outbox, and the
-- web plane's users, API tokens and settings.

-- The alert state machine's snapshot per check (JSON), so a restart resumes where it was.
CREATE TABLE check_states (
    check_pk   INTEGER PRIMARY KEY REFERENCES checks (pk) ON DELETE CASCADE,
    state      TEXT NOT NULL,
    since      REAL,
    snapshot   TEXT NOT NULL,
    updated_at REAL NOT NULL
);

-- Every state change: the history and incidents (down -> up) are read from here.
CREATE TABLE state_changes (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    check_pk   INTEGER NOT NULL REFERENCES checks (pk) ON DELETE CASCADE,
    at         REAL NOT NULL,
    from_state TEXT NOT NULL,
    to_state   TEXT NOT NULL,
    message    TEXT NOT NULL DEFAULT ''
);
CREATE INDEX state_changes_by_check ON state_changes (check_pk, at);
CREATE INDEX state_changes_by_time ON state_changes (at);

-- The outbox: one row per notice per route, written in the transaction of the state change
-- that caused it. "key" is the idempotency key receivers deduplicate on.
CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    key             TEXT NOT NULL UNIQUE,
    check_id        TEXT NOT NULL,
    route           TEXT NOT NULL,
    kind            TEXT NOT NULL,
    payload         TEXT NOT NULL,
    created_at      REAL NOT NULL,
    status          TEXT NOT NULL DEFAULT 'pending'
                    CHECK (status IN ('pending', 'delivered', 'given_up')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at REAL NOT NULL,
    last_error      TEXT NOT NULL DEFAULT '',
    delivered_at    REAL
);
CREATE INDEX outbox_pending ON outbox (status, next_attempt_at);
CREATE INDEX outbox_by_check ON outbox (check_id, id);

CREATE TABLE users (
    name          TEXT PRIMARY KEY,
    password_hash TEXT NOT NULL,
    created_at    REAL NOT NULL,
    updated_at    REAL NOT NULL
) WITHOUT ROWID;

-- Only a hash of each token is stored; the token itself is shown once when created.
CREATE TABLE api_tokens (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    name         TEXT NOT NULL,
    token_hash   TEXT NOT NULL UNIQUE,
    owner        TEXT NOT NULL,
    created_at   REAL NOT NULL,
    last_used_at REAL,
    revoked_at   REAL
);

-- Small settings the agent generates once and keeps (the session-signing secret).
CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;
