"""The pure rollup arithmetic: histogram buckets and error bound, window planning."""

from __future__ import annotations

import itertools
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nyxmon.domain.history.figures import DAY, HOUR
from nyxmon.domain.history.histogram import (
    FLOOR,
    GAMMA,
    RELATIVE_ERROR,
    DurationHistogram,
    bucket_of,
    bucket_value,
    nearest_rank,
)
from nyxmon.domain.history.rollups import Segment, plan_segments

positive = st.floats(min_value=0.0, max_value=1e6, allow_nan=False, allow_infinity=False)


@given(positive)
def test_a_bucket_value_is_within_the_error_bound_of_every_member(duration: float) -> None:
    estimate = bucket_value(bucket_of(duration))
    assert abs(estimate - duration) <= max(duration * RELATIVE_ERROR, FLOOR) * (1 + 1e-9)


@given(positive, positive)
def test_buckets_are_monotonic(a: float, b: float) -> None:
    lo, hi = sorted((a, b))
    assert bucket_of(lo) <= bucket_of(hi)


def test_bucket_edges() -> None:
    assert bucket_of(0.0) == 0
    assert bucket_of(FLOOR * 0.999) == 0
    assert bucket_of(FLOOR) == 1
    assert bucket_of(FLOOR * GAMMA * 1.0001) == 2
    assert abs(RELATIVE_ERROR - 0.0443) < 1e-4


@given(st.lists(positive, min_size=1, max_size=500), st.sampled_from([0.0, 0.5, 0.95, 0.99, 1.0]))
def test_quantile_of_merged_histograms_is_close_to_the_exact_one(
    values: list[float], q: float
) -> None:
    half = len(values) // 2
    left, right = DurationHistogram(), DurationHistogram()
    left.add_all(values[:half])
    right.add_all(values[half:])
    left.merge(right)
    exact = nearest_rank(sorted(values), q)
    estimate = left.quantile(q, min(values), max(values))
    assert estimate is not None
    assert abs(estimate - exact) <= max(exact * RELATIVE_ERROR, FLOOR) * (1 + 1e-9)
    if q in (0.0, 1.0):
        assert estimate == exact


def test_histogram_round_trips_through_json() -> None:
    hist = DurationHistogram()
    hist.add_all([0.0, 0.01, 0.01, 0.5, 3.0])
    assert DurationHistogram.from_json(hist.to_json()) == hist
    assert hist.total == 5
    with pytest.raises(ValueError, match="object"):
        DurationHistogram.from_json("[1, 2]")


def test_empty_inputs() -> None:
    assert DurationHistogram().quantile(0.95) is None
    with pytest.raises(ValueError, match="empty"):
        nearest_rank([], 0.5)


def test_nearest_rank_picks_an_observed_value() -> None:
    values = [float(v) for v in range(1, 21)]
    assert nearest_rank(values, 0.95) == 19.0
    assert nearest_rank(values, 0.5) == 10.0
    assert nearest_rank(values, 0.0) == 1.0
    assert nearest_rank(values, 1.0) == 20.0


D = 1_699_920_000.0  # a UTC midnight


def test_plan_without_rollups_is_all_raw() -> None:
    assert plan_segments(D + 10, D + 500, None, None) == (D + 10, [Segment("raw", D + 10, D + 500)])


def test_plan_uses_days_then_hours_then_raw_and_rounds_the_start_to_its_hour() -> None:
    start, segments = plan_segments(
        D + 5 * HOUR + 30, D + 3 * DAY + 2 * HOUR + 7, D + 3 * DAY + HOUR, D + 2 * DAY
    )
    assert start == D + 5 * HOUR
    assert segments == [
        Segment("hourly", D + 5 * HOUR, D + DAY),
        Segment("daily", D + DAY, D + 2 * DAY),
        Segment("hourly", D + 2 * DAY, D + 3 * DAY + HOUR),
        Segment("raw", D + 3 * DAY + HOUR, D + 3 * DAY + 2 * HOUR + 7),
    ]


@given(
    st.floats(min_value=0, max_value=40 * DAY),
    st.floats(min_value=1, max_value=40 * DAY),
    st.integers(min_value=0, max_value=24 * 50),
    st.integers(min_value=0, max_value=50),
)
def test_plan_segments_tile_the_window_without_gaps_or_overlaps(
    offset: float, length: float, hours_done: int, days_done: int
) -> None:
    hourly_through = D + hours_done * HOUR
    daily_through = min(D + days_done * DAY, math.floor(hourly_through / DAY) * DAY)
    start, end = D + offset, D + offset + length
    eff_start, segments = plan_segments(start, end, hourly_through, daily_through)
    assert segments
    assert segments[0].start == eff_start <= start
    assert segments[-1].end >= end
    for a, b in itertools.pairwise(segments):
        assert a.end == b.start
    for seg in segments:
        assert seg.start < seg.end
        if seg.source == "raw":
            assert seg.start >= min(hourly_through, start)
        else:
            assert seg.end <= hourly_through
        if seg.source == "daily":
            assert seg.end <= daily_through
            assert seg.start % DAY == 0
