"""Reading results wherever they are: recent rows of ``results`` and packed ``result_blocks``.

Every function here takes one connection and must run inside one read (or write) transaction:
a rollup step may move an hour from rows into a block at any time, and only a snapshot sees
each result exactly once. Blocks are found by the primary key (check, first start): a block
spans less than :data:`BLOCK_SPAN_MS`, so the blocks overlapping ``[lo, hi)`` are those whose
first start lies in ``(lo - span, hi)``. Times are integer milliseconds here; :func:`ms_ceil`
turns a float bound into the milliseconds that select exactly the same results.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Iterator, Sequence
from itertools import chain, repeat
from operator import and_, not_, rshift, truediv
from typing import Any

from nyxmon.service_layer.records.results import StoredResult
from nyxmon.store.packing import BlockRows, PackedRow, decode_core
from nyxmon.store.sqlite.codec import RESULT_COLUMNS, result_from_packed, result_from_row
from nyxmon.store.sqlite.connections import SqlConnection
from nyxmon.store.sqlite.packed_schema import BLOCK_SPAN_MS

__all__ = [
    "Entry",
    "count_between",
    "materialize",
    "ms_ceil",
    "newest",
    "raw_points",
    "raw_tally",
]

#: ``(started_ms, id, row)``: a row of ``results`` (RESULT_COLUMNS) or a block's PackedRow.
Entry = tuple[int, int, Any]
_LOWEST = -(1 << 62)
_HIGHEST = 1 << 62
_BLOCKS_IN = (
    "FROM result_blocks WHERE check_pk = ? AND first_ms > ? AND first_ms < ? AND last_ms >= ?"
)


def ms_ceil(seconds: float | None, *, default: int = _LOWEST) -> int:
    """The least whole millisecond ``m`` with ``m / 1000 >= seconds``: ``started_at >= t`` is
    ``started_ms >= ms_ceil(t)`` and ``started_at < t`` is ``started_ms < ms_ceil(t)``."""
    if seconds is None:
        return default
    if not -1e15 < seconds < 1e15:  # beyond any time a result can have (and 64 bits)
        return _LOWEST if seconds < 0 else _HIGHEST
    m = math.ceil(seconds * 1000)
    while (m - 1) / 1000 >= seconds:
        m -= 1
    while m / 1000 < seconds:
        m += 1
    return m


def _key(entry: Entry) -> tuple[int, int]:
    return entry[0], entry[1]


def newest(
    conn: SqlConnection,
    pk: int,
    limit: int,
    *,
    lo: int = _LOWEST,
    hi: int = _HIGHEST,
    before: tuple[int, int] | None = None,
    staged: list[Entry] | None = None,
) -> list[Entry]:
    """The newest ``limit`` results of check ``pk`` with ``lo <= started_ms < hi`` and a
    (started_ms, id) key below ``before``, newest first. ``staged``: the caller read the rows
    of ``results`` that qualify already (all of them: fewer than ``limit``)."""
    where = " AND r.started_ms >= ? AND r.started_ms < ?"
    params: list[Any] = [pk, lo, hi]
    top = hi
    if before is not None:
        where += " AND r.started_ms <= ? AND (r.started_ms < ? OR r.id < ?)"
        params += [before[0], before[0], before[1]]
        top = min(hi, before[0] + 1)
    found: list[Entry] = list(staged) if staged is not None else []
    if staged is None:
        staged_rows = conn.execute(
            f"SELECT {RESULT_COLUMNS} FROM results r WHERE r.check_pk = ?{where}"
            " ORDER BY r.started_ms DESC, r.id DESC LIMIT ?",
            (*params, limit),
        ).fetchall()
        found = [(row[1], row[0], row) for row in staged_rows]
    # The keys first (from the index alone), each block's data only if it can contribute.
    blocks = conn.execute(
        f"SELECT id, first_ms, first_id, last_ms {_BLOCKS_IN}"
        " ORDER BY first_ms DESC, first_id DESC",
        (pk, lo - BLOCK_SPAN_MS, top, lo),
    )
    for block_id, first_ms, first_id, last_ms in blocks:
        if len(found) >= limit:
            if found[limit - 1][0] >= first_ms + BLOCK_SPAN_MS:
                break
            if found[limit - 1][0] > last_ms:
                continue
        (data,) = conn.execute(
            "SELECT data FROM result_blocks WHERE id = ?", (block_id,)
        ).fetchone()
        block = BlockRows(data, first_ms, first_id)
        ids, started = block.ids, block.started
        taken = 0
        for i in range(len(block) - 1, -1, -1):
            key = (started[i], ids[i])
            if lo <= key[0] < hi and (before is None or key < before):
                found.append((key[0], key[1], block.row(i)))
                taken += 1
                if taken == limit:
                    break
        found.sort(key=_key, reverse=True)
        del found[limit:]
    return found


def materialize(
    conn: SqlConnection, check_id: str, pk: int, entries: Sequence[Entry]
) -> list[StoredResult]:
    """Stored results of ``entries`` (of check ``pk``), in their order."""
    digests = {e[2].template_id for e in entries if isinstance(e[2], PackedRow)}
    templates: dict[int, str] = {}
    if digests:
        templates = dict(
            conn.execute(
                "SELECT digest, template FROM result_templates"
                " WHERE check_pk = ? AND digest IN (SELECT value FROM json_each(?))",
                (pk, json.dumps(sorted(digests))),
            ).fetchall()
        )
    out = []
    for _, _, row in entries:
        if isinstance(row, PackedRow):
            out.append(result_from_packed(check_id, row, templates[row.template_id]))
        else:
            out.append(result_from_row(check_id, row))
    return out


def _blocks(conn: SqlConnection, pk: int, lo: int, hi: int) -> Iterator[tuple[int, int, bytes]]:
    yield from conn.execute(
        f"SELECT first_ms, last_ms, data {_BLOCKS_IN} ORDER BY first_ms, first_id",
        (pk, lo - BLOCK_SPAN_MS, hi, lo),
    )


def raw_points(
    conn: SqlConnection, pk: int, lo: int, hi: int, *, packed_before: int | None = None
) -> Iterator[tuple[float, float, bool, bool]]:
    """``(started_at, duration, ok, degraded)`` of check ``pk``'s results in ``[lo, hi)``;
    blocks are not looked at if ``lo >= packed_before`` (no block holds a result after that).

    Built of C iterators (charts read thousands of these): rows convert in SQL, blocks through
    ``map``/``zip``. ``n / 1000.0`` in SQLite and ``n / 1000`` in Python give the same double.
    """
    parts: list[Iterable[tuple[float, float, bool, bool]]] = []
    if packed_before is None or lo < packed_before:
        for first_ms, last_ms, data in _blocks(conn, pk, lo, hi):
            core = decode_core(data, first_ms)
            points = zip(
                map(truediv, core.started_ms, repeat(1000)),
                map(truediv, core.duration_us, repeat(1_000_000)),
                map(not_, map(and_, core.status, repeat(3))),
                map(bool, map(rshift, core.status, repeat(2))),
                strict=True,
            )
            if lo <= first_ms and last_ms < hi:
                parts.append(points)
            else:
                parts.append(
                    point
                    for point, started in zip(points, core.started_ms, strict=True)
                    if lo <= started < hi
                )
    parts.append(
        conn.execute(
            "SELECT started_ms / 1000.0, duration_us / 1000000.0, outcome = 0, degraded"
            " FROM results WHERE check_pk = ? AND started_ms >= ? AND started_ms < ?",
            (pk, lo, hi),
        )
    )
    return chain.from_iterable(parts)


def raw_tally(
    conn: SqlConnection, pks: Sequence[int], lo: int, hi: int, *, packed_before: int | None = None
) -> dict[int, tuple[int, int, int]]:
    """``pk -> (runs, passed, degraded)`` of raw results in ``[lo, hi)``: one aggregate query
    over ``results``, and the blocks in the range (rare: an hour packed while others of the
    same period are not yet)."""
    ids = json.dumps(list(pks))
    counts: dict[int, tuple[int, int, int]] = {}
    for pk, count, ok, degraded in conn.execute(
        "SELECT check_pk, COUNT(*), SUM(outcome = 0), SUM(degraded) FROM results"
        " WHERE check_pk IN (SELECT value FROM json_each(?)) AND started_ms >= ?"
        " AND started_ms < ? GROUP BY check_pk",
        (ids, lo, hi),
    ):
        counts[pk] = (count, ok, degraded)
    if packed_before is not None and lo >= packed_before:
        return counts
    found = conn.execute(
        "SELECT check_pk, first_ms, last_ms, data FROM result_blocks"
        " WHERE check_pk IN (SELECT value FROM json_each(?)) AND first_ms > ? AND first_ms < ?"
        " AND last_ms >= ?",
        (ids, lo - BLOCK_SPAN_MS, hi, lo),
    ).fetchall()
    for pk, first_ms, _, data in found:
        core = decode_core(data, first_ms)
        n = ok = degraded = 0
        for started, status in zip(core.started_ms, core.status, strict=True):
            if lo <= started < hi:
                n += 1
                ok += not status & 3
                degraded += status >> 2
        was = counts.get(pk, (0, 0, 0))
        counts[pk] = (was[0] + n, was[1] + ok, was[2] + degraded)
    return counts


def count_between(conn: SqlConnection, pk: int | None, lo: int, hi: int) -> int:
    """How many results (of check ``pk``, or all) start in ``[lo, hi)``."""
    which = "" if pk is None else " AND check_pk = ?"
    extra: tuple[int, ...] = () if pk is None else (pk,)
    total = int(
        conn.execute(
            f"SELECT count(*) FROM results WHERE started_ms >= ? AND started_ms < ?{which}",
            (lo, hi, *extra),
        ).fetchone()[0]
    )
    whole = conn.execute(
        "SELECT sum(count) FROM result_blocks WHERE first_ms >= ? AND last_ms < ?" + which,
        (lo, hi, *extra),
    ).fetchone()[0]
    total += int(whole or 0)
    if lo == _LOWEST and hi == _HIGHEST:
        return total
    edges = conn.execute(
        "SELECT first_ms, data FROM result_blocks WHERE first_ms > ? AND first_ms < ?"
        " AND last_ms >= ? AND NOT (first_ms >= ? AND last_ms < ?)" + which,
        (lo - BLOCK_SPAN_MS, hi, lo, lo, hi, *extra),
    ).fetchall()
    for first_ms, data in edges:
        total += sum(1 for t in decode_core(data, first_ms).started_ms if lo <= t < hi)
    return total
