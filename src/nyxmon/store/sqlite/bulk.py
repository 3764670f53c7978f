"""Multi-row INSERTs and the check-key lookup of a batch, each in one SQLite step.

``executemany`` steps once per row, and Python's sqlite3 gives up the GIL around every step.
In the agent the writer thread then has to win the GIL back from the busy probe loop once per
row, which made a batch of 50 results take 20 ms (measured flat out, bench/agent_throughput).
A ``VALUES (...), (...), ...`` statement binds a whole chunk with the GIL held and steps once.
Rows keep their order, so AUTOINCREMENT ids follow it as with one INSERT per row.

Reading has the same trap: ``fetchall`` steps once per row. :func:`check_pks` has SQLite build
the batch's whole id-to-key map as one JSON value, so it costs one step however many checks the
batch holds (it was 40-100 GIL hand-offs per batch, each one stalling the probe loop).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Sequence
from typing import Any

from nyxmon.store.sqlite.connections import SqlConnection

_PKS = "SELECT json_group_object(id, pk) FROM checks WHERE id IN (SELECT value FROM json_each(?))"

__all__ = ["CHUNK_ROWS", "check_pks", "insert_rows"]

#: Rows per statement: well under SQLite's 32,766 bound parameters.
CHUNK_ROWS = 128


def _chunk_sizes(count: int) -> list[int]:
    """``count`` rows as full chunks, then the rest as powers of two (100: 64, 32, 4).

    A remainder of any size (1 to 127 rows) was its own statement text: the connection's
    statement cache (128 entries) filled with them, each compiled for up to 127 rows x 15
    columns, and held 8 MB of the agent's RSS (measured: sqlite3_db_status STMT_USED of the
    writer, 5,000 mixed checks). Powers of two make eight texts per table, compiled once; a
    batch takes a few more steps (popcount of its remainder)."""
    sizes = [CHUNK_ROWS] * (count // CHUNK_ROWS)
    rest = count % CHUNK_ROWS
    size = CHUNK_ROWS // 2
    while rest:
        if rest >= size:
            sizes.append(size)
            rest -= size
        size //= 2
    return sizes


@functools.lru_cache(maxsize=64)
def _statement(head: str, width: int, rows: int, tail: str) -> str:
    one = "(" + ", ".join("?" * width) + ")"
    return f"{head} VALUES {', '.join([one] * rows)}{tail}"


def insert_rows(
    conn: SqlConnection, head: str, rows: Sequence[Sequence[Any]], *, tail: str = ""
) -> int:
    """Run ``{head} VALUES (...), ...{tail}`` over ``rows`` (all the same width) in chunks of
    :data:`CHUNK_ROWS`; returns the number of rows the statements changed."""
    if not rows:
        return 0
    width = len(rows[0])
    changed = 0
    start = 0
    for size in _chunk_sizes(len(rows)):
        chunk = rows[start : start + size]
        start += size
        flat = [value for row in chunk for value in row]
        changed += conn.execute(_statement(head, width, size, tail), flat).rowcount
    return changed


def check_pks(conn: SqlConnection, check_ids: Iterable[str]) -> dict[str, int]:
    """The surrogate keys of ``check_ids`` (live or archived) that exist, in one step."""
    wanted = sorted(set(check_ids))
    if not wanted:
        return {}
    (found,) = conn.execute(_PKS, (json.dumps(wanted),)).fetchone()  # an aggregate: one row
    pks: dict[str, int] = json.loads(found)
    return pks
