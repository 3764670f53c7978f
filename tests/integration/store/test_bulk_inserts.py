"""Multi-row INSERTs: every row lands, in order, and a run of batches of every size compiles
only a handful of statement texts (the writer's statement cache held 8 MB of them before)."""

from __future__ import annotations

import sqlite3

from nyxmon.store.sqlite import bulk
from nyxmon.store.sqlite.bulk import CHUNK_ROWS, insert_rows


def test_batches_of_every_size_land_in_order_with_few_statement_texts() -> None:
    conn = sqlite3.connect(":memory:", isolation_level=None)
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY AUTOINCREMENT, a INTEGER, b TEXT)")
    texts: set[str] = set()
    conn.set_trace_callback(texts.add)
    expected: list[tuple[int, str]] = []
    for count in range(1, 2 * CHUNK_ROWS + 3):
        rows = [(count * 1000 + i, f"r{i}") for i in range(count)]
        assert insert_rows(conn, "INSERT INTO t (a, b)", rows) == count
        expected.extend(rows)
    conn.set_trace_callback(None)
    assert conn.execute("SELECT a, b FROM t ORDER BY id").fetchall() == expected
    assert len({text.split(" VALUES ")[1].count("(") for text in texts}) == 8


def test_chunk_sizes_are_full_chunks_then_powers_of_two() -> None:
    assert bulk._chunk_sizes(0) == []
    assert bulk._chunk_sizes(100) == [64, 32, 4]
    assert bulk._chunk_sizes(CHUNK_ROWS * 2 + 7) == [CHUNK_ROWS, CHUNK_ROWS, 4, 2, 1]
    assert all(sum(bulk._chunk_sizes(n)) == n for n in range(1000))
