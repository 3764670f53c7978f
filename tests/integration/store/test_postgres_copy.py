"""``nyxmon db copy``: an installation moves from a SQLite file to PostgreSQL whole (every
table, packed history included), verified by counts, and an interrupted copy resumes."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from store_helpers import T0, FakeClock, PgSchemas, add_checks, make_result, roll_up_everything
from test_store_alerting import outbox_row

from nyxmon.domain.alerting.types import AlertState
from nyxmon.domain.history.figures import DAY, HOUR
from nyxmon.domain.locations import LocationView
from nyxmon.domain.model import Outcome
from nyxmon.service_layer.records.accounts import SessionRecord
from nyxmon.service_layer.records.alerts import StateRow, Transition
from nyxmon.service_layer.records.batches import WriteBatch
from nyxmon.service_layer.storage import Store
from nyxmon.store.postgres import PostgresStore
from nyxmon.store.postgres.copy_sqlite import TABLES, copy_sqlite_to_postgres
from nyxmon.store.sqlite import SqliteStore

CHECKS = ("a.one", "a.two", "b.three")
NOW = T0 + 3 * DAY


@pytest.fixture
def schemas() -> Iterator[PgSchemas]:
    made = PgSchemas()
    yield made
    made.drop_all()


def _installation(path: Path) -> None:
    """A SQLite installation with rows in every table: packed and recent results, rollups,
    states, transitions, the outbox, users, tokens, sessions and settings."""
    clock = FakeClock(T0)
    with SqliteStore(path, clock=clock) as store:
        add_checks(store, *CHECKS)
        with store.transaction() as tx:
            tx.auth.put_user("admin", "hash-1")
            tx.auth.create_token("ci", "tok-hash", "admin", "read")
            tx.auth.create_session(
                SessionRecord("sess-hash", "admin", T0, T0, T0 + 7 * DAY, NOW + DAY, "::1", "ua")
            )
            tx.auth.set_setting("web.secret", "s3cret")
            tx.commit()
        results = [
            make_result(check, T0 + i * 60.0 + n, duration=0.01 * (i % 7 + 1))
            for i in range(int(2 * DAY // 60))
            for n, check in enumerate(CHECKS)
        ]
        recent = [
            make_result(check, NOW - HOUR / 2 + i, outcome=Outcome.FAIL if i % 9 else Outcome.OK)
            for i in range(100)
            for check in CHECKS
        ]
        results += recent
        for start in range(0, len(results), 500):
            store.write_batch(WriteBatch(results[start : start + 500]))
        store.write_batch(
            WriteBatch(
                states=[StateRow("a.one", "down", T0 + HOUR, {"failures": 2}, T0 + HOUR)],
                transitions=[Transition("a.one", T0 + HOUR, "up", "down", "503", since=T0)],
                outbox=[outbox_row("a.one:1:down:1", at=T0 + HOUR)],
                views=[LocationView("a.one", "home", AlertState.DOWN, T0, T0 + HOUR, "503", 1)],
            )
        )
        roll_up_everything(store, NOW)
        info = store.db_info()
        assert info.storage is not None
        assert info.storage.packed_results > 0, "blocks exist"
        assert info.storage.recent_results == len(recent), "and recent rows"


def _same_reads(a: Store, b: Store) -> None:
    assert a.list_checks() == b.list_checks()
    assert a.list_services() == b.list_services()
    for check in CHECKS:
        assert a.results(check, limit=5000) == b.results(check, limit=5000)
        for level in ("hourly", "daily"):
            assert a.rollups(check, level=level) == b.rollups(check, level=level)  # type: ignore[arg-type]
        assert a.availability(check, now=NOW, window=7 * DAY) == b.availability(
            check, now=NOW, window=7 * DAY
        )
    assert a.load_states() == b.load_states()
    assert a.location_views() == b.location_views()
    assert a.location_views()
    assert a.transitions() == b.transitions()
    assert a.outbox() == b.outbox()
    assert a.get_user("admin") == b.get_user("admin")
    assert a.list_tokens() == b.list_tokens()
    assert a.find_session("sess-hash") == b.find_session("sess-hash")
    assert a.get_setting("web.secret") == b.get_setting("web.secret") == "s3cret"
    assert a.db_info().row_counts == b.db_info().row_counts


def test_db_copy_moves_every_table_and_reads_the_same(tmp_path: Path, schemas: PgSchemas) -> None:
    db = tmp_path / "nyxmon.db"
    _installation(db)
    dsn = schemas.new()
    done = subprocess.run(
        [sys.executable, "-m", "nyxmon", "db", "copy", str(db), dsn, "--chunk", "1000"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr + done.stdout
    assert "verified" in done.stdout
    with SqliteStore(db, readonly=True) as source, PostgresStore(dsn, readers=2) as target:
        _same_reads(source, target)
        # New ids continue after every id SQLite gave out, packed ones included.
        last = max(r.id for c in CHECKS for r in source.results(c, limit=1).items)
        receipt = target.write_batch(WriteBatch([make_result("a.one", NOW)]))
        assert receipt.result_ids[0] > last


def test_an_interrupted_copy_resumes_and_a_foreign_target_is_refused(
    tmp_path: Path, schemas: PgSchemas
) -> None:
    db = tmp_path / "nyxmon.db"
    _installation(db)
    dsn = schemas.new()
    first = copy_sqlite_to_postgres(db, dsn, chunk=500)
    assert first.verified
    # As if the copy had died part way through the results and the outbox: the newest rows
    # of each are missing (chunks commit in key order).
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("DELETE FROM results WHERE id > (SELECT max(id) - 70 FROM results)")
        conn.execute(
            "DELETE FROM result_blocks WHERE id > (SELECT max(id) - 10 FROM result_blocks)"
        )
        conn.execute("DELETE FROM outbox")
    again = copy_sqlite_to_postgres(db, dsn, chunk=500)
    assert again.verified
    assert again.tables["results"][1] == 70
    assert again.tables["result_blocks"][1] == 10
    assert again.tables["outbox"][1] == 1
    assert again.tables["checks"][1] == 0, "what was there is not copied twice"
    assert set(again.tables) == {t.name for t in TABLES}
    with SqliteStore(db, readonly=True) as source, PostgresStore(dsn, readers=2) as target:
        _same_reads(source, target)

    # A target holding another installation's rows is refused, naming the table.
    other = tmp_path / "other.db"
    with SqliteStore(other) as store:
        add_checks(store, "z.only")
    with pytest.raises(Exception, match=r"table checks holds 3 rows in PostgreSQL"):
        copy_sqlite_to_postgres(other, dsn)


def test_copy_refuses_a_source_at_another_schema_version(
    tmp_path: Path, schemas: PgSchemas
) -> None:
    db = tmp_path / "nyxmon.db"
    SqliteStore(db).close()
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA user_version = 6")
    conn.commit()
    conn.close()
    with pytest.raises(Exception, match=r"schema version 6.*open .* once"):
        copy_sqlite_to_postgres(db, schemas.new())
