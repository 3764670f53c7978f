-- NyxMon schema 5: sign-in sessions kept server-side, so signing out, a new password or
-- "sign out everywhere" ends them at once. The cookie holds a random token; only its SHA-256
-- is stored. expires_at is the sooner of the absolute end and the idle end (moved on use), so
-- the cleaner deletes a row once it is past it without knowing the web plane's settings.
CREATE TABLE web_sessions (
    token_hash   TEXT PRIMARY KEY,
    user         TEXT NOT NULL,
    created_at   REAL NOT NULL,
    last_seen_at REAL NOT NULL,
    ends_at      REAL NOT NULL,
    expires_at   REAL NOT NULL,
    client       TEXT NOT NULL DEFAULT '',
    user_agent   TEXT NOT NULL DEFAULT ''
) WITHOUT ROWID;
CREATE INDEX web_sessions_by_user ON web_sessions (user);
CREATE INDEX web_sessions_by_expiry ON web_sessions (expires_at);
