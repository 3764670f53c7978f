"""SQLite repositories for services and checks.

Each takes a connection: the writer's inside a transaction, or a thread's read-only reader
for the store's read methods (whose write methods would then fail, which is the point).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

from nyxmon.domain.model import Check, CheckSource, Service
from nyxmon.errors import CheckNotFoundError, ConflictError, StoreError
from nyxmon.service_layer.records.catalog import CheckQuery, Page, UpsertOutcome
from nyxmon.store.sqlite.codec import (
    CHECK_COLUMNS,
    CHECK_FIELD_COUNT,
    CHECK_READ_COLUMNS,
    CHECK_SOURCE_INDEX,
    CHECKS_JOINED,
    SERVICE_COLUMNS,
    check_from_row,
    check_values,
    service_from_row,
    service_values,
)
from nyxmon.store.sqlite.connections import SqlConnection
from nyxmon.store.sqlite.views import drop_views_of

__all__ = ["SqliteCheckRepository", "SqliteServiceRepository"]

Clock = Callable[[], float]


class SqliteServiceRepository:
    def __init__(self, conn: SqlConnection, clock: Clock) -> None:
        self._conn = conn
        self._clock = clock

    def get(self, name: str) -> Service | None:
        row = self._conn.execute(
            f"SELECT {SERVICE_COLUMNS} FROM services WHERE name = ?", (name,)
        ).fetchone()
        return service_from_row(row) if row else None

    def all(self, *, source: CheckSource | None = None) -> tuple[Service, ...]:
        sql = f"SELECT {SERVICE_COLUMNS} FROM services"
        params: tuple[str, ...] = ()
        if source is not None:
            sql += " WHERE source = ?"
            params = (CheckSource(source).value,)
        return tuple(
            service_from_row(r) for r in self._conn.execute(sql + " ORDER BY name", params)
        )

    def upsert(self, service: Service, *, source: CheckSource = CheckSource.API) -> UpsertOutcome:
        source = CheckSource(source)
        values = service_values(service)
        row = self._conn.execute(
            f"SELECT {SERVICE_COLUMNS}, source FROM services WHERE name = ?", (service.name,)
        ).fetchone()
        now = self._clock()
        if row is None:
            self._conn.execute(
                "INSERT INTO services (name, grp, labels, description, source, created_at,"
                " updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (*values, source.value, now, now),
            )
            return UpsertOutcome.ADDED
        if row[4] == CheckSource.CONFIG.value and source is CheckSource.API:
            raise ConflictError(
                f"service {service.name!r} is defined in the config file; change it there"
            )
        if tuple(row[:4]) == values and row[4] == source.value:
            return UpsertOutcome.UNCHANGED
        self._conn.execute(
            "UPDATE services SET grp = ?, labels = ?, description = ?, source = ?, updated_at = ?"
            " WHERE name = ?",
            (*values[1:], source.value, now, service.name),
        )
        return UpsertOutcome.CHANGED

    def delete(self, name: str) -> bool:
        return self._conn.execute("DELETE FROM services WHERE name = ?", (name,)).rowcount > 0


def _validate(check: Check) -> None:
    for field in ("interval", "timeout"):
        value = getattr(check, field)
        if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
            raise StoreError(f"check {check.id!r}: {field} must be positive, got {value!r}")
    if not check.id:
        raise StoreError("a check needs a non-empty id")


class SqliteCheckRepository:
    def __init__(self, conn: SqlConnection, clock: Clock) -> None:
        self._conn = conn
        self._clock = clock

    def get(self, check_id: str, *, include_archived: bool = False) -> Check | None:
        sql = f"SELECT {CHECK_READ_COLUMNS} FROM {CHECKS_JOINED} WHERE c.id = ?"
        if not include_archived:
            sql += " AND c.archived_at IS NULL"
        row = self._conn.execute(sql, (check_id,)).fetchone()
        return check_from_row(row) if row else None

    def query(self, query: CheckQuery | None = None) -> Page[Check]:
        query = query or CheckQuery()
        where: list[str] = []
        params: list[Any] = []
        for column, value in (("service", query.service), ("type", query.type)):
            if value is not None:
                where.append(f"c.{column} = ?")
                params.append(value)
        for column, flag in (("enabled", query.enabled), ("paused", query.paused)):
            if flag is not None:
                where.append(f"c.{column} = ?")
                params.append(int(flag))
        if query.source is not None:
            where.append("c.source = ?")
            params.append(CheckSource(query.source).value)
        if query.archived is not None:
            where.append("c.archived_at IS NOT NULL" if query.archived else "c.archived_at IS NULL")
        for key, value in sorted(query.labels.items()):
            # The effective label: the check's own, else its service's. json_each keeps any
            # key safe, however many dots or quotes it holds.
            where.append(
                "COALESCE((SELECT l.value FROM json_each(c.labels) AS l WHERE l.key = ?),"
                " (SELECT l.value FROM json_each(s.labels) AS l WHERE l.key = ?)) = ?"
            )
            params += [key, key, value]
        clause = f" WHERE {' AND '.join(where)}" if where else ""
        total = int(
            self._conn.execute(f"SELECT count(*) FROM {CHECKS_JOINED}{clause}", params).fetchone()[
                0
            ]
        )
        sql = (
            f"SELECT {CHECK_READ_COLUMNS} FROM {CHECKS_JOINED}{clause}"
            " ORDER BY c.id LIMIT ? OFFSET ?"
        )
        limit = -1 if query.limit is None else query.limit
        rows = self._conn.execute(sql, (*params, limit, query.offset)).fetchall()
        shared: dict[str, Mapping[str, Any]] = {}
        return Page(
            items=tuple(check_from_row(r, shared) for r in rows),
            total=total,
            limit=query.limit,
            offset=query.offset,
        )

    def upsert(self, check: Check) -> UpsertOutcome:
        _validate(check)
        values = check_values(check)
        row = self._conn.execute(
            f"SELECT {CHECK_COLUMNS}, archived_at FROM checks WHERE id = ?", (check.id,)
        ).fetchone()
        now = self._clock()
        if row is None:
            placeholders = ", ".join("?" * (CHECK_FIELD_COUNT + 2))
            self._conn.execute(
                f"INSERT INTO checks ({CHECK_COLUMNS}, created_at, updated_at)"
                f" VALUES ({placeholders})",
                (*values, now, now),
            )
            return UpsertOutcome.ADDED
        stored_source, new_source = row[CHECK_SOURCE_INDEX], values[CHECK_SOURCE_INDEX]
        if stored_source != new_source:
            owner = "the config file" if stored_source == CheckSource.CONFIG.value else "the API"
            raise ConflictError(
                f"check {check.id!r} belongs to {owner} (source={stored_source}); "
                f"a {new_source} check cannot replace it"
            )
        archived = row[CHECK_FIELD_COUNT] is not None
        if tuple(row[:CHECK_FIELD_COUNT]) == values and not archived:
            return UpsertOutcome.UNCHANGED
        assignments = ", ".join(f"{c.strip()} = ?" for c in CHECK_COLUMNS.split(",")[1:])
        self._conn.execute(
            f"UPDATE checks SET {assignments}, updated_at = ?, archived_at = NULL WHERE id = ?",
            (*values[1:], now, check.id),
        )
        return UpsertOutcome.REVIVED if archived else UpsertOutcome.CHANGED

    def archive(self, check_id: str) -> bool:
        cur = self._conn.execute(
            "UPDATE checks SET archived_at = ? WHERE id = ? AND archived_at IS NULL",
            (self._clock(), check_id),
        )
        return cur.rowcount > 0

    def delete(self, check_id: str) -> bool:
        drop_views_of(self._conn, check_id)
        return self._conn.execute("DELETE FROM checks WHERE id = ?", (check_id,)).rowcount > 0

    def set_paused(self, check_id: str, paused: bool) -> Check:
        cur = self._conn.execute(
            "UPDATE checks SET paused = ?, updated_at = ? WHERE id = ? AND archived_at IS NULL",
            (int(bool(paused)), self._clock(), check_id),
        )
        if cur.rowcount == 0:
            raise CheckNotFoundError(check_id)
        check = self.get(check_id)
        assert check is not None
        return check
