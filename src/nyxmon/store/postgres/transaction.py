"""The PostgreSQL transaction: one transaction on the writer connection, begun lazily.

The same shape as :class:`~nyxmon.store.sqlite.transaction.SqliteTransaction`: the write lock
keeps the agent's writer, the rollup, the cleaner and API writes from interleaving statements
on the one writer connection, and the transaction begins at the first statement (a
transaction with nothing to do costs no round trip).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from types import TracebackType

import psycopg
from psycopg import pq

from nyxmon.errors import StoreError
from nyxmon.store.postgres.connections import PgConnection, PgConnections, pg_errors
from nyxmon.store.postgres.results import PgResultRepository
from nyxmon.store.sqlite.alerts import SqliteAlertRepository
from nyxmon.store.sqlite.auth import SqliteAuthRepository
from nyxmon.store.sqlite.repositories import SqliteCheckRepository, SqliteServiceRepository

__all__ = ["PgTransaction"]


class PgTransaction:
    """``with tx: ...; tx.commit()``; leaving the block uncommitted rolls back."""

    services: SqliteServiceRepository
    checks: SqliteCheckRepository
    results: PgResultRepository
    alerts: SqliteAlertRepository
    auth: SqliteAuthRepository

    def __init__(
        self, conns: PgConnections, clock: Callable[[], float], *, agent_id: int | None = None
    ) -> None:
        self._conns = conns
        self._clock = clock
        self._agent_id = agent_id
        self._conn: PgConnection | None = None

    def __enter__(self) -> PgTransaction:
        if self._conn is not None:
            raise StoreError("this transaction is already open; create a new one per block")
        self._conns.write_lock.acquire()
        try:
            if self._conns.writer_busy:
                raise StoreError("a transaction is already open on this thread; nest no further")
            conn = self._conns.writer
        except BaseException:
            self._conns.write_lock.release()
            raise
        conn.lazy = True
        self._conns.writer_busy = True
        self._conn = conn
        self.services = SqliteServiceRepository(conn, self._clock)  # type: ignore[arg-type]
        self.checks = SqliteCheckRepository(conn, self._clock)  # type: ignore[arg-type]
        self.results = PgResultRepository(conn, agent_id=self._agent_id)
        self.alerts = SqliteAlertRepository(conn)
        self.auth = SqliteAuthRepository(conn, self._clock())
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
            if conn is not None and not conn.conn.closed and conn.in_transaction:
                conn.conn.execute("ROLLBACK")
        except psycopg.Error:
            pass  # a broken connection rolled back on its own
        finally:
            self._conns.writer_busy = False
            self._conns.write_lock.release()
        if isinstance(exc, psycopg.Error):
            raise StoreError(
                f"write transaction failed on {self._conns.path}: {str(exc).strip()}"
            ) from exc

    def _open_conn(self) -> PgConnection:
        if self._conn is None:
            raise StoreError("the unit of work is not open; use it in a with block")
        return self._conn

    @property
    def connection(self) -> PgConnection:
        """The open transaction's connection, for PostgreSQL's own statements (a NOTIFY)."""
        return self._open_conn()

    def commit(self) -> None:
        """Commit everything so far; the unit of work stays usable for more."""
        conn = self._open_conn()
        if conn.conn.info.transaction_status == pq.TransactionStatus.INERROR:
            raise StoreError("cannot commit: a statement of this transaction failed")
        if conn.in_transaction:
            with pg_errors("committing", self._conns.dsn):
                conn.conn.execute("COMMIT")

    def rollback(self) -> None:
        conn = self._open_conn()
        if conn.in_transaction:
            with pg_errors("rolling back"):
                conn.conn.execute("ROLLBACK")

    def serialize(self, what: str) -> None:
        """A transaction-level advisory lock keyed by ``what`` in this schema: a second
        agent applying the same config waits here, then finds it applied."""
        conn = self._open_conn()
        key = int.from_bytes(
            hashlib.blake2b(f"nyxmon-serialize:{what}".encode(), digest_size=8).digest(),
            "big",
            signed=True,
        )
        with pg_errors(f"waiting for other agents ({what})", self._conns.dsn):
            conn.raw("SELECT pg_advisory_xact_lock(%s)", (key,))
