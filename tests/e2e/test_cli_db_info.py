"""``nyxmon db info``: bytes per result and the size the database settles at."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from nyxmon.domain.history.figures import HOUR
from nyxmon.domain.model import Check, CheckSource, Outcome, Result
from nyxmon.service_layer.records.batches import WriteBatch
from nyxmon.service_layer.records.upkeep import Retention, StorageFigures
from nyxmon.store.sqlite import SqliteStore
from tests.e2e.conftest import nyxmon

T0 = 1_767_225_600.0


def _filled(path: Path, hours: int = 6, checks: int = 20) -> int:
    """``hours`` of one result a minute per check, everything but the newest hours packed."""
    with SqliteStore(path) as store:
        with store.transaction() as tx:
            for i in range(checks):
                tx.checks.upsert(
                    Check(
                        id=f"s.c{i}",
                        service="s",
                        name=f"c{i}",
                        type="http",
                        interval=60.0,
                        timeout=5.0,
                        params={"url": "https://s.example/"},
                        source=CheckSource.API,
                    )
                )
            tx.commit()
        results = [
            Result(
                check_id=f"s.c{i}",
                scheduled_at=T0 + m * 60,
                started_at=T0 + m * 60 + 0.002,
                duration=0.04 + (m % 7) / 1000,
                outcome=Outcome.OK,
                message=f"200 OK in {40 + m % 7} ms",
                timings={"connect": 0.001, "total": 0.04 + (m % 7) / 1000},
                details={"status": 200, "size": 512, "url": "https://s.example/", "ip": "10.0.0.1"},
            )
            for m in range(hours * 60)
            for i in range(checks)
        ]
        for start in range(0, len(results), 100):
            store.write_batch(WriteBatch(results[start : start + 100]))
        while store.rollup_step(T0 + hours * HOUR + 600).more:
            pass
    return len(results)


def _figure(text: str, label: str) -> str:
    match = re.search(rf"^\s*{re.escape(label)}\s+(.+)$", text, re.MULTILINE)
    assert match, f"no {label!r} in:\n{text}"
    return match.group(1).strip()


def test_db_info_shows_bytes_per_result_and_the_projected_size(tmp_path: Path) -> None:
    db = tmp_path / "nyxmon.db"
    written = _filled(db)
    shown = nyxmon("db", "info", "--db", str(db), cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    out = shown.stdout
    assert _figure(out, "rows: results") == f"{written:,}"
    per_result = float(_figure(out, "bytes per result").replace(",", ""))
    packed = float(_figure(out, "packed (older hours)").split()[0].replace(",", ""))
    assert 0 < packed < per_result
    assert packed < 48
    assert _figure(out, "results in the last day") == f"{written:,}"
    projected = _figure(out, "projected size")
    assert "keeping raw results 14 d, hourly 90 d, daily 400 d (from the defaults)" in projected
    with SqliteStore(db, readonly=True) as store:
        figures = store.db_info().storage
    assert figures is not None
    expected = figures.projected_bytes(Retention(14, 90, 400))
    assert expected is not None
    number, unit = projected.split()[:2]
    scale = {"KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30}[unit]
    assert float(number.replace(",", "")) == pytest.approx(expected / scale, abs=0.05)


def test_db_info_projects_with_the_config_retention(tmp_path: Path) -> None:
    db = tmp_path / "nyxmon.db"
    _filled(db, hours=3, checks=5)
    config = tmp_path / "nyxmon.yaml"
    config.write_text(f"agent:\n  database: {db}\n  retention:\n    raw: 30d\n    hourly: 180d\n")
    shown = nyxmon("db", "info", "--config", str(config), cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    assert "keeping raw results 30 d, hourly 180 d, daily 400 d (from the config)" in (
        _figure(shown.stdout, "projected size")
    )


def test_projected_size_adds_packed_results_recent_rows_and_rollups() -> None:
    figures = StorageFigures(
        recent_bytes=1_000_000,
        recent_results=5_000,
        packed_bytes=2_000_000,
        packed_results=100_000,
        rollup_bytes=50_000,
        rollup_rows=500,
        results_last_day=1_440_000,
        checks=1_000,
    )
    retention = Retention(raw_days=14, hourly_days=90, daily_days=400)
    assert figures.bytes_per_result == pytest.approx(3_000_000 / 105_000)
    assert figures.packed_bytes_per_result == 20.0
    raw = 20.0 * 1_440_000 * 14
    rollups = 100.0 * 1_000 * (24 * 90 + 400)
    assert figures.projected_bytes(retention) == round(raw + 1_000_000 + rollups)
    empty = StorageFigures(0, 10, 0, 0, 0, 0, 10, 1)
    assert empty.projected_bytes(retention) is None
