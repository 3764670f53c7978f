"""Results on PostgreSQL: the shared repository, with a batched insert of its own.

A batch is one statement whatever its size: ``INSERT ... SELECT FROM unnest(...)`` of one
array per column, ``RETURNING id``. One round trip and one plan, where a statement per row
would pay the network each time; within a few percent of ``COPY`` for the agent's batch sizes
(``bench/pg_store.py`` measures both), and unlike COPY it hands back the ids the agent needs.
Reads are the shared ones (:class:`~nyxmon.store.sqlite.results.SqliteResultRepository`, over
:mod:`.dialect`).
"""

from __future__ import annotations

from collections.abc import Sequence

from nyxmon.domain.model import Result
from nyxmon.errors import CheckNotFoundError, StoreError
from nyxmon.store.postgres.connections import PgConnection
from nyxmon.store.sqlite.bulk import check_pks
from nyxmon.store.sqlite.codec import RESULT_INSERT_COLUMNS, result_values
from nyxmon.store.sqlite.results import SqliteResultRepository

__all__ = ["INSERT_RESULTS", "PgResultRepository"]

_COLUMNS = RESULT_INSERT_COLUMNS.split(", ")[1:]
_TYPES = ("bigint", "bigint", "bigint", "smallint", "smallint", "text", "text", "text")
#: The batched insert: one binary array parameter per column (check ids first, turned into
#: check keys by the join, so the batch is one statement and one round trip).
INSERT_RESULTS = (
    f"INSERT INTO results ({RESULT_INSERT_COLUMNS}) SELECT c.pk, "
    + ", ".join(f"u.{c}" for c in _COLUMNS)
    + " FROM unnest(%b::text[], "
    + ", ".join(f"%b::{t}[]" for t in _TYPES)
    + f") WITH ORDINALITY AS u(check_id, {', '.join(_COLUMNS)}, n)"
    " JOIN checks c ON c.id = u.check_id ORDER BY u.n RETURNING id"
)


class PgResultRepository(SqliteResultRepository):
    def __init__(self, conn: PgConnection) -> None:
        super().__init__(conn)  # type: ignore[arg-type]
        self._pg = conn

    def add_many(self, results: Sequence[Result]) -> tuple[int, ...]:
        if not results:
            return ()
        rows = [result_values(0, result, index) for index, result in enumerate(results)]
        for index, row in enumerate(rows):
            for text in row[6:]:
                if "\x00" in text:
                    raise StoreError(
                        f"result {index} of the batch (check {results[index].check_id!r}):"
                        " text holds a NUL character, which PostgreSQL cannot store"
                    )
        columns = [[r.check_id for r in results]]
        columns += [list(column) for column in zip(*rows, strict=True)][1:]
        ids = sorted(r[0] for r in self._pg.raw(INSERT_RESULTS, columns))
        if len(ids) != len(rows):
            known = check_pks(self._pg, (r.check_id for r in results))  # type: ignore[arg-type]
            for result in results:
                if result.check_id not in known:
                    raise CheckNotFoundError(result.check_id)
            raise StoreError(f"inserted {len(ids)} of {len(rows)} results")
        # One statement: its ids come from the sequence in row order, so sorted they match.
        return tuple(ids)
