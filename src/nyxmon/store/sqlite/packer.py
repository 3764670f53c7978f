"""Moving rolled-up results from one row each into blocks (see :mod:`.packed_schema`).

The hourly rollup step packs the results that started some time before its progress
(:func:`plan_packing`), in the transaction that moves the progress, so a result is either a
row of ``results`` or part of a block, never both or neither, and every packed result is of
an hour already rolled up. A result that arrives for such an hour later (a slow probe, an
import) is packed by a later step into a block of its own. Plans are computed on a reader (the
encoding is the costly part and must not hold the write lock); :func:`write_plan` then applies
one in the caller's write transaction, refusing it if another process packed the same rows
first.
"""

from __future__ import annotations

import functools
import hashlib
import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from nyxmon.errors import StoreError
from nyxmon.store.packing import PackedRow, encode_block, split_result
from nyxmon.store.sqlite.connections import SqlConnection
from nyxmon.store.sqlite.packed_schema import BLOCK_SPAN_MS

__all__ = [
    "MAX_BLOCK_RESULTS",
    "PackPlan",
    "PlanLost",
    "digest_of",
    "insert_blocks",
    "packed_row",
    "plan_packing",
    "write_plan",
]

#: Results per block at most (a check probed every second fills an hour with four).
MAX_BLOCK_RESULTS = 1024
_STAGED = (
    "SELECT id, check_pk, started_ms, lag_ms, duration_us, outcome, degraded, message, timings,"
    " details FROM results"
)


class PlanLost(StoreError):
    """Another process packed (some of) the same results first; the plan was not applied."""


@functools.lru_cache(maxsize=8192)
def digest_of(template: str) -> int:
    """The 64-bit key of a template among its check's templates."""
    return int.from_bytes(
        hashlib.blake2b(template.encode(), digest_size=8).digest(), "big", signed=True
    )


@dataclass(slots=True)
class PackPlan:
    """Blocks to insert, the templates they use, and the rows of ``results`` they replace."""

    blocks: list[tuple[int, int, int, int, int, bytes]] = field(default_factory=list)
    templates: dict[tuple[int, int], tuple[str, int]] = field(default_factory=dict)
    ids: list[int] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.blocks)

    def add(self, pk: int, rows: Sequence[tuple[PackedRow, str]]) -> None:
        """Add blocks of one check's ``rows`` (sorted by start, then id; within one hour)."""
        for start in range(0, len(rows), MAX_BLOCK_RESULTS):
            chunk = rows[start : start + MAX_BLOCK_RESULTS]
            first, last = chunk[0][0], chunk[-1][0]
            if last.started_ms - first.started_ms >= BLOCK_SPAN_MS:
                raise ValueError("a block must span less than an hour")
            self.blocks.append(
                (
                    pk,
                    first.started_ms,
                    first.id,
                    last.started_ms,
                    len(chunk),
                    encode_block([r for r, _ in chunk], first.started_ms, first.id),
                )
            )
            for row, template in chunk:
                key = (pk, row.template_id)
                seen = self.templates.get(key)
                if seen is None or seen[1] < last.started_ms:
                    self.templates[key] = (template, last.started_ms)
            self.ids.extend(r.id for r, _ in chunk)


def packed_row(row: Sequence[Any]) -> tuple[PackedRow, str]:
    """A row of ``results`` (``_STAGED`` columns from id) as a block row and its template."""
    template, numbers = split_result(row[7], row[9], json.loads(row[8]))
    status = row[5] | (row[6] << 2)
    return (
        PackedRow(row[0], row[2], row[3], row[4], status, digest_of(template), tuple(numbers)),
        template,
    )


def plan_packing(rc: SqlConnection, before_ms: int, budget: int, plan: PackPlan) -> bool:
    """Add the results that started before ``before_ms`` to ``plan``, check by check (each
    check's whole backlog at once, a block per hour), until about ``budget`` results; True if
    more may remain.

    The next check is the one with the oldest such result (the time index, skipping checks
    already planned: a few entries each), so a step costs what it packs, not the number of
    checks.
    """
    planned: list[int] = []
    taken = 0
    while taken < budget:
        found = rc.execute(
            "SELECT check_pk FROM results WHERE started_ms < ?"
            " AND check_pk NOT IN (SELECT value FROM json_each(?)) ORDER BY started_ms LIMIT 1",
            (before_ms, json.dumps(planned)),
        ).fetchone()
        if found is None:
            return False
        pk = found[0]
        planned.append(pk)
        rows = rc.execute(
            f"{_STAGED} WHERE check_pk = ? AND started_ms < ? ORDER BY started_ms, id",
            (pk, before_ms),
        ).fetchall()
        hours: dict[int, list[Sequence[Any]]] = {}
        for row in rows:
            hours.setdefault(row[2] // BLOCK_SPAN_MS, []).append(row)
        for members in hours.values():
            plan.add(pk, [packed_row(r) for r in members])
        taken += len(rows)
    return True


def write_plan(w: sqlite3.Connection, plan: PackPlan) -> None:
    """Apply ``plan`` in the caller's write transaction; PlanLost if its rows are gone."""
    if not plan:
        return
    deleted = w.execute(
        "DELETE FROM results WHERE id IN (SELECT value FROM json_each(?))", (json.dumps(plan.ids),)
    ).rowcount
    if deleted != len(plan.ids):
        raise PlanLost(f"{len(plan.ids) - deleted} of {len(plan.ids)} results were packed already")
    insert_blocks(w, plan)


def insert_blocks(w: SqlConnection, plan: PackPlan) -> None:
    """Insert the blocks of ``plan`` and the templates they use (moving a known template's
    ``last_ms`` forward); StoreError if two texts of a check share a digest."""
    for (pk, digest), (template, last_ms) in plan.templates.items():
        found = w.execute(
            "INSERT INTO result_templates (check_pk, digest, last_ms, template) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (check_pk, digest) DO UPDATE SET last_ms = max(last_ms, excluded.last_ms)"
            " WHERE template = excluded.template",
            (pk, digest, last_ms, template),
        ).rowcount
        if found != 1:
            raise StoreError(f"two templates of check {pk} share the digest {digest}")
    w.executemany(
        "INSERT INTO result_blocks (check_pk, first_ms, first_id, last_ms, count, data)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        plan.blocks,
    )
