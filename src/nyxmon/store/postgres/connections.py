"""PostgreSQL connections: one writer behind a lock, a small pool for readers.

The writer mirrors the SQLite store's (:mod:`nyxmon.store.sqlite.connections`): one
connection, serialised by the same :class:`~nyxmon.store.sqlite.write_gate.WriteGate`, so the
agent's writer, the rollup and the cleaner take turns as they do on SQLite and the shared
modules run unchanged. Readers borrow a pooled connection per statement (``reader()``) or per
snapshot (``read_transaction``: ``REPEATABLE READ READ ONLY``, what SQLite's read transaction
gives); MVCC means no reader ever waits for the writer.

:class:`PgConnection` gives a psycopg connection the small sqlite3-like surface the shared
modules use (``execute`` returning a cursor with ``fetchone``/``fetchall``/iteration,
``rowcount``, ``lastrowid``, ``executemany``, ``in_transaction``), translating each statement
with :mod:`.dialect`. Results are fetched in full before the connection goes back to the pool.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg import pq
from psycopg.adapt import Loader
from psycopg_pool import ConnectionPool

from nyxmon.errors import StoreError
from nyxmon.store.postgres.dialect import bind, translate
from nyxmon.store.sqlite.write_gate import WriteGate

__all__ = [
    "LINK_OPTIONS",
    "PgConnection",
    "PgConnections",
    "PgCursor",
    "link_options",
    "pg_errors",
    "redact_dsn",
]

#: Tables whose single-row INSERTs report the new id as ``lastrowid`` (sqlite3's attribute).
_ID_TABLES = ("outbox", "api_tokens", "state_changes")


class _NumericLoader(Loader):
    """``numeric`` (sums of bigints, divisions by a numeric literal) as int or float, the
    Python types SQLite gives for the same expressions."""

    def load(self, data: Any) -> int | float:
        text = bytes(data).decode()
        if "." in text or "e" in text.lower() or "N" in text:
            return float(text)
        return int(text)


#: libpq settings that make a dead link fail a call instead of hanging it (the writer's batch,
#: a page's read): without them a connection whose packets vanish (a link down, a host gone,
#: not a refusal) waits for the kernel's TCP retries, about 15 minutes. Sent data unanswered
#: for 20 s fails (``tcp_user_timeout``); an idle connection is probed after 10 s, every 5 s,
#: and given up after 3 unanswered probes. A DSN that sets any of them keeps its own value.
LINK_OPTIONS: dict[str, int] = {
    "connect_timeout": 10,
    "keepalives": 1,
    "keepalives_idle": 10,
    "keepalives_interval": 5,
    "keepalives_count": 3,
    "tcp_user_timeout": 20_000,
}


def link_options(dsn: str) -> dict[str, Any]:
    """:data:`LINK_OPTIONS` less those ``dsn`` sets itself (as connect() keyword arguments)."""
    try:
        given = psycopg.conninfo.conninfo_to_dict(dsn)
    except psycopg.ProgrammingError:
        given = {}
    return {key: value for key, value in LINK_OPTIONS.items() if key not in given}


def redact_dsn(dsn: str) -> str:
    """The DSN without its password, fit for messages and logs."""
    try:
        info = psycopg.conninfo.conninfo_to_dict(dsn)
    except psycopg.ProgrammingError:
        return "postgresql://..."
    host = info.get("host", "localhost")
    port = info.get("port", 5432)
    user = info.get("user", "")
    db = info.get("dbname", "")
    return f"postgresql://{f'{user}@' if user else ''}{host}:{port}/{db}"


@contextmanager
def pg_errors(what: str, dsn: str | None = None) -> Iterator[None]:
    """Driver errors as StoreError naming the operation (and the database, without secrets)."""
    try:
        yield
    except psycopg.Error as exc:
        where = f" on {redact_dsn(dsn)}" if dsn else ""
        raise StoreError(f"{what}{where}: {str(exc).strip()}") from exc


class PgCursor:
    """A finished statement: its rows (fetched in full), rowcount and new id."""

    __slots__ = ("_at", "_rows", "lastrowid", "rowcount")

    def __init__(self, rows: list[Any], rowcount: int, lastrowid: int | None = None) -> None:
        self._rows = rows
        self._at = 0
        self.rowcount = rowcount
        self.lastrowid = lastrowid

    def fetchone(self) -> Any:
        if self._at >= len(self._rows):
            return None
        self._at += 1
        return self._rows[self._at - 1]

    def fetchall(self) -> list[Any]:
        rows = self._rows[self._at :]
        self._at = len(self._rows)
        return rows

    def __iter__(self) -> Iterator[Any]:
        return iter(self.fetchall())


def _returns_id(sql: str) -> bool:
    head = sql.lstrip()[:40].upper()
    return head.startswith("INSERT INTO") and any(
        head.startswith(f"INSERT INTO {t.upper()} ") for t in _ID_TABLES
    )


class PgConnection:
    """A psycopg connection with the sqlite3-like surface of the shared store modules."""

    __slots__ = ("conn", "lazy")

    def __init__(self, conn: psycopg.Connection[Any], *, lazy: bool = False) -> None:
        self.conn = conn
        #: Begin a transaction before the first statement (the store's write transactions).
        self.lazy = lazy

    @property
    def in_transaction(self) -> bool:
        return self.conn.info.transaction_status != pq.TransactionStatus.IDLE

    def _begin(self) -> None:
        if self.lazy and not self.in_transaction:
            self.conn.execute("BEGIN")

    def execute(self, sql: str, parameters: Any = (), /) -> PgCursor:
        self._begin()
        returning = _returns_id(sql)
        translated = translate(sql + (" RETURNING id" if returning else ""))
        cur = self.conn.execute(translated.sql.encode(), bind(translated, parameters))
        rows = cur.fetchall() if cur.description is not None else []
        if returning:
            return PgCursor([], cur.rowcount, rows[0][0] if rows else None)
        return PgCursor(rows, cur.rowcount)

    def raw(self, sql: str, parameters: Any = ()) -> list[Any]:
        """Run PostgreSQL's own SQL (no translation); its rows."""
        self._begin()
        cur = self.conn.execute(sql.encode(), parameters)
        return cur.fetchall() if cur.description is not None else []

    def copy_rows(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        """``COPY ... FROM STDIN`` of ``rows`` (PostgreSQL's own SQL)."""
        self._begin()
        with self.conn.cursor() as cur, cur.copy(sql.encode()) as copy:
            for row in rows:
                copy.write_row(row)

    def executemany(self, sql: str, parameters: Iterable[Any], /) -> PgCursor:
        self._begin()
        translated = translate(sql)
        params = [bind(translated, p) for p in parameters]
        if not params:
            return PgCursor([], 0)
        with self.conn.cursor() as cur:
            cur.executemany(translated.sql, params)
            return PgCursor([], cur.rowcount)


class _PooledReader:
    """``reader()`` for the shared modules: each statement on a pooled connection, in
    autocommit (each sees the latest commit, as SQLite's reader outside a transaction)."""

    def __init__(self, pool: ConnectionPool[Any]) -> None:
        self._pool = pool

    def execute(self, sql: str, parameters: Any = (), /) -> PgCursor:
        with pg_errors("reading"), self._pool.connection() as conn:
            return PgConnection(conn).execute(sql, parameters)

    def executemany(self, sql: str, parameters: Iterable[Any], /) -> PgCursor:
        raise StoreError("readers do not write")


def configure(conn: psycopg.Connection[Any]) -> None:
    """Per-connection setup: numeric as int/float, autocommit (transactions are explicit)."""
    conn.adapters.register_loader("numeric", _NumericLoader)
    conn.autocommit = True


class PgConnections:
    """The writer (serialised by ``write_lock``) and a pool of readers."""

    def __init__(self, dsn: str, *, readers: int = 4, writable: bool = True) -> None:
        self.dsn = dsn
        self.write_lock = WriteGate()
        self.writer_busy = False
        self._closed = False
        self._lock = threading.Lock()
        with pg_errors("connecting", dsn):
            self._writer: psycopg.Connection[Any] | None = (
                psycopg.connect(dsn, autocommit=True, **link_options(dsn)) if writable else None
            )
            if self._writer is not None:
                configure(self._writer)
            self._pool: ConnectionPool[Any] = ConnectionPool(
                dsn,
                kwargs=dict(link_options(dsn)),
                min_size=1,
                max_size=readers,
                configure=configure,
                # A connection that died while idle in the pool (the server restarted, a link
                # dropped) is found out and replaced before it is handed out, instead of failing
                # the first read after the database is back (a web page, a scrape). One empty
                # round trip per checkout.
                check=ConnectionPool.check_connection,
                open=False,
                name="nyxmon-readers",
                timeout=30.0,
            )
            try:
                self._pool.open(wait=True, timeout=30.0)
            except Exception:
                if self._writer is not None:
                    self._writer.close()
                raise
        self._reader = _PooledReader(self._pool)

    @property
    def path(self) -> str:
        """Where the store is, for messages (the DSN without its password)."""
        return redact_dsn(self.dsn)

    @property
    def writer(self) -> PgConnection:
        """The writer; hold ``write_lock`` while using it. Transactions are explicit
        (``BEGIN`` ... ``COMMIT``), as on SQLite's writer."""
        if self._closed:
            raise StoreError(f"store {self.path} is closed")
        if self._writer is None:
            raise StoreError(f"store {self.path} was opened read-only")
        if self._writer.closed:
            # The server went away (restart): reconnect once, the transaction is lost anyway.
            with pg_errors("reconnecting", self.dsn):
                self._writer = psycopg.connect(self.dsn, autocommit=True, **link_options(self.dsn))
                configure(self._writer)
        return PgConnection(self._writer)

    def reader(self) -> _PooledReader:
        if self._closed:
            raise StoreError(f"store {self.path} is closed")
        return self._reader

    @contextmanager
    def connection(self) -> Iterator[psycopg.Connection[Any]]:
        """A pooled connection of one's own (autocommit), for the facade's plain reads."""
        if self._closed:
            raise StoreError(f"store {self.path} is closed")
        with self._pool.connection() as conn:
            yield conn

    @contextmanager
    def read_transaction(self, what: str = "reading") -> Iterator[PgConnection]:
        """A snapshot across several statements; driver errors become StoreError."""
        with pg_errors(what), self.connection() as conn:
            conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            try:
                yield PgConnection(conn)
            finally:
                if not conn.closed:
                    conn.execute("ROLLBACK")

    def checkpoint(self) -> None:
        """Nothing to do: PostgreSQL checkpoints on its own (SQLite's WAL needs a hand)."""

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
        self._pool.close()
        with self.write_lock:
            if self._writer is not None:
                self._writer.close()
                self._writer = None
