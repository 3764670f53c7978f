"""SQLite-specific behaviour: pragmas, read-only readers, migrations, query plans."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from store_helpers import T0, FakeClock, add_checks, make_result

from nyxmon.domain.history.histogram import bucket_of
from nyxmon.errors import SchemaVersionError, StoreError
from nyxmon.service_layer.records.batches import WriteBatch
from nyxmon.store.sqlite import SqliteStore
from nyxmon.store.sqlite.connections import ensure_ln
from nyxmon.store.sqlite.migrations import (
    Migration,
    apply_migrations,
    bundled_migrations,
    split_sql,
)
from nyxmon.store.sqlite.period_rollup import BUCKET_PARAMS, BUCKET_SQL
from nyxmon.store.sqlite.write_gate import WriteGate


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[SqliteStore]:
    store = SqliteStore(tmp_path / "nyxmon.db", clock=FakeClock())
    yield store
    store.close()


def _pragma(conn: sqlite3.Connection, name: str) -> object:
    return conn.execute(f"PRAGMA {name}").fetchone()[0]


def test_writer_runs_in_wal_mode_with_normal_sync_and_foreign_keys(
    sqlite_store: SqliteStore,
) -> None:
    writer = sqlite_store._conns.writer
    assert _pragma(writer, "journal_mode") == "wal"
    assert _pragma(writer, "synchronous") == 1  # NORMAL
    assert _pragma(writer, "foreign_keys") == 1
    assert _pragma(writer, "busy_timeout") == 10_000


def test_reader_connections_cannot_write(sqlite_store: SqliteStore) -> None:
    reader = sqlite_store._conns.reader()
    with pytest.raises(sqlite3.OperationalError, match=r"readonly|read-only|query_only"):
        reader.execute("DELETE FROM checks")


def test_a_failed_migration_leaves_the_database_as_it_was(tmp_path: Path) -> None:
    path = tmp_path / "m.db"
    conn = sqlite3.connect(path, isolation_level=None)
    good = Migration(1, "0001_a.sql", "CREATE TABLE a (x INTEGER);\nINSERT INTO a VALUES (1);\n")
    bad = Migration(
        2,
        "0002_b.sql",
        "CREATE TABLE b (y INTEGER);\nINSERT INTO a VALUES (2);\nINSERT INTO nowhere VALUES (3);\n",
    )
    assert apply_migrations(conn, str(path), [good]) == 1
    with pytest.raises(StoreError, match=r"0002_b\.sql.*nowhere.*stays at schema version 1"):
        apply_migrations(conn, str(path), [good, bad])
    assert _pragma(conn, "user_version") == 1
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert tables == {"a"}
    assert conn.execute("SELECT x FROM a").fetchall() == [(1,)]
    conn.close()


def test_bundled_migrations_are_numbered_from_one_without_gaps() -> None:
    versions = [m.version for m in bundled_migrations()]
    assert versions == list(range(1, len(versions) + 1))


def test_split_sql_keeps_triggers_whole_and_drops_comments() -> None:
    script = (
        "-- leading comment\nCREATE TABLE t (x);\n"
        "CREATE TRIGGER tr AFTER INSERT ON t BEGIN\n  UPDATE t SET x = 1;\n  SELECT 1;\nEND;\n"
        "-- trailing comment\n"
    )
    statements = split_sql(script)
    assert len(statements) == 2
    assert statements[1].startswith("CREATE TRIGGER")
    assert statements[1].endswith("END;")


def test_split_sql_refuses_an_unterminated_statement() -> None:
    with pytest.raises(StoreError, match="unterminated"):
        split_sql("CREATE TABLE t (x);\nCREATE TABLE u (y)\n")


def test_readonly_store_reads_and_refuses_writes(sqlite_store: SqliteStore) -> None:
    add_checks(sqlite_store, "a.one")
    sqlite_store.write_batch(WriteBatch([make_result("a.one", T0)]))
    with SqliteStore(sqlite_store.path, readonly=True) as ro:
        assert ro.count_results("a.one") == 1
        with pytest.raises(StoreError, match="read-only"):
            ro.write_batch(WriteBatch([make_result("a.one", T0 + 1)]))


def test_readonly_store_refuses_an_older_schema(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    sqlite3.connect(path).close()
    with pytest.raises(SchemaVersionError, match=r"version 0.*open it read-write once"):
        SqliteStore(path, readonly=True)


def test_missing_folder_is_named(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="missing"):
        SqliteStore(tmp_path / "nope" / "x.db")


def test_a_closed_store_says_so(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "x.db")
    store.close()
    with pytest.raises(StoreError, match="closed"):
        store.list_checks()
    with pytest.raises(StoreError, match="closed"):
        store.write_batch(WriteBatch([make_result("a.one", T0)]))


def test_nested_units_of_work_on_one_thread_are_refused(sqlite_store: SqliteStore) -> None:
    outer, inner = sqlite_store.transaction(), sqlite_store.transaction()
    with outer, pytest.raises(StoreError, match="already open"), inner:
        pass


def _plan(store: SqliteStore, sql: str, params: tuple[object, ...]) -> str:
    rows = store._conns.reader().execute(f"EXPLAIN QUERY PLAN {sql}", params).fetchall()
    return " | ".join(str(r[-1]) for r in rows)


def test_latest_per_check_probes_the_index_once_per_check(sqlite_store: SqliteStore) -> None:
    plan = _plan(
        sqlite_store,
        "SELECT c.id, r.id FROM checks c JOIN results r ON r.id = ("
        " SELECT r2.id FROM results r2 WHERE r2.check_pk = c.pk"
        " ORDER BY r2.started_ms DESC, r2.id DESC LIMIT 1)"
        " WHERE c.id IN (SELECT value FROM json_each(?))",
        ("[]",),
    )
    assert "results_by_check_time" in plan
    assert "TEMP B-TREE" not in plan
    assert "SCAN r2" not in plan


def test_history_pages_and_cleaner_use_indexes_without_sorting(sqlite_store: SqliteStore) -> None:
    page = _plan(
        sqlite_store,
        "SELECT r.id FROM results r WHERE r.check_pk = ? AND r.started_ms >= ?"
        " AND r.started_ms <= ? AND (r.started_ms < ? OR r.id < ?)"
        " ORDER BY r.started_ms DESC, r.id DESC LIMIT ?",
        (1, 0, 0, 0, 0, 10),
    )
    assert "results_by_check_time" in page
    assert "TEMP B-TREE" not in page
    late = _plan(
        sqlite_store,
        "SELECT id FROM results WHERE started_ms < ? ORDER BY started_ms LIMIT ?",
        (0, 10),
    )
    assert "results_by_time" in late
    assert "TEMP B-TREE" not in late
    clean = _plan(
        sqlite_store,
        "SELECT id, count FROM result_blocks"
        " WHERE first_ms < ? AND last_ms < ? ORDER BY first_ms LIMIT ?",
        (0, 0, 10),
    )
    assert "result_blocks_by_time" in clean
    assert "TEMP B-TREE" not in clean
    blocks = _plan(
        sqlite_store,
        "SELECT first_ms, first_id, data FROM result_blocks WHERE check_pk = ? AND first_ms > ?"
        " AND first_ms < ? AND last_ms >= ? ORDER BY first_ms DESC, first_id DESC",
        (1, 0, 0, 0),
    )
    assert "result_blocks_by_check (check_pk=? AND first_ms>? AND first_ms<?)" in blocks
    assert "TEMP B-TREE" not in blocks


@given(st.floats(min_value=0.0, max_value=1e7, allow_nan=False, allow_infinity=False))
def test_sql_histogram_bucket_equals_the_python_one(duration: float) -> None:
    conn = sqlite3.connect(":memory:")
    ensure_ln(conn)
    (bucket,) = conn.execute(
        f"SELECT {BUCKET_SQL} FROM (SELECT :duration AS duration)",
        {**BUCKET_PARAMS, "duration": duration},
    ).fetchone()
    conn.close()
    assert bucket == bucket_of(duration)


def test_checkpoint_brings_the_whole_wal_into_the_database(sqlite_store: SqliteStore) -> None:
    add_checks(sqlite_store, *(f"a.c{i}" for i in range(50)))
    for batch in range(20):
        results = [make_result(f"a.c{i}", T0 + batch * 60 + i) for i in range(50)]
        sqlite_store.write_batch(WriteBatch(results))
    sqlite_store._conns.checkpoint()
    probe = sqlite3.connect(sqlite_store.path)
    busy, frames, done = probe.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    probe.close()
    assert (busy, frames) == (0, done)
    assert sqlite_store._conns.writer.execute("PRAGMA wal_autocheckpoint").fetchone()[0] > 1000


def test_write_gate_serves_urgent_writers_before_background_work() -> None:
    gate = WriteGate()
    order: list[str] = []
    gate.acquire(urgent=False)

    def take(name: str, urgent: bool) -> None:
        with gate.held(urgent=urgent):
            order.append(name)

    urgent = threading.Thread(target=take, args=("urgent", True))
    background = threading.Thread(target=take, args=("background", False))
    urgent.start()
    while gate._urgent_waiting == 0:
        time.sleep(0.001)
    background.start()
    time.sleep(0.05)  # let the background thread queue up too (if it is late, order holds anyway)
    gate.release()
    urgent.join(timeout=10)
    background.join(timeout=10)
    assert order == ["urgent", "background"]


def test_write_gate_is_reentrant_and_refuses_a_foreign_release() -> None:
    gate = WriteGate()
    with gate, gate:
        pass
    gate.acquire()
    errors: list[BaseException] = []

    def release() -> None:
        try:
            gate.release()
        except RuntimeError as exc:
            errors.append(exc)

    thread = threading.Thread(target=release)
    thread.start()
    thread.join(timeout=10)
    gate.release()
    assert len(errors) == 1
    assert "does not hold" in str(errors[0])
