"""How much room results take: the figures behind ``nyxmon db info``'s size projection.

Sizes come from SQLite's ``dbstat`` table (every page of every table and index, counted where
it belongs), which walks the whole file: fine for a command someone runs, not for a hot path.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping

from nyxmon.service_layer.records.upkeep import StorageFigures
from nyxmon.store.sqlite.connections import SqlConnection
from nyxmon.store.sqlite.packed_schema import BLOCK_SPAN_MS

__all__ = ["GROUPS", "result_span", "storage_figures", "table_bytes"]

#: Tables and indexes by what they hold.
GROUPS: Mapping[str, tuple[str, ...]] = {
    "recent": ("results", "results_by_check_time", "results_by_time"),
    "packed": (
        "result_blocks",
        "result_blocks_by_check",
        "result_blocks_by_time",
        "result_templates",
        "result_templates_by_digest",
    ),
    "rollups": (
        "rollup_hourly",
        "rollup_hourly_by_start",
        "rollup_daily",
        "rollup_daily_by_start",
    ),
}


def table_bytes(conn: sqlite3.Connection) -> dict[str, int] | None:
    """Bytes of pages each table and index uses, by name (None without ``dbstat``)."""
    try:  # one row per table from SQLite itself (3.31+), else summed here
        rows = conn.execute("SELECT name, pgsize FROM dbstat WHERE aggregate = 1").fetchall()
    except sqlite3.OperationalError:
        try:
            rows = conn.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name").fetchall()
        except sqlite3.OperationalError:
            return None
    return {name: int(size) for name, size in rows}


def result_span(conn: sqlite3.Connection) -> tuple[float | None, float | None]:
    """The start times of the oldest and the newest stored result (None when there is none).

    Each bound is a lone min() or max() SQLite answers from an index; a block's newest result
    is among the blocks starting within a block span of the last block's start.
    """
    found_lo: list[int] = []
    found_hi: list[int] = []
    for sql, into in (
        ("SELECT min(started_ms) FROM results", found_lo),
        ("SELECT max(started_ms) FROM results", found_hi),
        ("SELECT min(first_ms) FROM result_blocks", found_lo),
        (
            "SELECT max(last_ms) FROM result_blocks"
            f" WHERE first_ms > (SELECT max(first_ms) FROM result_blocks) - {BLOCK_SPAN_MS}",
            found_hi,
        ),
    ):
        value = conn.execute(sql).fetchone()[0]
        if value is not None:
            into.append(int(value))
    return (
        min(found_lo) / 1000 if found_lo else None,
        max(found_hi) / 1000 if found_hi else None,
    )


def storage_figures(
    conn: sqlite3.Connection, counts: Mapping[str, int], packed: int, newest: float | None
) -> StorageFigures | None:
    """The sizes of recent and packed results and of rollups, and the last day's rate."""
    sizes = table_bytes(conn)
    if sizes is None:
        return None
    return figures_of(conn, sizes, counts, packed, newest)


def figures_of(
    conn: SqlConnection,
    sizes: Mapping[str, int],
    counts: Mapping[str, int],
    packed: int,
    newest: float | None,
) -> StorageFigures:
    """:func:`storage_figures` from table and index sizes read however the engine tells them
    (SQLite's ``dbstat``, PostgreSQL's ``pg_relation_size``)."""
    per_group = {group: sum(sizes.get(n, 0) for n in names) for group, names in GROUPS.items()}
    last_day = 0
    if newest is not None:
        since = round(newest * 1000) - 86_400_000
        last_day = int(
            conn.execute("SELECT count(*) FROM results WHERE started_ms > ?", (since,)).fetchone()[
                0
            ]
        ) + int(
            conn.execute(
                "SELECT coalesce(sum(count), 0) FROM result_blocks WHERE first_ms > ?", (since,)
            ).fetchone()[0]
        )
    return StorageFigures(
        recent_bytes=per_group["recent"],
        recent_results=counts["results"] - packed,
        packed_bytes=per_group["packed"],
        packed_results=packed,
        rollup_bytes=per_group["rollups"],
        rollup_rows=counts["rollup_hourly"] + counts["rollup_daily"],
        results_last_day=last_day,
        checks=counts["checks"],
    )
