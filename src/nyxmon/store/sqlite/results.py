"""SQLite repository for results: batched inserts and the history reads the web needs.

New results are appended one row each to ``results``; older hours are read from blocks too
(:mod:`.history`). Reads must run in one transaction (the store's read methods open one).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence

from nyxmon.domain.model import Result
from nyxmon.errors import CheckNotFoundError, StoreError
from nyxmon.service_layer.records.results import (
    ResultCursor,
    ResultPage,
    ResultPoint,
    StoredResult,
)
from nyxmon.store.packing import PackedRow
from nyxmon.store.sqlite.bulk import check_pks, insert_rows
from nyxmon.store.sqlite.codec import RESULT_COLUMNS, RESULT_INSERT_COLUMNS, result_values, to_ms
from nyxmon.store.sqlite.connections import SqlConnection
from nyxmon.store.sqlite.history import (
    Entry,
    count_between,
    materialize,
    ms_ceil,
    newest,
)
from nyxmon.store.sqlite.progress import read_progress

__all__ = ["SqliteResultRepository", "check_pk_of"]

_INSERT = f"INSERT INTO results ({RESULT_INSERT_COLUMNS})"
_HIGHEST = 1 << 62


def _clamp(value: int) -> int:
    return max(-_HIGHEST, min(_HIGHEST, value))


def check_pk_of(conn: SqlConnection, check_id: str) -> int:
    """The surrogate key of a check, live or archived; CheckNotFoundError if there is none."""
    row = conn.execute("SELECT pk FROM checks WHERE id = ?", (check_id,)).fetchone()
    if row is None:
        raise CheckNotFoundError(check_id)
    return int(row[0])


def _packed_before(conn: SqlConnection) -> int | None:
    """Milliseconds before which results may be in blocks (None: none are)."""
    progress = read_progress(conn, "hourly")  # type: ignore[arg-type]
    if progress is None or not math.isfinite(progress.period_start):
        return None
    return to_ms(progress.period_start)


def _point(entry: Entry) -> ResultPoint:
    started_ms, _, row = entry
    if isinstance(row, PackedRow):
        status = row.status
        return ResultPoint(
            started_ms / 1000, row.duration_us / 1_000_000, not status & 3, bool(status >> 2)
        )
    return ResultPoint(started_ms / 1000, row[4] / 1_000_000, row[5] == 0, bool(row[6]))


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
        before = None
        if after is not None:  # clamped: SQLite integers are 64 bits, a cursor may say more
            before = (_clamp(to_ms(after.started_at)), _clamp(after.id))
        entries = newest(
            self._conn,
            pk,
            limit + 1,
            lo=ms_ceil(since),
            hi=ms_ceil(until, default=_HIGHEST),
            before=before,
        )
        items = tuple(materialize(self._conn, check_id, pk, entries[:limit]))
        cursor = None
        if len(entries) > limit:
            last = items[-1]
            cursor = ResultCursor(last.result.started_at, last.id)
        return ResultPage(items=items, next_cursor=cursor)

    def _targets(self, check_ids: Sequence[str] | None) -> dict[int, str]:
        if check_ids is None:
            rows = self._conn.execute("SELECT pk, id FROM checks WHERE archived_at IS NULL")
        else:
            rows = self._conn.execute(
                "SELECT pk, id FROM checks WHERE id IN (SELECT value FROM json_each(?))",
                (json.dumps(list(check_ids)),),
            )
        return dict(rows.fetchall())

    def latest(self, check_ids: Sequence[str] | None = None) -> dict[str, StoredResult]:
        params: tuple[str, ...] = ()
        if check_ids is None:
            which = "c.archived_at IS NULL"
        else:
            which = "c.id IN (SELECT value FROM json_each(?))"
            params = (json.dumps(list(check_ids)),)
        # One query: per check an index probe on (check_pk, started_ms) from its newest end.
        rows = self._conn.execute(
            f"SELECT c.id, c.pk, {RESULT_COLUMNS} FROM checks c JOIN results r ON r.id = ("
            " SELECT r2.id FROM results r2 WHERE r2.check_pk = c.pk"
            " ORDER BY r2.started_ms DESC, r2.id DESC LIMIT 1)"
            f" WHERE {which}",
            params,
        ).fetchall()
        packed_before = _packed_before(self._conn)
        out: dict[str, StoredResult] = {}
        fresh: set[int] = set()
        for row in rows:
            # Only results before the rollup progress may be packed: a newer row is the newest.
            if packed_before is None or row[3] >= packed_before:
                out[row[0]] = materialize(self._conn, row[0], row[1], [(row[3], row[2], row[2:])])[
                    0
                ]
                fresh.add(row[1])
        if packed_before is not None:
            for pk, check_id in self._targets(check_ids).items():
                if pk not in fresh:
                    entries = newest(self._conn, pk, 1)
                    if entries:
                        out[check_id] = materialize(self._conn, check_id, pk, entries)[0]
        return out

    def recent(
        self, check_ids: Sequence[str], limit: int, since: float | None = None
    ) -> dict[str, tuple[StoredResult, ...]]:
        """The newest ``limit`` results of each check (newest first): one query over the
        recent rows (per check an index range read from its newest end), then the blocks of
        the checks that have fewer recent rows than asked for."""
        if limit < 1:
            raise ValueError(f"limit must be >= 1, got {limit}")
        lo = ms_ceil(since)
        rows = self._conn.execute(
            f"SELECT c.id, c.pk, {RESULT_COLUMNS} FROM checks c JOIN results r ON r.id IN ("
            " SELECT r2.id FROM results r2 WHERE r2.check_pk = c.pk AND r2.started_ms >= ?"
            " ORDER BY r2.started_ms DESC, r2.id DESC LIMIT ?)"
            " WHERE c.id IN (SELECT value FROM json_each(?))"
            " ORDER BY c.id, r.started_ms DESC, r.id DESC",
            (lo, limit, json.dumps(list(check_ids))),
        ).fetchall()
        staged: dict[int, list[tuple[int, int, object]]] = {}
        for row in rows:
            staged.setdefault(row[1], []).append((row[3], row[2], row[2:]))
        packed_before = _packed_before(self._conn)
        found: dict[str, tuple[StoredResult, ...]] = {}
        for pk, check_id in self._targets(check_ids).items():
            entries = staged.get(pk, [])
            if packed_before is not None and len(entries) < limit and lo < packed_before:
                # Fewer rows than asked for: those are all of its rows, the rest is in blocks.
                entries = newest(self._conn, pk, limit, lo=lo, staged=entries)
            if entries:
                found[check_id] = tuple(materialize(self._conn, check_id, pk, entries))
        return found

    def recent_points(
        self, check_ids: Sequence[str], limit: int
    ) -> dict[str, tuple[ResultPoint, ...]]:
        """:meth:`recent` reduced to points: the same rows and blocks, only the integer
        columns read (a beats bar needs no message, timings or details)."""
        if limit < 1:
            raise ValueError(f"limit must be >= 1, got {limit}")
        rows = self._conn.execute(
            "SELECT c.id, c.pk, r.started_ms, r.id, r.duration_us, r.outcome, r.degraded"
            " FROM checks c JOIN results r ON r.id IN ("
            " SELECT r2.id FROM results r2 WHERE r2.check_pk = c.pk"
            " ORDER BY r2.started_ms DESC, r2.id DESC LIMIT ?)"
            " WHERE c.id IN (SELECT value FROM json_each(?))"
            " ORDER BY c.id, r.started_ms DESC, r.id DESC",
            (limit, json.dumps(list(check_ids))),
        ).fetchall()
        staged: dict[int, list[Entry]] = {}
        for row in rows:
            staged.setdefault(row[1], []).append((row[2], row[3], row))
        packed_before = _packed_before(self._conn)
        found: dict[str, tuple[ResultPoint, ...]] = {}
        for pk, check_id in self._targets(check_ids).items():
            entries = staged.get(pk, [])
            if packed_before is not None and len(entries) < limit:
                entries = newest(self._conn, pk, limit, staged=entries)
            if entries:
                found[check_id] = tuple(map(_point, entries))
        return found

    def count(
        self, check_id: str | None = None, *, since: float | None = None, until: float | None = None
    ) -> int:
        pk = None if check_id is None else check_pk_of(self._conn, check_id)
        return count_between(self._conn, pk, ms_ceil(since), ms_ceil(until, default=_HIGHEST))
