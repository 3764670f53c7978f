"""SQLite repository for results: batched inserts and the history reads the web needs."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import Any

from nyxmon.domain.model import Result
from nyxmon.errors import CheckNotFoundError, StoreError
from nyxmon.service_layer.records.results import ResultCursor, ResultPage, StoredResult
from tests.support.legacy_sqlite.bulk import check_pks, insert_rows
from tests.support.legacy_sqlite.codec import RESULT_COLUMNS, result_from_row, result_values
from tests.support.legacy_sqlite.connections import SqlConnection

__all__ = ["SqliteResultRepository", "check_pk_of"]

_INSERT = (
    "INSERT INTO results (check_pk, scheduled_at, started_at, duration, outcome, degraded,"
    " message, timings, details)"
)


def check_pk_of(conn: SqlConnection, check_id: str) -> int:
    """The surrogate key of a check, live or archived; CheckNotFoundError if there is none."""
    row = conn.execute("SELECT pk FROM checks WHERE id = ?", (check_id,)).fetchone()
    if row is None:
        raise CheckNotFoundError(check_id)
    return int(row[0])


def _time_range(since: float | None, until: float | None) -> tuple[str, list[Any]]:
    sql = ""
    params: list[Any] = []
    if since is not None:
        sql += " AND r.started_at >= ?"
        params.append(since)
    if until is not None:
        sql += " AND r.started_at < ?"
        params.append(until)
    return sql, params


class SqliteResultRepository:
    def __init__(self, conn: SqlConnection) -> None:
        self._conn = conn

    def add_many(self, results: Sequence[Result]) -> tuple[int, ...]:
        if not results:
            return ()
        pk_of = check_pks(self._conn, (r.check_id for r in results))
        rows = []
        for index, result in enumerate(results):
            pk = pk_of.get(result.check_id)
            if pk is None:
                raise CheckNotFoundError(result.check_id)
            rows.append(result_values(pk, result, index))
        inserted = insert_rows(self._conn, _INSERT, rows)
        if inserted != len(rows):
            raise StoreError(f"inserted {inserted} of {len(rows)} results")
        # One statement in an IMMEDIATE transaction with AUTOINCREMENT: the ids are the
        # len(rows) numbers ending at the sequence's new value.
        last = int(
            self._conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'results'").fetchone()[
                0
            ]
        )
        return tuple(range(last - len(rows) + 1, last + 1))

    def page(
        self,
        check_id: str,
        *,
        since: float | None = None,
        until: float | None = None,
        limit: int = 100,
        after: ResultCursor | None = None,
    ) -> ResultPage:
        if limit < 1:
            raise ValueError(f"limit must be >= 1, got {limit}")
        pk = check_pk_of(self._conn, check_id)
        extra, params = _time_range(since, until)
        if after is not None:
            extra += " AND r.started_at <= ? AND (r.started_at < ? OR r.id < ?)"
            params += [after.started_at, after.started_at, after.id]
        rows = self._conn.execute(
            f"SELECT {RESULT_COLUMNS} FROM results r WHERE r.check_pk = ?{extra}"
            " ORDER BY r.started_at DESC, r.id DESC LIMIT ?",
            (pk, *params, limit + 1),
        ).fetchall()
        items = tuple(result_from_row(check_id, row) for row in rows[:limit])
        cursor = None
        if len(rows) > limit:
            last = items[-1]
            cursor = ResultCursor(last.result.started_at, last.id)
        return ResultPage(items=items, next_cursor=cursor)

    def latest(self, check_ids: Sequence[str] | None = None) -> dict[str, StoredResult]:
        params: tuple[str, ...] = ()
        if check_ids is None:
            which = "c.archived_at IS NULL"
        else:
            which = "c.id IN (SELECT value FROM json_each(?))"
            params = (json.dumps(list(check_ids)),)
        # One query: per check an index probe on (check_pk, started_at) from its newest end.
        rows = self._conn.execute(
            f"SELECT c.id, {RESULT_COLUMNS} FROM checks c JOIN results r ON r.id = ("
            " SELECT r2.id FROM results r2 WHERE r2.check_pk = c.pk"
            " ORDER BY r2.started_at DESC, r2.id DESC LIMIT 1)"
            f" WHERE {which}",
            params,
        ).fetchall()
        return {row[0]: result_from_row(row[0], row[1:]) for row in rows}

    def recent(
        self, check_ids: Sequence[str], limit: int, since: float | None = None
    ) -> dict[str, tuple[StoredResult, ...]]:
        """The newest ``limit`` results of each check (newest first), in one query: per check
        an index range on (check_pk, started_at) read from its newest end."""
        if limit < 1:
            raise ValueError(f"limit must be >= 1, got {limit}")
        rows = self._conn.execute(
            f"SELECT c.id, {RESULT_COLUMNS} FROM checks c JOIN results r ON r.id IN ("
            " SELECT r2.id FROM results r2 WHERE r2.check_pk = c.pk AND r2.started_at >= ?"
            " ORDER BY r2.started_at DESC, r2.id DESC LIMIT ?)"
            " WHERE c.id IN (SELECT value FROM json_each(?))"
            " ORDER BY c.id, r.started_at DESC, r.id DESC",
            (-math.inf if since is None else since, limit, json.dumps(list(check_ids))),
        ).fetchall()
        found: dict[str, list[StoredResult]] = {}
        for row in rows:
            found.setdefault(row[0], []).append(result_from_row(row[0], row[1:]))
        return {check_id: tuple(items) for check_id, items in found.items()}

    def count(
        self, check_id: str | None = None, *, since: float | None = None, until: float | None = None
    ) -> int:
        extra, params = _time_range(since, until)
        if check_id is not None:
            extra += " AND r.check_pk = ?"
            params.append(check_pk_of(self._conn, check_id))
        row = self._conn.execute(f"SELECT count(*) FROM results r WHERE 1{extra}", params)
        return int(row.fetchone()[0])
