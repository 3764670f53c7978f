"""Each notice sent once across agents: an outbox row is claimed by compare-and-set.

Healthchecks' pattern: before an attempt, an agent sets ``claimed_by``/``claimed_until`` on
the row *only if* nobody holds it (or the holder's claim ran out, or the holder stopped
heartbeating, or it is this agent's own claim for a retry); ``RETURNING`` says whether it
won. A row someone else holds is left alone. The notice keeps its idempotency key whoever
sends it, so in the one window left (an agent killed after the receiver accepted and before
the row said so) the receiver can still drop the repeat. That window is kept to one round
trip: a delivery is marked on the row at once (:meth:`PgOutboxClaims.delivered`), before the
agent's batched write of the outcome follows.
"""

from __future__ import annotations

from typing import Any

from nyxmon.store.postgres.own_connection import OwnConnection

__all__ = ["PgOutboxClaims"]

_LIVE_HOLDER = (
    "EXISTS (SELECT 1 FROM agents a WHERE a.id = outbox.claimed_by"
    " AND a.last_heartbeat > now() - make_interval(secs => %(lease)s))"
)
_CLAIM = (
    "UPDATE outbox SET claimed_by = %(me)s,"
    " claimed_until = now() + make_interval(secs => %(hold)s)"
    " WHERE id = %(id)s AND status = 'pending' AND (claimed_by IS NULL"
    f" OR claimed_by = %(me)s OR claimed_until < now() OR NOT {_LIVE_HOLDER})"
    " RETURNING id"
)
_CLAIMABLE = (
    "SELECT id FROM outbox WHERE status = 'pending' AND next_attempt_at <= %(now)s"
    f" AND (claimed_by IS NULL OR claimed_until < now() OR NOT {_LIVE_HOLDER})"
    " ORDER BY id LIMIT %(n)s"
)
_DELIVERED = (
    "UPDATE outbox SET status = 'delivered', attempts = %(attempts)s,"
    " delivered_at = %(at)s, last_error = '' WHERE id = %(id)s AND claimed_by = %(me)s"
)


class PgOutboxClaims:
    """Claims of one agent on outbox rows, on a connection of its own."""

    def __init__(self, dsn: str, *, agent_id: int, lease: float, hold: float = 90.0) -> None:
        self.agent_id = agent_id
        self.lease_seconds = lease
        #: How long a claim holds without its holder: longer than one attempt may take.
        self.hold_seconds = hold
        self._conn = OwnConnection(dsn, name=f"nyxmon-outbox agent={agent_id}")

    def _params(self, **more: Any) -> dict[str, Any]:
        return {"me": self.agent_id, "lease": self.lease_seconds, "hold": self.hold_seconds, **more}

    def claim(self, outbox_id: int) -> bool:
        """Whether this agent may send row ``outbox_id`` now (it holds the claim)."""
        with self._conn.using(f"claiming notification {outbox_id}") as conn:
            row = conn.execute(_CLAIM, self._params(id=outbox_id)).fetchone()
        return row is not None

    def delivered(self, outbox_id: int, attempts: int, at: float) -> None:
        """Mark a row delivered at once, so no other agent sends it again."""
        with self._conn.using(f"marking notification {outbox_id} delivered") as conn:
            conn.execute(_DELIVERED, self._params(id=outbox_id, attempts=attempts, at=at))

    def claimable(self, now: float, limit: int = 1000) -> tuple[int, ...]:
        """Due pending rows nobody live holds: a killed agent's notices, to send instead."""
        with self._conn.using("looking for notifications to take over") as conn:
            rows = conn.execute(_CLAIMABLE, self._params(now=now, n=limit)).fetchall()
        return tuple(int(r[0]) for r in rows)

    def close(self) -> None:
        self._conn.close()
