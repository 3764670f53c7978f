"""The SQLite transaction: one IMMEDIATE transaction on the writer connection.

``BEGIN IMMEDIATE`` takes SQLite's write lock before the first statement, so a transaction
never fails half way for want of it, and the Python write lock keeps the agent's writer, the
cleaner and API writes from interleaving statements on the shared connection. The transaction
begins lazily at the first statement (and again after a commit), so a batch costs only the
statements it needs: every driver call releases and retakes the GIL, which is what a busy
process makes expensive.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable
from types import TracebackType
from typing import Any

from nyxmon.errors import StoreError
from nyxmon.store.sqlite.alerts import SqliteAlertRepository
from nyxmon.store.sqlite.auth import SqliteAuthRepository
from nyxmon.store.sqlite.connections import Connections, sqlite_errors, store_error
from nyxmon.store.sqlite.repositories import SqliteCheckRepository, SqliteServiceRepository
from nyxmon.store.sqlite.results import SqliteResultRepository

__all__ = ["SqliteTransaction"]


class _LazyTransaction:
    """The writer connection, beginning an IMMEDIATE transaction before the first statement."""

    __slots__ = ("conn",)

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def execute(self, sql: str, parameters: Any = (), /) -> sqlite3.Cursor:
        if not self.conn.in_transaction:
            self.conn.execute("BEGIN IMMEDIATE")
        return self.conn.execute(sql, parameters)

    def executemany(self, sql: str, parameters: Iterable[Any], /) -> sqlite3.Cursor:
        if not self.conn.in_transaction:
            self.conn.execute("BEGIN IMMEDIATE")
        return self.conn.executemany(sql, parameters)


class SqliteTransaction:
    """``with tx: ...; tx.commit()``; leaving the block uncommitted rolls back."""

    services: SqliteServiceRepository
    checks: SqliteCheckRepository
    results: SqliteResultRepository
    alerts: SqliteAlertRepository
    auth: SqliteAuthRepository

    def __init__(self, conns: Connections, clock: Callable[[], float]) -> None:
        self._conns = conns
        self._clock = clock
        self._conn: sqlite3.Connection | None = None

    def __enter__(self) -> SqliteTransaction:
        if self._conn is not None:
            raise StoreError("this transaction is already open; create a new one per block")
        self._conns.write_lock.acquire()
        try:
            conn = self._conns.writer
            if self._conns.writer_busy:
                raise StoreError("a transaction is already open on this thread; nest no further")
        except BaseException:
            self._conns.write_lock.release()
            raise
        self._conns.writer_busy = True
        self._conn = conn
        lazy = _LazyTransaction(conn)
        self.services = SqliteServiceRepository(lazy, self._clock)
        self.checks = SqliteCheckRepository(lazy, self._clock)
        self.results = SqliteResultRepository(lazy)
        self.alerts = SqliteAlertRepository(lazy)
        self.auth = SqliteAuthRepository(lazy, self._clock())
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        conn = self._conn
        self._conn = None
        try:
            if conn is not None and conn.in_transaction:
                conn.execute("ROLLBACK")
        finally:
            self._conns.writer_busy = False
            self._conns.write_lock.release()
        if isinstance(exc, sqlite3.Error):
            raise store_error("write transaction failed", exc, self._conns.path) from exc

    def _open_conn(self) -> sqlite3.Connection:
        if self._conn is None:
            raise StoreError("the unit of work is not open; use it in a with block")
        return self._conn

    def commit(self) -> None:
        """Commit everything so far; the unit of work stays usable for more."""
        conn = self._open_conn()
        if conn.in_transaction:
            with sqlite_errors("committing", self._conns.path):
                conn.execute("COMMIT")

    def rollback(self) -> None:
        conn = self._open_conn()
        if conn.in_transaction:
            with sqlite_errors("rolling back"):
                conn.execute("ROLLBACK")

    def serialize(self, what: str) -> None:
        """Nothing to do: one agent writes a SQLite file, and its writer lock already keeps
        any other process out for the transaction."""
