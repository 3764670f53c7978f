"""Migration 0007 on databases written by schema 6 (the frozen store of tests.support).

Each test writes a database the way NyxMon did before results were packed, through that
version's own ``write_batch`` and rollup step, reads it the way that version read it, then
opens it with today's store and checks the answers, the backup, the count check and resuming.
"""

from __future__ import annotations

import dataclasses
import math
import random
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from store_helpers import T0, api_check
from tests.support.legacy_sqlite import LegacySqliteStore

from nyxmon.cli.json_shapes import results_page
from nyxmon.domain.history.figures import DAY, HOUR
from nyxmon.domain.model import Outcome, Result
from nyxmon.errors import StoreError
from nyxmon.service_layer.records.batches import WriteBatch
from nyxmon.service_layer.records.results import ResultCursor
from nyxmon.store.sqlite import SqliteStore, migrate_packed
from nyxmon.store.sqlite.connections import ensure_ln

CHECKS = ("web.home", "web.api", "dns.mx", "ping.gw")
NOW = T0 + 30 * HOUR


def _result(check_id: str, t: float, rng: random.Random, *, precise: bool = True) -> Result:
    """A result of every kind over the checks; times to the ms and durations to the µs unless
    ``precise`` is off (then as a probe measures them)."""
    kind = rng.random()
    outcome = Outcome.OK
    message = f"200 OK in {rng.randrange(5, 900)} ms"
    details: dict[str, Any] = {"status": 200, "size": 5120, "url": f"https://{check_id}/x"}
    if kind < 0.05:
        outcome, message = Outcome.FAIL, "status 503, wanted 200"
        details = {"status": 503, "failed_conditions": ["[STATUS] == 200"]}
    elif kind < 0.08:
        outcome, message, details = Outcome.ERROR, "Connection refused", {}
    elif kind < 0.1:
        outcome, message, details = Outcome.TIMEOUT, "no answer within 5 s", {}
    elif check_id == "dns.mx":
        details = {"answers": ["10 mx1.example.", "20 mx2.example."], "rcode": "NOERROR"}
    elif check_id == "ping.gw":
        details = {"ip": f"192.168.0.{rng.randrange(1, 3)}", "packet_loss": 0.0}
        message = f"3/3 replies, rtt {rng.uniform(0, 9):.1f}/{rng.uniform(0, 9):.2f} ms ✓"
    duration = rng.lognormvariate(-3, 1)
    timings = {"connect": duration / 3, "total": duration}
    if rng.random() < 0.02:
        timings["odd"] = math.nan
    scheduled = t - rng.randrange(0, 4) / 1000 if precise else t - rng.random() / 100
    if precise:
        t = round(t * 1000) / 1000
        scheduled = round(scheduled * 1000) / 1000
        duration = round(duration * 1e6) / 1e6
        timings = {k: v if math.isnan(v) else round(v * 1e6) / 1e6 for k, v in timings.items()}
    return Result(
        check_id=check_id,
        scheduled_at=scheduled,
        started_at=t,
        duration=duration,
        outcome=outcome,
        message=message,
        timings=timings,
        details=details,
        degraded=outcome is Outcome.OK and rng.random() < 0.05,
    )


def _legacy_db(path: Path, *, precise: bool = True, hours: float = 30) -> LegacySqliteStore:
    """A schema-6 database with ``hours`` of results, all but the last few hours rolled up."""
    store = LegacySqliteStore(path, clock=lambda: T0)
    with store.transaction() as tx:
        for check_id in CHECKS:
            tx.checks.upsert(api_check(check_id))
        tx.commit()
    rng = random.Random(5)
    results = [
        _result(check_id, T0 + i * 97 + rng.random() * 10, rng, precise=precise)
        for i in range(int(hours * HOUR / 97))
        for check_id in CHECKS
    ]
    for i in range(0, len(results), 200):
        store.write_batch(WriteBatch(results[i : i + 200]))
    while store.rollup_step(T0 + (hours - 3) * HOUR).more:
        pass
    return store


def _pages(store: Any, check_id: str, **kw: Any) -> list[Any]:
    pages, cursor = [], None
    while True:
        page = store.results(check_id, limit=45, after=cursor, **kw)
        pages.append(results_page(page.items))
        if page.next_cursor is None:
            return pages
        cursor = page.next_cursor


def _reads(store: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for check_id in CHECKS:
        out[f"pages {check_id}"] = _pages(store, check_id)
        out[f"pages in a window {check_id}"] = _pages(
            store, check_id, since=T0 + 2.5 * HOUR, until=T0 + 27.2 * HOUR
        )
        out[f"count {check_id}"] = store.count_results(check_id, since=T0 + 1000.5)
        for step in (300.0, HOUR, DAY):
            out[f"series {check_id} {step}"] = store.series(
                check_id, start=NOW - 7 * DAY, end=NOW, step=step
            )
        for window in (DAY, 7 * DAY):
            out[f"availability {check_id} {window}"] = store.availability(
                check_id, now=NOW, window=window
            )
        for level in ("hourly", "daily"):
            out[f"rollups {check_id} {level}"] = store.rollups(check_id, level=level)
    out["count"] = store.count_results()
    out["latest"] = store.latest_results()
    out["recent"] = store.recent_results(list(CHECKS), limit=30)
    out["uptime"] = store.uptime_many(list(CHECKS), now=NOW, window=DAY)
    return out


def _same(after: Any, before: Any) -> None:
    """Equal, but sums of floats may differ in the last bits (added in another order)."""
    if dataclasses.is_dataclass(before) and not isinstance(before, type):
        for f in dataclasses.fields(before):
            _same(getattr(after, f.name), getattr(before, f.name))
    elif isinstance(before, float):
        assert after == pytest.approx(before, rel=1e-12, abs=1e-15, nan_ok=True)
    elif isinstance(before, dict):
        assert after.keys() == before.keys()
        for key in before:
            _same(after[key], before[key])
    elif isinstance(before, list | tuple):
        assert len(after) == len(before)
        for a, b in zip(after, before, strict=True):
            _same(a, b)
    else:
        assert after == before


def test_every_read_answers_as_before_after_migrating(tmp_path: Path) -> None:
    path = tmp_path / "nyxmon.db"
    legacy = _legacy_db(path)
    before = _reads(legacy)
    cursor = legacy.results("web.home", limit=10).next_cursor
    assert cursor is not None
    legacy.close()
    with SqliteStore(path) as store:
        assert store.schema_version >= 7  # and on to the latest
        info = store.db_info()
        assert info.storage is not None
        assert info.storage.packed_results > 0
        assert info.storage.recent_results > 0  # the hours not rolled up stay rows
        after = _reads(store)
        for key in before:
            _same(after[key], before[key])
        # A cursor handed out before the migration goes on where it was.
        page = store.results("web.home", limit=10, after=ResultCursor.decode(cursor.encode()))
        assert results_page(page.items)["items"] == before["pages web.home"][0]["items"][10:20]


def test_times_and_durations_are_kept_to_the_millisecond_and_microsecond(tmp_path: Path) -> None:
    path = tmp_path / "nyxmon.db"
    legacy = _legacy_db(path, precise=False, hours=4)
    before = {r.id: r.result for r in legacy.results("ping.gw", limit=10_000).items}
    legacy.close()
    with SqliteStore(path) as store:
        after = {r.id: r.result for r in store.results("ping.gw", limit=10_000).items}
    assert after.keys() == before.keys()
    for result_id, old in before.items():
        new = after[result_id]
        assert new.started_at == pytest.approx(old.started_at, abs=0.0005)
        assert new.scheduled_at == pytest.approx(old.scheduled_at, abs=0.001)
        assert new.duration == pytest.approx(old.duration, abs=0.5e-6)
        assert new.timings.keys() == old.timings.keys()
        for key, value in old.timings.items():
            assert new.timings[key] == pytest.approx(value, abs=0.5e-6, nan_ok=True)
        assert (new.outcome, new.degraded, new.message, new.details) == (
            old.outcome,
            old.degraded,
            old.message,
            old.details,
        )


def test_the_old_database_is_backed_up_first(tmp_path: Path) -> None:
    path = tmp_path / "nyxmon.db"
    legacy = _legacy_db(path, hours=4)
    count = legacy.count_results()
    legacy.close()
    SqliteStore(path).close()
    backup = migrate_packed.backup_path(str(path))
    assert backup.exists()
    conn = sqlite3.connect(backup)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 6
    assert conn.execute("SELECT count(*) FROM results").fetchone()[0] == count
    conn.close()
    with LegacySqliteStore(backup) as old:  # NyxMon of schema 6 opens it as it was
        assert old.count_results() == count


def _writer(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA foreign_keys = ON")
    ensure_ln(conn)
    return conn


def test_an_interrupted_migration_resumes_where_it_stopped(tmp_path: Path) -> None:
    path = tmp_path / "nyxmon.db"
    legacy = _legacy_db(path, hours=6)
    before = _reads(legacy)
    legacy.close()
    conn = _writer(path)
    migrate_packed.prepare(conn)
    assert migrate_packed.convert_step(conn)
    assert migrate_packed.convert_step(conn)
    conn.close()  # as if the process died here: two checks converted, two not
    with LegacySqliteStore(path) as old:  # still schema 6, and still whole for that version
        assert old.count_results() == before["count"]
    with SqliteStore(path) as store:
        assert store.schema_version >= 7  # and on to the latest
        after = _reads(store)
    for key in before:
        _same(after[key], before[key])


def test_results_written_by_the_old_version_meanwhile_are_migrated_too(tmp_path: Path) -> None:
    path = tmp_path / "nyxmon.db"
    legacy = _legacy_db(path, hours=4)
    legacy.close()
    conn = _writer(path)
    migrate_packed.prepare(conn)
    while migrate_packed.convert_step(conn):
        pass
    conn.close()
    rng = random.Random(9)
    with LegacySqliteStore(path) as old:
        old.write_batch(WriteBatch([_result("web.home", T0 + 5 * HOUR + i, rng) for i in range(7)]))
        before = _reads(old)
    with SqliteStore(path) as store:
        _same(_reads(store), before)


def test_a_count_mismatch_stops_the_migration_and_keeps_schema_6(tmp_path: Path) -> None:
    path = tmp_path / "nyxmon.db"
    legacy = _legacy_db(path, hours=4)
    count = legacy.count_results()
    legacy.close()
    conn = _writer(path)
    migrate_packed.prepare(conn)
    while migrate_packed.convert_step(conn):
        pass
    conn.execute("DELETE FROM results_v7 WHERE id = (SELECT max(id) FROM results_v7)")
    with pytest.raises(StoreError, match=rf"old table holds {count} results, the new tables"):
        migrate_packed.finish(conn, str(path))
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 6
    conn.close()
    with LegacySqliteStore(path) as old:
        assert old.count_results() == count
    with pytest.raises(StoreError, match="stays at schema version 6"):
        SqliteStore(path)


def test_ids_are_never_reused_after_migrating(tmp_path: Path) -> None:
    path = tmp_path / "nyxmon.db"
    legacy = _legacy_db(path, hours=2)
    newest = max(r.id for r in legacy.results("web.home", limit=10_000).items)
    top = legacy.write_batch(WriteBatch([_result("web.home", T0 + 3 * HOUR, random.Random())]))
    with legacy.transaction() as tx:  # the newest result is gone before the migration
        tx.checks.delete("web.home")
        tx.commit()
    legacy.close()
    with SqliteStore(path) as store:
        with store.transaction() as tx:
            tx.checks.upsert(api_check("web.home"))
            tx.commit()
        receipt = store.write_batch(
            WriteBatch([_result("web.home", T0 + 4 * HOUR, random.Random())])
        )
    assert receipt.result_ids[0] > top.result_ids[0] > newest


def test_a_fresh_database_needs_no_backup(tmp_path: Path) -> None:
    path = tmp_path / "fresh.db"
    SqliteStore(path).close()
    assert not migrate_packed.backup_path(str(path)).exists()
