"""The embedded SQLite store (stdlib sqlite3, WAL mode); see :class:`SqliteStore`."""

from __future__ import annotations

from nyxmon.store.sqlite.store import SqliteStore

__all__ = ["SqliteStore"]
