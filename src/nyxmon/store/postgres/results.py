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

_TYPES = ("bigint", "bigint", "bigint", "bigint", "smallint", "smallint", "text", "text", "text")
#: The batched insert: one array parameter per column of RESULT_INSERT_COLUMNS.
INSERT_RESULTS = (
    f"INSERT INTO results ({RESULT_INSERT_COLUMNS}) SELECT * FROM unnest("
    + ", ".join(f"%s::{t}[]" for t in _TYPES)
    + ") RETURNING id"
)


class PgResultRepository(SqliteResultRepository):
    def __init__(self, conn: PgConnection) -> None:
        super().__init__(conn)  # type: ignore[arg-type]
        self._pg = conn

    def add_many(self, results: Sequence[Result]) -> tuple[int, ...]:
        if not results:
            return ()
        pk_of = check_pks(self._pg, (r.check_id for r in results))  # type: ignore[arg-type]
        rows = []
        for index, result in enumerate(results):
            pk = pk_of.get(result.check_id)
            if pk is None:
                raise CheckNotFoundError(result.check_id)
            rows.append(result_values(pk, result, index))
        for index, row in enumerate(rows):
            for text in row[6:]:
                if "\x00" in text:
                    raise StoreError(
                        f"result {index} of the batch (check {results[index].check_id!r}):"
                        " text holds a NUL character, which PostgreSQL cannot store"
                    )
        columns = [list(column) for column in zip(*rows, strict=True)]
        ids = sorted(r[0] for r in self._pg.raw(INSERT_RESULTS, columns))
        if len(ids) != len(rows):
            raise StoreError(f"inserted {len(ids)} of {len(rows)} results")
        # One statement: its ids come from the sequence in row order, so sorted they match.
        return tuple(ids)
