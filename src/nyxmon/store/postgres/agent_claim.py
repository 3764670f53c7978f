"""The agent's claim on a PostgreSQL store: a session advisory lock, for now.

One agent per store, as on SQLite (:mod:`nyxmon.store.sqlite.agent_lock`): two agents on one
database would probe every check and send every notice twice until several-agent leases exist
(issue 17's second part). The claim is ``pg_try_advisory_lock`` on a connection of its own,
keyed by the database and schema, held as long as that connection lives: the server drops it
when the agent's process ends however it ends (``kill -9`` included: the socket closes), so
there is no stale claim to clear. A second agent is refused with the holder's process id,
host and start time from ``pg_stat_activity``. Readers (the CLI, the web process) never claim.
"""

from __future__ import annotations

import hashlib
import os
import socket
import time
from typing import Any

import psycopg

from nyxmon.errors import StoreError
from nyxmon.store.postgres.connections import pg_errors, redact_dsn

__all__ = ["PgAgentClaim"]


class PgAgentClaim:
    """``acquire()`` takes the claim or raises StoreError naming the holder; ``release()``."""

    def __init__(self, dsn: str) -> None:
        self.dsn = dsn
        self._conn: psycopg.Connection[Any] | None = None

    def acquire(self) -> PgAgentClaim:
        name = f"nyxmon-agent pid={os.getpid()} host={socket.gethostname()}"[:63]
        with pg_errors("claiming the store for this agent", self.dsn):
            conn = psycopg.connect(self.dsn, autocommit=True, application_name=name)
            try:
                (where,) = conn.execute(
                    "SELECT current_database() || '.' || current_schema()"
                ).fetchone() or ("",)
                key = int.from_bytes(
                    hashlib.blake2b(f"nyxmon-agent:{where}".encode(), digest_size=8).digest(),
                    "big",
                    signed=True,
                )
                row = conn.execute("SELECT pg_try_advisory_lock(%s)", (key,)).fetchone()
                if not row or not row[0]:
                    holder = conn.execute(
                        "SELECT a.application_name, a.pid, a.backend_start FROM pg_locks l"
                        " JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'advisory'"
                        # A bigint key shows as classid (high half) and objid (low half).
                        " AND l.granted AND l.objsubid = 1"
                        " AND (l.classid::bigint << 32 | l.objid::bigint) = %s",
                        (key,),
                    ).fetchone()
                    who = (
                        f"{holder[0] or 'a session'}, server pid {holder[1]}, since "
                        f"{holder[2]:%Y-%m-%d %H:%M:%S %z}"
                        if holder
                        else "holder unknown"
                    )
                    raise StoreError(
                        f"another agent is running on {redact_dsn(self.dsn)} schema {where} "
                        f"({who}); stop it first, or give this agent its own database or schema"
                    )
            except BaseException:
                conn.close()
                raise
        self._conn = conn
        self.claimed_at = time.time()
        return self

    def release(self) -> None:
        if self._conn is not None:
            self._conn.close()  # ends the session, and with it the lock
            self._conn = None
