"""Each location's view of a check (:mod:`nyxmon.domain.locations`), in ``location_views``.

One row per check and location, replaced by every result that location's owner records for
it, in the same transaction as the result: a view is never ahead of (or behind) the history
it summarises. Rows are keyed by the check's id, not its surrogate key, so a view written
while the check was being replaced by the config is kept, and the rows of a deleted check go
with it (:func:`drop_views_of`). Shared SQL: the PostgreSQL store runs the same statements.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from nyxmon.domain.alerting import AlertState
from nyxmon.domain.locations import LocationView
from nyxmon.store.sqlite.bulk import insert_rows
from nyxmon.store.sqlite.codec import dump_json

__all__ = ["drop_views_of", "read_views", "save_views", "view_from_row"]

_COLUMNS = "check_id, location, state, since, last_result_at, message, agent_id, counters"
_CHUNK = 500


def save_views(conn: Any, views: Sequence[LocationView]) -> None:
    """Insert or replace these views (the newest of a check and location wins)."""
    newest = {(v.check_id, v.location): v for v in views}
    rows = [
        (
            v.check_id,
            v.location,
            v.state.value,
            v.since,
            v.last_result_at,
            v.message,
            v.agent_id,
            dump_json(dict(v.counters or {})),
        )
        for v in newest.values()
    ]
    insert_rows(
        conn,
        f"INSERT INTO location_views ({_COLUMNS})",
        rows,
        tail=" ON CONFLICT (check_id, location) DO UPDATE SET state = excluded.state,"
        " since = excluded.since, last_result_at = excluded.last_result_at,"
        " message = excluded.message, agent_id = excluded.agent_id,"
        " counters = excluded.counters",
    )


def read_views(conn: Any, check_ids: Iterable[str] | None) -> dict[str, tuple[LocationView, ...]]:
    """The views of ``check_ids`` (every check's if None), each check's by location."""
    if check_ids is None:
        rows = conn.execute(f"SELECT {_COLUMNS} FROM location_views").fetchall()
    else:
        wanted = sorted(set(check_ids))
        rows = []
        for start in range(0, len(wanted), _CHUNK):
            chunk = wanted[start : start + _CHUNK]
            marks = ", ".join("?" * len(chunk))
            rows.extend(
                conn.execute(
                    f"SELECT {_COLUMNS} FROM location_views WHERE check_id IN ({marks})", chunk
                ).fetchall()
            )
    found: dict[str, list[LocationView]] = {}
    for row in rows:
        found.setdefault(row[0], []).append(view_from_row(row))
    return {cid: tuple(sorted(vs, key=lambda v: v.location)) for cid, vs in found.items()}


def drop_views_of(conn: Any, check_id: str) -> None:
    conn.execute("DELETE FROM location_views WHERE check_id = ?", (check_id,))


def view_from_row(row: Sequence[Any]) -> LocationView:
    try:
        state = AlertState(row[2])
    except ValueError:
        state = AlertState.PENDING
    return LocationView(
        check_id=row[0],
        location=row[1],
        state=state,
        since=row[3],
        last_result_at=row[4],
        message=row[5],
        agent_id=None if row[6] is None else int(row[6]),
        counters=json.loads(row[7]) or None,
    )
