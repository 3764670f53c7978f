"""Alert states, state transitions and the notification outbox in SQLite."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from typing import Any

from nyxmon.domain.alerting.notices import notice_from_dict, notice_to_dict
from nyxmon.domain.locations import LocationView
from nyxmon.service_layer.records.alerts import (
    OutboxEntry,
    OutboxRow,
    OutboxUpdate,
    StateRow,
    Transition,
)
from nyxmon.store.sqlite.bulk import check_pks, insert_rows
from nyxmon.store.sqlite.codec import dump_json
from nyxmon.store.sqlite.views import save_views

__all__ = ["SqliteAlertRepository", "outbox_from_row"]

log = logging.getLogger(__name__)

OUTBOX_COLUMNS = (
    "o.id, o.key, o.check_id, o.route, o.kind, o.payload, o.created_at, o.status, o.attempts,"
    " o.next_attempt_at, o.last_error, o.delivered_at"
)


def outbox_from_row(row: Sequence[Any]) -> OutboxEntry | None:
    """The entry of a stored row; ``None`` (logged) for a payload no release of ours wrote."""
    try:
        notice, check = notice_from_dict(json.loads(row[5]))
    except ValueError as exc:
        log.error("outbox row %s (%s) is unreadable and is skipped: %s", row[0], row[1], exc)
        return None
    return OutboxEntry(
        id=row[0],
        key=row[1],
        route=row[3],
        notice=notice,
        check=check,
        created_at=row[6],
        status=row[7],
        attempts=row[8],
        next_attempt_at=row[9],
        last_error=row[10],
        delivered_at=row[11],
    )


class SqliteAlertRepository:
    """Writes inside a transaction (the caller's transaction)."""

    def __init__(self, conn: Any) -> None:
        self._conn = conn

    def pks(self, check_ids: set[str]) -> dict[str, int]:
        return check_pks(self._conn, check_ids)

    def save_states(self, rows: Sequence[StateRow], pk_of: dict[str, int]) -> None:
        values = [
            (pk_of[r.check_id], r.state, r.since, dump_json(dict(r.snapshot)), r.updated_at)
            for r in rows
            if r.check_id in pk_of  # a check deleted meanwhile has no state to keep
        ]
        if values:
            insert_rows(
                self._conn,
                "INSERT INTO check_states (check_pk, state, since, snapshot, updated_at)",
                values,
                tail=" ON CONFLICT (check_pk) DO UPDATE SET"
                " state = excluded.state, since = excluded.since,"
                " snapshot = excluded.snapshot, updated_at = excluded.updated_at",
            )

    def save_views(self, views: Sequence[LocationView]) -> None:
        save_views(self._conn, views)

    def add_transitions(self, rows: Sequence[Transition], pk_of: dict[str, int]) -> None:
        values = [
            (pk_of[r.check_id], r.at, r.from_state, r.to_state, r.message, r.since)
            for r in rows
            if r.check_id in pk_of
        ]
        if values:
            insert_rows(
                self._conn,
                "INSERT INTO state_changes (check_pk, at, from_state, to_state, message, since)",
                values,
            )

    def add_outbox(self, rows: Sequence[OutboxRow]) -> tuple[int | None, ...]:
        """Insert rows; a key already present is skipped (never queued twice). Returns each
        row's new id, or ``None`` where it was skipped, aligned with ``rows``."""
        ids: list[int | None] = []
        for row in rows:
            cursor = self._conn.execute(
                "INSERT INTO outbox (key, check_id, route, kind, payload, created_at,"
                " next_attempt_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (key) DO NOTHING",
                (
                    row.key,
                    row.check_id,
                    row.route,
                    row.kind,
                    dump_json(notice_to_dict(row.notice, row.check)),
                    row.created_at,
                    row.created_at,
                ),
            )
            ids.append(int(cursor.lastrowid) if cursor.rowcount else None)
        return tuple(ids)

    def update_outbox(self, updates: Sequence[OutboxUpdate]) -> None:
        if updates:
            self._conn.executemany(
                "UPDATE outbox SET status = ?, attempts = ?, next_attempt_at = ?,"
                " last_error = ?, delivered_at = ? WHERE id = ?",
                [
                    (u.status, u.attempts, u.next_attempt_at, u.last_error, u.delivered_at, u.id)
                    for u in updates
                ],
            )
