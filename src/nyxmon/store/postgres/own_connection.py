"""A connection of one's own, for the several-agent bookkeeping (heartbeat, leases, claims).

Never the store's writer: a heartbeat or a lease renewal must not wait behind a large batch
of results. Locked (one statement at a time from any thread), reconnected when the server
dropped it, and driver errors come out as :class:`~nyxmon.errors.StoreError` naming the work.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg

from nyxmon.store.postgres.connections import configure, link_options, pg_errors

__all__ = ["OwnConnection"]


class OwnConnection:
    def __init__(self, dsn: str, *, name: str = "nyxmon-agent") -> None:
        self.dsn = dsn
        self._name = name[:63]
        self._conn: psycopg.Connection[Any] | None = None
        self._closed = False
        self._lock = threading.Lock()

    @contextmanager
    def using(self, what: str) -> Iterator[psycopg.Connection[Any]]:
        """The connection (autocommit) for one piece of work."""
        with self._lock, pg_errors(what, self.dsn):
            if self._closed:
                raise psycopg.OperationalError("closed: the agent stops")
            if self._conn is None or self._conn.closed or self._conn.broken:
                self._conn = psycopg.connect(
                    self.dsn,
                    autocommit=True,
                    application_name=self._name,
                    **link_options(self.dsn),  # a lease renewal fails, never hangs
                )
                configure(self._conn)
            yield self._conn

    def close(self) -> None:
        with self._lock:
            self._closed = True
            if self._conn is not None:
                self._conn.close()
                self._conn = None
