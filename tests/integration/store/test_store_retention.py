"""Contract: the cleaner deletes exactly what is past retention, in bounded steps."""

from __future__ import annotations

import pytest
from store_helpers import T0, add_checks, make_result, roll_up_everything

from nyxmon.domain.history.figures import DAY, HOUR
from nyxmon.service_layer.records.batches import WriteBatch
from nyxmon.service_layer.records.upkeep import CleanerReport, Retention
from nyxmon.service_layer.storage import Store

RETENTION = Retention(raw_days=3, hourly_days=10, daily_days=40)


def _fill(store: Store, start: float, end: float, step: float) -> list[float]:
    add_checks(store, "a.one", "a.two")
    starts = [start + i * step for i in range(int((end - start) / step))]
    results = [make_result(c, t) for t in starts for c in ("a.one", "a.two")]
    for i in range(0, len(results), 500):
        store.write_batch(WriteBatch(results[i : i + 500]))
    return starts


def _clean(store: Store, now: float, retention: Retention, max_rows: int = 2000) -> CleanerReport:
    totals = [0, 0, 0]
    for _ in range(10_000):
        report = store.cleaner_step(now, retention, max_rows=max_rows)
        totals = [
            totals[0] + report.raw_deleted,
            totals[1] + report.hourly_deleted,
            totals[2] + report.daily_deleted,
        ]
        if not report.more:
            return CleanerReport(*totals)
    raise AssertionError("cleaner_step kept reporting more work")


def test_raw_results_older_than_retention_go_and_the_rest_stay(store: Store) -> None:
    now = T0 + 60 * DAY
    starts = _fill(store, now - 6 * DAY, now, 97.0)
    roll_up_everything(store, now)
    horizon = now - RETENTION.raw_days * DAY
    report = _clean(store, now, RETENTION)
    kept = [t for t in starts if t >= horizon]
    assert report.raw_deleted == 2 * (len(starts) - len(kept))
    assert store.count_results() == 2 * len(kept)
    assert store.count_results(until=horizon) == 0


def test_raw_results_wait_for_their_hour_to_be_rolled_up(store: Store) -> None:
    now = T0 + 60 * DAY
    starts = _fill(store, now - 6 * DAY, now - 5 * DAY, 600.0)
    assert _clean(store, now, RETENTION).raw_deleted == 0
    store.rollup_step(now, max_rows=8)  # the first check of the first hour only
    assert _clean(store, now, RETENTION).raw_deleted == 0
    roll_up_everything(store, now)
    assert _clean(store, now, RETENTION).raw_deleted == 2 * len(starts)
    assert sum(r.count for r in store.rollups("a.one", level="hourly")) == len(starts)


def test_rollup_rows_expire_by_their_own_retention(store: Store) -> None:
    now = T0 + 100 * DAY
    _fill(store, now - 60 * DAY, now, 1800.0)
    roll_up_everything(store, now)
    hourly_before = store.rollups("a.one", level="hourly")
    daily_before = store.rollups("a.one", level="daily")
    _clean(store, now, RETENTION)
    hourly = store.rollups("a.one", level="hourly")
    daily = store.rollups("a.one", level="daily")
    assert hourly == tuple(r for r in hourly_before if r.start >= now - RETENTION.hourly_days * DAY)
    assert daily == tuple(r for r in daily_before if r.start >= now - RETENTION.daily_days * DAY)
    assert min(r.start for r in hourly) < now - RETENTION.hourly_days * DAY + HOUR


def test_each_step_deletes_at_most_max_rows_and_says_when_more_remains(store: Store) -> None:
    now = T0 + 60 * DAY
    _fill(store, now - 5 * DAY, now - 4 * DAY, 60.0)
    roll_up_everything(store, now)
    total = store.count_results()
    reports = []
    while True:
        report = store.cleaner_step(now, RETENTION, max_rows=250)
        reports.append(report)
        if not report.more:
            break
    assert all(r.raw_deleted <= 250 for r in reports)
    assert sum(r.raw_deleted for r in reports) == total
    assert len(reports) >= total // 250


def test_the_cleaner_refuses_a_bad_budget(store: Store) -> None:
    with pytest.raises(ValueError, match="max_rows"):
        store.cleaner_step(T0, RETENTION, max_rows=0)


@pytest.mark.parametrize("field", ["raw_days", "hourly_days", "daily_days"])
def test_retention_refuses_non_positive_days(field: str) -> None:
    with pytest.raises(ValueError, match=field):
        Retention(**{field: 0})
