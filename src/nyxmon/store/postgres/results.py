"""Results on PostgreSQL: the shared repository, with a batched insert of its own.

A batch is two statements whatever its size: one query gives every result its check's key
and a new id from the sequence (the agent needs the ids back, which COPY does not give), then
one ``COPY`` writes the rows. ``bench/pg_store.py`` measures this against a raw COPY of the
same rows; a multi-row ``INSERT ... SELECT FROM unnest(...) RETURNING id`` measured about
half the raw COPY's rate, this about the same as it.
Reads are the shared ones (:class:`~nyxmon.store.sqlite.results.SqliteResultRepository`, over
:mod:`.dialect`).
"""

from __future__ import annotations

from collections.abc import Sequence

from nyxmon.domain.model import Result
from nyxmon.errors import CheckNotFoundError, StoreError
from nyxmon.store.postgres.connections import PgConnection
from nyxmon.store.sqlite.codec import RESULT_INSERT_COLUMNS, result_values
from nyxmon.store.sqlite.results import SqliteResultRepository

__all__ = ["ALLOCATE", "COPY_RESULTS", "PgResultRepository"]

#: Per result of a batch, in order: its check's key and a new id, in one round trip.
ALLOCATE = (
    "SELECT u.n, c.pk, nextval('results_id_seq') FROM unnest(%b::text[])"
    " WITH ORDINALITY AS u(check_id, n) LEFT JOIN checks c ON c.id = u.check_id"
)
COPY_RESULTS = f"COPY results (id, {RESULT_INSERT_COLUMNS}) FROM STDIN"


COPY_AGENT_RESULTS = f"COPY results (id, {RESULT_INSERT_COLUMNS}, agent_id) FROM STDIN"


class PgResultRepository(SqliteResultRepository):
    """``agent_id``: the agent whose probes these are (several agents on one database), kept
    on each row so whoever checks can tell who probed what and when."""

    def __init__(self, conn: PgConnection, *, agent_id: int | None = None) -> None:
        super().__init__(conn)  # type: ignore[arg-type]
        self._pg = conn
        self._agent_id = agent_id

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
        found = self._pg.raw(ALLOCATE, ([r.check_id for r in results],))
        pks: list[int | None] = [None] * len(results)
        for n, pk, _ in found:
            pks[n - 1] = pk
        for result, pk in zip(results, pks, strict=True):
            if pk is None:
                raise CheckNotFoundError(result.check_id)
        # Ids from the sequence, handed out in row order (sorted: the order nextval ran in
        # is the planner's business); the rows then go by COPY, PostgreSQL's fastest way in.
        ids = sorted(row[2] for row in found)
        agent = self._agent_id
        if agent is None:
            self._pg.copy_rows(
                COPY_RESULTS,
                ((i, pk, *row[1:]) for i, pk, row in zip(ids, pks, rows, strict=True)),
            )
        else:
            self._pg.copy_rows(
                COPY_AGENT_RESULTS,
                ((i, pk, *row[1:], agent) for i, pk, row in zip(ids, pks, rows, strict=True)),
            )
        return tuple(ids)
