"""Change notices: which checks a committed batch changed, told with PostgreSQL's NOTIFY.

Several agents share one database, and a web plane may run on a machine with none of them; it
cannot mirror an agent's status feed, so it follows the database. The agent's writer sends the
ids of the checks whose results or alert state a batch changed on one channel per schema;
``pg_notify`` inside the batch's transaction is delivered by PostgreSQL at commit and only if
it commits, so a listener never hears of rows it cannot read yet, nor of a rolled-back batch.

Payloads: check ids (``[A-Za-z0-9._-]``, no spaces) joined by spaces, split so each stays
under PostgreSQL's 8000-byte limit; a batch that would need more than :data:`MAX_PAYLOADS`
notices sends the single :data:`RELOAD_ALL` marker instead (the listener then re-reads every
status: cheaper for it than thousands of ids, and the queue stays small).

The channel is ``nyxmon_changes.<schema>`` (cut to PostgreSQL's 63-byte names): channels are
per database, and two installations in two schemas of one database must not hear each other.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from nyxmon.service_layer.records.batches import WriteBatch
from nyxmon.store.postgres.connections import PgConnection

__all__ = [
    "CHANNEL_SQL",
    "MAX_PAYLOAD",
    "MAX_PAYLOADS",
    "RELOAD_ALL",
    "announce",
    "changed_checks",
    "parse_payload",
    "payloads",
]

#: The channel of the current schema, as SQL (the writer and the listener use this one text).
CHANNEL_SQL = "left('nyxmon_changes.' || current_schema(), 63)"
#: Bytes per notice (PostgreSQL refuses 8000 and more).
MAX_PAYLOAD = 7900
#: Notices per batch before a batch says "reload all" instead.
MAX_PAYLOADS = 8
#: The payload that means: re-read every check.
RELOAD_ALL = "*"

_NOTIFY = f"SELECT pg_notify({CHANNEL_SQL}, p) FROM unnest(%s::text[]) AS p"


def changed_checks(batch: WriteBatch) -> set[str]:
    """The checks whose shown status a batch changes: a new result or a new alert state.
    (Outbox rows change no status; their state rows come in the same batch.)"""
    changed = {result.check_id for result in batch.results}
    changed.update(row.check_id for row in batch.states)
    changed.update(transition.check_id for transition in batch.transitions)
    changed.update(view.check_id for view in batch.views)
    return changed


def payloads(check_ids: Iterable[str]) -> list[str]:
    """The notices for ``check_ids``: space-joined ids, each under :data:`MAX_PAYLOAD` bytes,
    or ``[RELOAD_ALL]`` when they would take more than :data:`MAX_PAYLOADS` notices."""
    out: list[str] = []
    current: list[str] = []
    size = 0
    for check_id in sorted(check_ids):
        cost = len(check_id.encode()) + (1 if current else 0)
        if current and size + cost > MAX_PAYLOAD:
            out.append(" ".join(current))
            if len(out) >= MAX_PAYLOADS:
                return [RELOAD_ALL]
            current, size, cost = [], 0, len(check_id.encode())
        current.append(check_id)
        size += cost
    if current:
        out.append(" ".join(current))
    return out


def parse_payload(payload: str) -> frozenset[str] | None:
    """The check ids of a notice; None for :data:`RELOAD_ALL` (or anything unreadable,
    which is safest treated the same way)."""
    text = payload.strip()
    if not text or text == RELOAD_ALL:
        return None
    return frozenset(text.split())


def announce(conn: PgConnection, check_ids: Iterable[str]) -> int:
    """Queue the notices for ``check_ids`` in ``conn``'s open transaction (sent at commit);
    how many were queued."""
    texts: Sequence[str] = payloads(check_ids)
    if texts:
        conn.raw(_NOTIFY, (list(texts),))
    return len(texts)
