"""Check leases on PostgreSQL: which agent runs which check, one owner per check and location.

``check_leases`` holds, per live check, a row at location ``*`` (the check's *state* lease:
its holder, an agent anywhere, runs the check's alert machine and, for a check without
locations, probes it) and a row per location the check names (its *probe* leases, held by
agents of that location). An agent claims rows of ``*`` and of its own location that nobody
holds or whose lease ran out, in batches, with ``FOR UPDATE SKIP LOCKED`` (agents claiming at
the same moment skip each other's rows instead of waiting or taking the same ones), renews
its own before they run out, and frees them on a clean stop. A lease runs out
:func:`~nyxmon.service_layer.storage.lease_row_seconds` after its last renewal (a little less
than the configured period, so the others take it over inside that period), by the server's
clock; a renewal that finds a row no longer its own reports it lost, and the agent stops
running that check at once. Rows are named to the agent by lease keys
(:func:`~nyxmon.service_layer.ownership.lease_key`).

Before locations, every agent kept one row per check at its own location, so agents at two
locations probed every check twice and both sent its notices: the ``*`` row is the fix, and
the rows of checks that do not name a location are dropped by that location's agents.

Blocking; the agent calls it from a worker thread (:mod:`nyxmon.agent.leases`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from nyxmon.domain.locations import ANY_LOCATION, LocationView
from nyxmon.service_layer.ownership import lease_key, split_key
from nyxmon.service_layer.storage import Census, Claimed, lease_row_seconds
from nyxmon.store.postgres.own_connection import OwnConnection
from nyxmon.store.sqlite.views import view_from_row

__all__ = ["PgCheckLeases"]

_ADD_MISSING = (
    "INSERT INTO check_leases (check_id, location)"
    " SELECT c.id, %(any)s FROM checks c WHERE c.archived_at IS NULL"
    " UNION ALL SELECT c.id, %(loc)s FROM checks c WHERE c.archived_at IS NULL"
    "  AND c.locations::jsonb @> jsonb_build_array(%(loc)s::text)"
    " ON CONFLICT DO NOTHING"
)
_DROP_GONE = (
    "DELETE FROM check_leases l WHERE l.location IN (%(any)s, %(loc)s) AND NOT EXISTS"
    " (SELECT 1 FROM checks c WHERE c.id = l.check_id AND c.archived_at IS NULL"
    "  AND (l.location = %(any)s OR c.locations::jsonb @> jsonb_build_array(l.location)))"
)
_COUNT = (
    "SELECT count(*) FILTER (WHERE location = %(loc)s), count(*) FILTER (WHERE location = %(any)s)"
    " FROM check_leases WHERE location IN (%(any)s, %(loc)s)"
)
_RENEW = (
    "UPDATE check_leases SET expires = now() + make_interval(secs => %(lease)s)"
    " WHERE owner = %(me)s AND location IN (%(any)s, %(loc)s) AND expires > now()"
    " RETURNING check_id, location"
)
_CLAIM = (
    "WITH free AS ("
    "  SELECT check_id, location, owner FROM check_leases"
    "  WHERE location IN (%(any)s, %(loc)s)"
    "  AND (owner IS NULL OR expires IS NULL OR expires <= now())"
    "  ORDER BY check_id, location LIMIT %(n)s FOR UPDATE SKIP LOCKED)"
    " UPDATE check_leases l SET owner = %(me)s,"
    "  expires = now() + make_interval(secs => %(lease)s)"
    " FROM free WHERE l.location = free.location AND l.check_id = free.check_id"
    " RETURNING l.check_id, l.location, free.owner IS NOT NULL"
)
_RELEASE = (
    "UPDATE check_leases SET owner = NULL, expires = NULL"
    " WHERE owner = %(me)s AND (check_id, location) IN"
    " (SELECT * FROM unnest(%(ids)s::text[], %(locs)s::text[]))"
)
# The views of the located checks whose state this agent holds: what its machines combine.
_HELD_VIEWS = (
    "SELECT v.check_id, v.location, v.state, v.since, v.last_result_at, v.message,"
    " v.agent_id, v.counters FROM location_views v"
    " JOIN check_leases l ON l.check_id = v.check_id AND l.location = %(any)s"
    " WHERE l.owner = %(me)s"
)


def _key(row: Any) -> str:
    check_id, location = str(row[0]), str(row[1])
    return lease_key(check_id, None if location == ANY_LOCATION else location)


class PgCheckLeases:
    """The leases of one agent (``agent_id``) at one location (and of ``*``), on a
    connection of its own."""

    def __init__(self, dsn: str, *, agent_id: int, location: str, lease: float) -> None:
        self.agent_id = agent_id
        self.location = location
        self.lease_seconds = lease
        self._conn = OwnConnection(dsn, name=f"nyxmon-leases agent={agent_id}")

    def _params(self, **more: Any) -> dict[str, Any]:
        lease = lease_row_seconds(self.lease_seconds)
        return {
            "me": self.agent_id,
            "loc": self.location,
            "any": ANY_LOCATION,
            "lease": lease,
            **more,
        }

    def sync(self) -> Census:
        """Give every live check its state lease row, and each check that names this
        location a probe lease row here (and drop rows of checks gone, or no longer naming
        it); returns how many rows there are here and anywhere (``*``)."""
        with self._conn.using("updating the check leases") as conn, conn.transaction():
            conn.execute(_ADD_MISSING, self._params())
            conn.execute(_DROP_GONE, self._params())
            row = conn.execute(_COUNT, self._params()).fetchone()
        return Census(int(row[0]), int(row[1])) if row else Census(0, 0)

    def renew(self) -> frozenset[str]:
        """Extend every lease this agent still holds; returns their keys."""
        with self._conn.using("renewing the check leases") as conn:
            rows = conn.execute(_RENEW, self._params()).fetchall()
        return frozenset(_key(r) for r in rows)

    def claim(self, limit: int) -> Claimed:
        """Take up to ``limit`` leases nobody holds (or whose lease ran out)."""
        if limit <= 0:
            return Claimed()
        with self._conn.using("claiming check leases") as conn:
            rows = conn.execute(_CLAIM, self._params(n=limit)).fetchall()
        return Claimed(frozenset(_key(r) for r in rows), frozenset(_key(r) for r in rows if r[2]))

    def release(self, keys: Iterable[str]) -> None:
        """Free these leases now (their state is saved), for another agent to take."""
        pairs = [split_key(key) for key in sorted(keys)]
        if pairs:
            ids = [cid for cid, _ in pairs]
            locs = [ANY_LOCATION if loc is None else loc for _, loc in pairs]
            with self._conn.using("releasing check leases") as conn:
                conn.execute(_RELEASE, self._params(ids=ids, locs=locs))

    def held_views(self) -> dict[str, tuple[LocationView, ...]]:
        """The locations' views of the checks whose state lease this agent holds."""
        with self._conn.using("reading the locations' views") as conn:
            rows = conn.execute(_HELD_VIEWS, self._params()).fetchall()
        found: dict[str, list[LocationView]] = {}
        for row in rows:
            found.setdefault(row[0], []).append(view_from_row(row))
        return {cid: tuple(sorted(vs, key=lambda v: v.location)) for cid, vs in found.items()}

    def close(self) -> None:
        self._conn.close()
