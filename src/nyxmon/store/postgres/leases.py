"""Check leases on PostgreSQL: which agent runs which check, one owner per check and location.

``check_leases`` holds a row per live check and location. An agent claims rows that nobody
holds or whose lease ran out, in batches, with ``FOR UPDATE SKIP LOCKED`` (agents claiming at
the same moment skip each other's rows instead of waiting or taking the same ones), renews
its own before they run out, and frees them on a clean stop. A lease runs out
:func:`~nyxmon.service_layer.storage.lease_row_seconds` after its last renewal (a little less
than the configured period, so the others take it over inside that period), by the server's
clock; a renewal that finds a row
no longer its own reports it lost, and the agent stops running that check at once.

Blocking; the agent calls it from a worker thread (:mod:`nyxmon.agent.leases`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from nyxmon.service_layer.storage import Claimed, lease_row_seconds
from nyxmon.store.postgres.own_connection import OwnConnection

__all__ = ["PgCheckLeases"]

_ADD_MISSING = (
    "INSERT INTO check_leases (check_id, location)"
    " SELECT c.id, %(loc)s FROM checks c WHERE c.archived_at IS NULL"
    " AND NOT EXISTS (SELECT 1 FROM check_leases l"
    "                 WHERE l.location = %(loc)s AND l.check_id = c.id)"
    " ON CONFLICT DO NOTHING"
)
_DROP_GONE = (
    "DELETE FROM check_leases l WHERE l.location = %(loc)s AND NOT EXISTS"
    " (SELECT 1 FROM checks c WHERE c.id = l.check_id AND c.archived_at IS NULL)"
)
_COUNT = "SELECT count(*) FROM check_leases WHERE location = %(loc)s"
_RENEW = (
    "UPDATE check_leases SET expires = now() + make_interval(secs => %(lease)s)"
    " WHERE owner = %(me)s AND location = %(loc)s AND expires > now() RETURNING check_id"
)
_CLAIM = (
    "WITH free AS ("
    "  SELECT check_id, owner FROM check_leases"
    "  WHERE location = %(loc)s AND (owner IS NULL OR expires IS NULL OR expires <= now())"
    "  ORDER BY check_id LIMIT %(n)s FOR UPDATE SKIP LOCKED)"
    " UPDATE check_leases l SET owner = %(me)s,"
    "  expires = now() + make_interval(secs => %(lease)s)"
    " FROM free WHERE l.location = %(loc)s AND l.check_id = free.check_id"
    " RETURNING l.check_id, free.owner IS NOT NULL"
)
_RELEASE = (
    "UPDATE check_leases SET owner = NULL, expires = NULL"
    " WHERE owner = %(me)s AND location = %(loc)s AND check_id = ANY(%(ids)s)"
)


class PgCheckLeases:
    """The leases of one agent (``agent_id``) at one location, on a connection of its own."""

    def __init__(self, dsn: str, *, agent_id: int, location: str, lease: float) -> None:
        self.agent_id = agent_id
        self.location = location
        self.lease_seconds = lease
        self._conn = OwnConnection(dsn, name=f"nyxmon-leases agent={agent_id}")

    def _params(self, **more: Any) -> dict[str, Any]:
        lease = lease_row_seconds(self.lease_seconds)
        return {"me": self.agent_id, "loc": self.location, "lease": lease, **more}

    def sync(self) -> int:
        """Give every live check a lease row at this location (and drop rows of checks that
        are gone); returns how many checks the location has."""
        with self._conn.using("updating the check leases") as conn, conn.transaction():
            conn.execute(_ADD_MISSING, self._params())
            conn.execute(_DROP_GONE, self._params())
            row = conn.execute(_COUNT, self._params()).fetchone()
        return int(row[0]) if row else 0

    def renew(self) -> frozenset[str]:
        """Extend every lease this agent still holds; returns the ids of those checks."""
        with self._conn.using("renewing the check leases") as conn:
            rows = conn.execute(_RENEW, self._params()).fetchall()
        return frozenset(str(r[0]) for r in rows)

    def claim(self, limit: int) -> Claimed:
        """Take up to ``limit`` checks nobody holds (or whose lease ran out)."""
        if limit <= 0:
            return Claimed()
        with self._conn.using("claiming check leases") as conn:
            rows = conn.execute(_CLAIM, self._params(n=limit)).fetchall()
        return Claimed(
            frozenset(str(r[0]) for r in rows), frozenset(str(r[0]) for r in rows if r[1])
        )

    def release(self, check_ids: Iterable[str]) -> None:
        """Free these leases now (their state is saved), for another agent to take."""
        ids = sorted(check_ids)
        if ids:
            with self._conn.using("releasing check leases") as conn:
                conn.execute(_RELEASE, self._params(ids=ids))

    def close(self) -> None:
        self._conn.close()
