"""Users, API tokens, sessions and settings of the web plane in SQLite (only hashes are stored).

Every revocation also advances a counter in ``settings`` (:data:`REVOCATIONS_KEY`) in the same
transaction, so a web plane in another process learns that some token was revoked by reading one
row, and never serves a revoked token from its cache (:mod:`nyxmon.web.auth`). Sessions ended
before their time (a sign-out, a new password) advance :data:`SESSION_REVOCATIONS_KEY` likewise
(:mod:`nyxmon.web.sessions`).
"""

from __future__ import annotations

from typing import Any

from nyxmon.service_layer.records.accounts import SessionRecord, TokenRecord, TokenScope, UserRecord

__all__ = ["REVOCATIONS_KEY", "SESSION_REVOCATIONS_KEY", "SqliteAuthRepository"]

REVOCATIONS_KEY = "auth.token_revocations"
SESSION_REVOCATIONS_KEY = "auth.session_revocations"
_TOKEN_COLUMNS = "id, name, owner, created_at, last_used_at, revoked_at, scope"
SESSION_COLUMNS = (
    "token_hash, user, created_at, last_seen_at, ends_at, expires_at, client, user_agent"
)
_BUMP = (
    "INSERT INTO settings (key, value) VALUES (?, '1')"
    " ON CONFLICT (key) DO UPDATE SET value = CAST(value AS INTEGER) + 1"
)


class SqliteAuthRepository:
    """Within a transaction: writes go into the caller's transaction."""

    def __init__(self, conn: Any, now: float) -> None:
        self._conn = conn
        self._now = now

    def put_user(self, name: str, password_hash: str) -> None:
        self._conn.execute(
            "INSERT INTO users (name, password_hash, created_at, updated_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (name) DO UPDATE SET password_hash = excluded.password_hash,"
            " updated_at = excluded.updated_at",
            (name, password_hash, self._now, self._now),
        )
        self.end_sessions(name)

    def create_token(
        self, name: str, token_hash: str, owner: str, scope: TokenScope = "admin"
    ) -> TokenRecord:
        cursor = self._conn.execute(
            "INSERT INTO api_tokens (name, token_hash, owner, created_at, scope)"
            " VALUES (?, ?, ?, ?, ?)",
            (name, token_hash, owner, self._now, scope),
        )
        return TokenRecord(int(cursor.lastrowid), name, owner, self._now, None, None, scope)

    def revoke_token(self, token_id: int) -> bool:
        cursor = self._conn.execute(
            "UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
            (self._now, token_id),
        )
        if not cursor.rowcount:
            return False
        self._conn.execute(_BUMP, (REVOCATIONS_KEY,))
        return True

    def create_session(self, session: SessionRecord) -> None:
        self._conn.execute(
            f"INSERT INTO web_sessions ({SESSION_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                session.token_hash,
                session.user,
                session.created_at,
                session.last_seen_at,
                session.ends_at,
                session.expires_at,
                session.client,
                session.user_agent,
            ),
        )

    def touch_session(self, token_hash: str, last_seen_at: float, expires_at: float) -> None:
        self._conn.execute(
            "UPDATE web_sessions SET last_seen_at = ?, expires_at = ? WHERE token_hash = ?",
            (last_seen_at, expires_at, token_hash),
        )

    def end_session(self, token_hash: str) -> bool:
        cursor = self._conn.execute("DELETE FROM web_sessions WHERE token_hash = ?", (token_hash,))
        # Bumped even when no row was there: the caller's cache may still hold it.
        self._conn.execute(_BUMP, (SESSION_REVOCATIONS_KEY,))
        return bool(cursor.rowcount)

    def end_sessions(self, user: str) -> int:
        cursor = self._conn.execute("DELETE FROM web_sessions WHERE user = ?", (user,))
        self._conn.execute(_BUMP, (SESSION_REVOCATIONS_KEY,))
        return int(cursor.rowcount)

    def touch_token(self, token_id: int) -> None:
        self._conn.execute(
            "UPDATE api_tokens SET last_used_at = ? WHERE id = ?", (self._now, token_id)
        )

    def set_setting(self, key: str, value: str) -> None:
        self._conn.execute(
            "INSERT INTO settings (key, value) VALUES (?, ?)"
            " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, value),
        )


def user_from_row(row: Any) -> UserRecord:
    return UserRecord(row[0], row[1], row[2], row[3])


def token_from_row(row: Any) -> TokenRecord:
    return TokenRecord(row[0], row[1], row[2], row[3], row[4], row[5], row[6])


def session_from_row(row: Any) -> SessionRecord:
    return SessionRecord(row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[7])


TOKEN_COLUMNS = _TOKEN_COLUMNS
