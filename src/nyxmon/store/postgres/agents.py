"""An agent's membership of a PostgreSQL store: its row in ``agents`` and its heartbeat.

Several agents may run on one PostgreSQL database (issue 17): each registers (name, location
label, pid, host, start), renews ``last_heartbeat`` every second, and counts
as live while its heartbeat is younger than one lease period. Live agents share the checks'
states (any location) and their location's probes through :mod:`.leases` and the outbox
through :mod:`.outbox_claims`; the row is deleted on a clean stop, and a killed agent's row
simply stops being live (kept for a day, for whoever looks into what happened).

The membership holds connections of its own, never the store's writer: a heartbeat must not
queue behind a large batch of results.
"""

from __future__ import annotations

import os
import socket

from nyxmon.service_layer.storage import Census, lease_row_seconds
from nyxmon.store.postgres.leases import PgCheckLeases
from nyxmon.store.postgres.outbox_claims import PgOutboxClaims
from nyxmon.store.postgres.own_connection import OwnConnection

__all__ = ["PgMembership"]

_REGISTER = "INSERT INTO agents (name, location, pid, host) VALUES (%s, %s, %s, %s) RETURNING id"
# Rows of agents dead for a day go when another registers; the recent ones tell a story.
_FORGET_DEAD = "DELETE FROM agents WHERE last_heartbeat < now() - interval '1 day'"
_HEARTBEAT = (
    "UPDATE agents SET last_heartbeat = now() WHERE id = %(me)s RETURNING"
    " (SELECT count(*) FROM agents WHERE location = %(loc)s AND id <> %(me)s"
    "  AND last_heartbeat > now() - make_interval(secs => %(lease)s)) + 1,"
    " (SELECT count(*) FROM agents WHERE id <> %(me)s"
    "  AND last_heartbeat > now() - make_interval(secs => %(lease)s)) + 1"
)


class PgMembership:
    """An :class:`~nyxmon.service_layer.storage.AgentClaim` for several agents, made by
    :meth:`register`; ``release()`` deregisters (and frees every lease and claim)."""

    def __init__(
        self, conn: OwnConnection, *, agent_id: int, name: str, location: str, lease: float
    ) -> None:
        self.agent_id = agent_id
        self.name = name
        self.location = location
        self.lease_seconds = lease
        self._conn = conn
        self._registered = True
        self.leases = PgCheckLeases(conn.dsn, agent_id=agent_id, location=location, lease=lease)
        self.notices = PgOutboxClaims(conn.dsn, agent_id=agent_id, lease=lease)

    @classmethod
    def register(cls, dsn: str, *, location: str, lease_seconds: float) -> PgMembership:
        """Register this process as an agent of ``location``."""
        if lease_seconds <= 0:
            raise ValueError(f"lease_seconds must be > 0, got {lease_seconds}")
        name = f"{socket.gethostname()}:{os.getpid()}"
        conn = OwnConnection(dsn, name=f"nyxmon-agent {name}")
        with conn.using("registering this agent") as raw:
            raw.execute(_FORGET_DEAD)
            row = raw.execute(
                _REGISTER, (name, location, os.getpid(), socket.gethostname())
            ).fetchone()
        assert row is not None
        return cls(conn, agent_id=int(row[0]), name=name, location=location, lease=lease_seconds)

    @property
    def shared(self) -> PgMembership:
        return self

    def heartbeat(self) -> Census:
        """Say this agent lives; returns how many agents live (itself too), at its location
        and at any."""
        # Silent as long as its lease rows last: dead, and its share goes to the others.
        lease = lease_row_seconds(self.lease_seconds)
        params = {"me": self.agent_id, "loc": self.location, "lease": lease}
        with self._conn.using("renewing this agent's heartbeat") as conn:
            row = conn.execute(_HEARTBEAT, params).fetchone()
            if row is None:  # deleted by hand: back under the same id
                conn.execute(
                    "INSERT INTO agents (id, name, location, pid, host)"
                    " VALUES (%s, %s, %s, %s, %s)",
                    (self.agent_id, self.name, self.location, os.getpid(), socket.gethostname()),
                )
                return Census(1, 1)
        return Census(int(row[0]), int(row[1]))

    def release(self) -> None:
        """Free every lease and notice claim of this agent and delete its row."""
        self.leases.close()
        self.notices.close()
        if not self._registered:
            return
        self._registered = False
        try:
            with self._conn.using("deregistering this agent") as conn, conn.transaction():
                conn.execute(
                    "UPDATE check_leases SET owner = NULL, expires = NULL WHERE owner = %s",
                    (self.agent_id,),
                )
                conn.execute(
                    "UPDATE outbox SET claimed_by = NULL, claimed_until = NULL"
                    " WHERE claimed_by = %s AND status = 'pending'",
                    (self.agent_id,),
                )
                conn.execute("DELETE FROM agents WHERE id = %s", (self.agent_id,))
        except Exception:
            pass  # the server is gone: the leases and claims run out on their own
        finally:
            self._conn.close()
