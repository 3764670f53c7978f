"""Contract: hourly and daily rollups, uptime windows and chart series against plain Python."""

from __future__ import annotations

import math
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from store_helpers import T0, FakeClock, StoreHarness, add_checks, make_result, roll_up_everything

from nyxmon.domain.history.figures import DAY, HOUR
from nyxmon.domain.history.histogram import FLOOR, RELATIVE_ERROR, nearest_rank
from nyxmon.domain.model import Outcome
from nyxmon.service_layer.records.batches import WriteBatch
from nyxmon.service_layer.storage import Store

SETTLE = 300.0
# The harness fixture only makes fresh stores; nothing in it leaks between examples.
_FIXTURE_OK = [HealthCheck.function_scoped_fixture]
Sample = tuple[float, float, bool, bool]  # (started_at, duration, ok, degraded)


def _kept(seconds: float, per_second: int) -> float:
    """A value as the store keeps it: start times to the millisecond, durations to the µs."""
    return round(seconds * per_second) / per_second


# Durations as the store keeps them (whole microseconds), so sums and extremes compare exactly.
durations = st.one_of(
    st.floats(min_value=0.0, max_value=120.0, allow_nan=False, allow_infinity=False),
    st.floats(min_value=0.0, max_value=0.001, allow_nan=False),
).map(lambda d: _kept(d, 1_000_000))


def _write(store: Store, check_id: str, samples: list[Sample]) -> None:
    results = [
        make_result(check_id, t, d, Outcome.OK if ok else Outcome.TIMEOUT, degraded=deg)
        for t, d, ok, deg in samples
    ]
    for i in range(0, len(results), 100):
        store.write_batch(WriteBatch(results[i : i + 100]))


def _close_to(estimate: float | None, exact: float) -> bool:
    assert estimate is not None
    return abs(estimate - exact) <= max(exact * RELATIVE_ERROR, FLOOR) * (1 + 1e-9)


def _samples(offsets: st.SearchStrategy[float]) -> st.SearchStrategy[list[Sample]]:
    return st.lists(
        st.tuples(offsets, durations, st.booleans(), st.booleans()), min_size=1, max_size=300
    )


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(samples=_samples(st.floats(min_value=0.0, max_value=HOUR - 0.001)))
def test_hourly_rollup_matches_python(harness: StoreHarness, samples: list[Sample]) -> None:
    store = harness.new(settle=SETTLE)
    add_checks(store, "a.one")
    _write(store, "a.one", [(T0 + o, d, ok, deg) for o, d, ok, deg in samples])
    roll_up_everything(store, T0 + HOUR + SETTLE)
    (row,) = store.rollups("a.one", level="hourly")
    durs = sorted(d for _, d, _, _ in samples)
    assert row.start == T0
    assert row.count == len(samples)
    assert row.ok_count == sum(ok for _, _, ok, _ in samples)
    assert row.degraded_count == sum(deg for _, _, _, deg in samples)
    assert row.duration_min == durs[0]
    assert row.duration_max == durs[-1]
    assert math.isclose(row.duration_avg, math.fsum(durs) / len(durs), rel_tol=1e-9, abs_tol=1e-12)
    assert row.duration_p95 == nearest_rank(durs, 0.95)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(samples=_samples(st.floats(min_value=0.0, max_value=DAY - 0.001)))
def test_daily_rollup_matches_python(harness: StoreHarness, samples: list[Sample]) -> None:
    store = harness.new(settle=SETTLE)
    add_checks(store, "a.one")
    _write(store, "a.one", [(T0 + o, d, ok, deg) for o, d, ok, deg in samples])
    roll_up_everything(store, T0 + DAY + SETTLE)
    (row,) = store.rollups("a.one", level="daily")
    durs = sorted(d for _, d, _, _ in samples)
    assert row.start == T0
    assert row.count == len(samples)
    assert row.ok_count == sum(ok for _, _, ok, _ in samples)
    assert row.degraded_count == sum(deg for _, _, _, deg in samples)
    assert (row.duration_min, row.duration_max) == (durs[0], durs[-1])
    assert math.isclose(row.duration_avg, math.fsum(durs) / len(durs), rel_tol=1e-9, abs_tol=1e-12)
    assert _close_to(row.duration_p95, nearest_rank(durs, 0.95))
    hours = store.rollups("a.one", level="hourly")
    assert sum(h.count for h in hours) == len(samples)


def test_an_hour_is_rolled_up_only_after_it_settles(store: Store) -> None:
    add_checks(store, "a.one")
    _write(store, "a.one", [(T0 + 10, 0.1, True, False)])
    report = store.rollup_step(T0 + HOUR + SETTLE - 1)
    assert report.hourly_written == 0
    assert store.rollups("a.one", level="hourly") == ()
    report = store.rollup_step(T0 + HOUR + SETTLE)
    assert report.hourly_written == 1
    assert report.hourly_through == T0 + HOUR


def _history(check_ids: list[str], start: float, end: float, step: float) -> list[Sample]:
    rng = random.Random(7)
    return [
        (
            _kept(t + rng.random(), 1000),
            _kept(rng.lognormvariate(-3, 1), 1_000_000),
            rng.random() > 0.1,
            rng.random() < 0.05,
        )
        for t in [start + i * step for i in range(int((end - start) / step))]
        for _ in check_ids
    ]


def test_small_steps_give_the_same_rollups_as_one_big_step(harness: StoreHarness) -> None:
    ids = [f"svc.c{i}" for i in range(12)]
    stores = [harness.new(settle=SETTLE), harness.new(settle=SETTLE)]
    for store in stores:
        add_checks(store, *ids)
        rng = random.Random(1)
        for check_id in ids:
            samples = _history([check_id], T0, T0 + 6 * HOUR, 97 + rng.randrange(200))
            _write(store, check_id, samples)
    now = T0 + DAY + SETTLE
    steps = 0
    while stores[0].rollup_step(now, max_rows=40).more:
        steps += 1
    assert steps > 20
    assert not stores[1].rollup_step(now, max_rows=10_000_000).more
    for check_id in ids:
        for level in ("hourly", "daily"):
            small = stores[0].rollups(check_id, level=level)  # type: ignore[arg-type]
            big = stores[1].rollups(check_id, level=level)  # type: ignore[arg-type]
            assert small == big
            assert small


def test_empty_hours_are_skipped_quickly(store: Store) -> None:
    add_checks(store, "a.one")
    _write(store, "a.one", [(T0, 0.1, True, False), (T0 + 300 * DAY, 0.2, True, False)])
    report = store.rollup_step(T0 + 300 * DAY + HOUR + SETTLE)
    assert report.hourly_written == 2
    assert report.hourly_through == T0 + 300 * DAY + HOUR


def _expected(samples: list[Sample], lo: float, hi: float) -> list[Sample]:
    return [s for s in samples if lo <= s[0] <= hi]


@pytest.mark.parametrize(
    ("window", "rolled"),
    [
        pytest.param(DAY, True, id="24h-rolled"),
        pytest.param(7 * DAY, True, id="7d-rolled"),
        pytest.param(90 * DAY, True, id="90d-rolled"),
        pytest.param(DAY, False, id="24h-raw-only"),
    ],
)
def test_availability_combines_rollups_and_raw_exactly(
    store: Store, clock: FakeClock, window: float, rolled: bool
) -> None:
    add_checks(store, "a.one")
    now = T0 + DAY + 1800.0 + 42.0
    samples = _history(["a.one"], T0 - 3 * DAY + 1234, now, 300.0)
    _write(store, "a.one", samples)
    if rolled:
        roll_up_everything(store, now)
    got = store.availability("a.one", now=now, window=window)
    # The window starts on a whole hour whether or not anything is rolled up yet.
    start = math.floor((now - window) / HOUR) * HOUR
    want = _expected(samples, start, now)
    assert got.start == start
    assert got.end == now
    assert got.count == len(want)
    assert got.ok_count == sum(s[2] for s in want)
    assert got.degraded_count == sum(s[3] for s in want)
    assert got.uptime_pct == pytest.approx(100.0 * got.ok_count / len(want))
    durs = sorted(s[1] for s in want)
    assert got.duration_min == durs[0]
    assert got.duration_max == durs[-1]
    assert got.duration_avg == pytest.approx(math.fsum(durs) / len(durs))
    for q, value in ((0.5, got.duration_p50), (0.95, got.duration_p95), (0.99, got.duration_p99)):
        assert _close_to(value, nearest_rank(durs, q))
        if not rolled:
            assert value == nearest_rank(durs, q)


def test_availability_survives_the_cleaner_deleting_raw_rows(store: Store) -> None:
    from nyxmon.service_layer.records.upkeep import Retention

    add_checks(store, "a.one")
    now = T0 + 20 * DAY
    samples = _history(["a.one"], T0, now, 600.0)
    _write(store, "a.one", samples)
    roll_up_everything(store, now)
    before = store.availability("a.one", now=now, window=30 * DAY)
    while store.cleaner_step(now, Retention(raw_days=2)).more:
        pass
    assert store.count_results("a.one") < len(samples) / 5
    assert store.availability("a.one", now=now, window=30 * DAY) == before


def test_availability_of_a_quiet_check_is_empty(store: Store) -> None:
    add_checks(store, "a.one")
    got = store.availability("a.one", now=T0, window=DAY)
    assert (got.count, got.uptime_pct, got.duration_p95, got.duration_avg) == (0, None, None, None)


def test_availability_refuses_a_bad_window(store: Store) -> None:
    add_checks(store, "a.one")
    with pytest.raises(ValueError, match="window"):
        store.availability("a.one", now=T0, window=0)


@pytest.mark.parametrize(
    "step",
    [pytest.param(600.0, id="raw"), pytest.param(HOUR, id="hourly"), pytest.param(DAY, id="daily")],
)
def test_series_buckets_match_python(store: Store, step: float) -> None:
    add_checks(store, "a.one")
    now = T0 + 3 * DAY + 3 * HOUR
    samples = _history(["a.one"], T0, now, 240.0)
    _write(store, "a.one", samples)
    roll_up_everything(store, now)
    start, end = T0 + DAY, now
    points = store.series("a.one", start=start, end=end, step=step)
    assert len(points) == math.ceil((end - start) / step)
    for i, point in enumerate(points):
        assert point.start == start + i * step
        want = [s for s in samples if point.start <= s[0] < point.start + step]
        assert point.count == len(want)
        assert point.ok_count == sum(s[2] for s in want)
        if want:
            durs = sorted(s[1] for s in want)
            assert (point.duration_min, point.duration_max) == (durs[0], durs[-1])
            if step < DAY:  # one hourly row, or raw results only: exact
                assert point.duration_p95 == nearest_rank(durs, 0.95)
            assert _close_to(point.duration_p95, nearest_rank(durs, 0.95))
        else:
            assert point.duration_p95 is None


@pytest.mark.parametrize(
    ("start", "end", "step", "named"),
    [
        pytest.param(T0, T0 + DAY, 0.0, "step", id="zero-step"),
        pytest.param(T0, T0, 60.0, "start < end", id="empty-range"),
        pytest.param(T0, T0 + 365 * DAY, 60.0, "points", id="too-many-points"),
    ],
)
def test_series_refuses_bad_ranges(
    store: Store, start: float, end: float, step: float, named: str
) -> None:
    add_checks(store, "a.one")
    with pytest.raises(ValueError, match=named):
        store.series("a.one", start=start, end=end, step=step)


@pytest.mark.parametrize("rolled", [True, False], ids=["rolled", "raw-only"])
def test_uptime_of_many_checks_in_one_read_matches_availability(
    store: Store, clock: FakeClock, rolled: bool
) -> None:
    add_checks(store, "a.one", "a.two", "a.quiet")
    now = T0 + 2 * DAY + 1800.0 + 7.0
    for check_id, every in (("a.one", 300.0), ("a.two", 420.0)):
        _write(store, check_id, _history([check_id], T0, now, every))
    if rolled:
        roll_up_everything(store, now)
    many = store.uptime_many(["a.one", "a.two", "a.quiet", "a.none"], now=now, window=DAY)
    assert set(many) == {"a.one", "a.two", "a.quiet"}
    for check_id, got in many.items():
        single = store.availability(check_id, now=now, window=DAY)
        assert (got.start, got.end, got.count, got.ok_count, got.degraded_count) == (
            single.start,
            single.end,
            single.count,
            single.ok_count,
            single.degraded_count,
        )
        assert got.pct == single.uptime_pct
    assert many["a.quiet"].count == 0
    assert many["a.one"].count > 0
