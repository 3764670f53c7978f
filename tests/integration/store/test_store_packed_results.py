"""Contract: every read gives the same answers before and after results are packed.

Rolling up an hour moves its results out of one row each into a block; nothing a reader sees
may change: pages and cursors, the latest and recent results, counts, series, uptime.
"""

from __future__ import annotations

import dataclasses
import math
import random

from store_helpers import T0, FakeClock, StoreHarness, add_checks, roll_up_everything

from nyxmon.domain.history.figures import DAY, HOUR
from nyxmon.domain.model import Outcome, Result
from nyxmon.service_layer.records.batches import WriteBatch
from nyxmon.service_layer.records.results import ResultCursor, ResultPoint, StoredResult
from nyxmon.service_layer.storage import Store

CHECKS = ("a.steady", "a.flappy", "a.odd")
SETTLE = 300.0


def _result(check_id: str, t: float, rng: random.Random) -> Result:
    outcome = Outcome.OK
    if check_id == "a.flappy":
        outcome = rng.choice(list(Outcome))
    elif check_id == "a.odd" and rng.random() < 0.2:
        outcome = Outcome.ERROR
    ms = rng.randrange(1, 900)
    details: dict[str, object] = {
        "status": 200 if outcome is Outcome.OK else 503,
        "size": 5120,
        "url": "https://a.example/health",
        "ip": f"10.0.0.{rng.randrange(1, 4)}",
        "cert_days_left": round(rng.uniform(0, 90), 2),
    }
    timings: dict[str, float] = {
        "dns": rng.randrange(0, 900) / 1e6,
        "connect": ms / 2000,
        "total": ms / 1000,
    }
    message = f"200 OK in {ms} ms"
    if check_id == "a.odd":
        # Text that templates must carry exactly: leading zeros, unicode, escapes, huge
        # numbers, exponents, a timing that is no number, nested values.
        details.update(
            {
                "version": "v1.05.007",
                "note": 'ünïcödé ✓ "quoted" \\ \n',
                "big": 12345678901234567890123,
                "tiny": 1.5e-07,
                "failed_conditions": ["[STATUS] == 200", "[BODY].n < 0.05"],
            }
        )
        timings["odd"] = math.inf if rng.random() < 0.3 else 0.25
        message = f"attempt 0{rng.randrange(10)} at 0.{rng.randrange(100):02d} s: ✗"
    return Result(
        check_id=check_id,
        scheduled_at=t - rng.randrange(0, 5) / 1000,
        started_at=t,
        duration=ms / 1000,
        outcome=outcome,
        message=message,
        timings=timings,
        details=details,
        degraded=outcome is Outcome.OK and rng.random() < 0.1,
    )


def _fill(store: Store) -> float:
    """Five hours of results; some written late, out of order and at equal times."""
    add_checks(store, *CHECKS)
    rng = random.Random(11)
    results = []
    for i in range(5 * 60):
        t = T0 + i * 60 + rng.randrange(0, 50_000) / 1000
        for check_id in CHECKS:
            results.append(_result(check_id, t, rng))
    results.append(_result("a.steady", T0 + 30.0, rng))  # same time as another of its results
    rng.shuffle(results)
    for i in range(0, len(results), 97):
        store.write_batch(WriteBatch(results[i : i + 97]))
    return T0 + 5 * HOUR


def _all_pages(store: Store, check_id: str, **kw: float) -> list[tuple[StoredResult, ...]]:
    pages = []
    cursor: ResultCursor | None = None
    while True:
        page = store.results(check_id, limit=37, after=cursor, **kw)  # type: ignore[arg-type]
        pages.append(page.items)
        if page.next_cursor is None:
            return pages
        cursor = page.next_cursor


def _reads(store: Store, now: float) -> dict[str, object]:
    out: dict[str, object] = {}
    for check_id in CHECKS:
        out[f"pages {check_id}"] = _all_pages(store, check_id)
        out[f"window {check_id}"] = _all_pages(
            store, check_id, since=T0 + 1.5 * HOUR, until=T0 + 3.25 * HOUR
        )
        out[f"count {check_id}"] = store.count_results(check_id)
        out[f"count part {check_id}"] = store.count_results(
            check_id, since=T0 + 1234.5, until=T0 + 3 * HOUR + 17
        )
        out[f"series {check_id}"] = store.series(check_id, start=T0, end=now, step=600)
        # Percentiles of rolled-up hours come from histograms (approximate by design, packed
        # or not) and sums are added in another order; everything else is exact.
        figures = store.availability(check_id, now=now, window=DAY)
        out[f"availability {check_id}"] = dataclasses.replace(
            figures,
            duration_avg=round(figures.duration_avg or 0.0, 12),
            duration_p50=None,
            duration_p95=None,
            duration_p99=None,
        )
    out["count"] = store.count_results()
    out["latest"] = store.latest_results()
    out["recent"] = store.recent_results(list(CHECKS), limit=90)
    out["points"] = store.recent_points(list(CHECKS), limit=90)
    out["recent since"] = store.recent_results(list(CHECKS), limit=500, since=T0 + HOUR + 0.5)
    out["uptime"] = store.uptime_many(list(CHECKS), now=now, window=DAY)
    return out


def _points_of(recent: object) -> dict[str, tuple[ResultPoint, ...]]:
    """What recent_points must answer: recent_results reduced, result by result."""
    assert isinstance(recent, dict)
    return {
        check_id: tuple(
            ResultPoint(s.result.started_at, s.result.duration, s.result.ok, s.result.degraded)
            for s in stored
        )
        for check_id, stored in recent.items()
    }


def _packed_everything(store: Store, harness: StoreHarness) -> None:
    """Make sure the SQLite store really packed (so the comparison means something there);
    a store that keeps results otherwise only has to answer the same."""
    info = store.db_info()
    if harness.name == "sqlite":
        assert info.storage is not None
        assert info.storage.recent_results == 0
        assert info.storage.packed_results == info.row_counts["results"]


def test_every_read_is_the_same_before_and_after_packing(
    store: Store, harness: StoreHarness, clock: FakeClock
) -> None:
    end = _fill(store)
    now = end + 2 * HOUR  # the last hour is packed once the hour after it is rolled up
    before = _reads(store, now)
    roll_up_everything(store, now)
    _packed_everything(store, harness)
    after = _reads(store, now)
    assert after.keys() == before.keys()
    for reads in (before, after):
        assert reads["points"] == _points_of(reads["recent"])
    for key in before:
        assert after[key] == before[key], key


def test_results_written_after_their_hour_was_packed_are_read_and_packed_too(
    store: Store, harness: StoreHarness
) -> None:
    end = _fill(store)
    now = end + 2 * HOUR
    roll_up_everything(store, now)
    rng = random.Random(3)
    late = [_result("a.steady", T0 + 90.5 + i, rng) for i in range(3)]
    ids = store.write_batch(WriteBatch(late)).result_ids
    page = store.results("a.steady", since=T0 + 90, until=T0 + 94)
    assert [r.id for r in page.items] == list(reversed(ids))
    assert [r.result for r in page.items] == list(reversed(late))
    before = _reads(store, now)
    roll_up_everything(store, now + 1)
    _packed_everything(store, harness)
    assert _reads(store, now) == before


def test_a_check_deleted_takes_its_blocks_and_templates(store: Store) -> None:
    end = _fill(store)
    roll_up_everything(store, end + 2 * HOUR)
    with store.transaction() as tx:
        for check_id in CHECKS:
            tx.checks.delete(check_id)
        tx.commit()
    info = store.db_info()
    assert store.count_results() == info.row_counts["results"] == 0
    assert info.row_counts.get("result_templates", 0) == 0
