"""LagWindow and percentile against a plain sorted-list computation."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nyxmon.runtime import LagWindow
from nyxmon.runtime.window import percentile

samples = st.lists(st.floats(min_value=0, max_value=1e6, allow_nan=False), min_size=1, max_size=300)


@given(samples, st.sampled_from([1, 50, 90, 99, 100]))
def test_percentile_is_the_nearest_rank_of_the_sorted_values(values: list[float], q: int) -> None:
    ordered = sorted(values)
    expected = ordered[max(1, math.ceil(len(ordered) * q / 100)) - 1]
    assert percentile(ordered, q) == expected


@given(samples, st.integers(min_value=1, max_value=50))
def test_window_keeps_all_time_max_and_mean_but_percentiles_of_the_last_n(
    values: list[float], size: int
) -> None:
    window = LagWindow(size)
    for value in values:
        window.add(value)
    stats = window.stats()
    recent = sorted(values[-size:])
    assert stats.count == len(values)
    assert stats.last == values[-1]
    assert stats.max == max(values)
    assert stats.mean == pytest.approx(sum(values) / len(values))
    assert stats.p50 == percentile(recent, 50)
    assert stats.p99 == percentile(recent, 99)


def test_add_many_matches_adding_one_by_one_and_scale_converts_units() -> None:
    one, many = LagWindow(8), LagWindow(8)
    values = [5_000_000, 1_000_000, 9_000_000]
    for v in values:
        one.add(v)
    many.add_many(values)
    assert one.stats() == many.stats()
    assert many.stats(scale=1e-9).max == pytest.approx(0.009)


def test_an_empty_window_reports_zeros() -> None:
    stats = LagWindow().stats()
    assert (stats.count, stats.max, stats.p99, stats.mean) == (0, 0.0, 0.0, 0.0)


def test_window_size_must_be_positive() -> None:
    with pytest.raises(ValueError, match="window size"):
        LagWindow(0)
