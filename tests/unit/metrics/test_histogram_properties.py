"""Property tests: histogram buckets and sketch quantiles against a sorted list."""

from __future__ import annotations

import math
from bisect import bisect_right

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nyxmon.metrics import Histogram, HistogramSample, LogSketch, Observe
from nyxmon.metrics.quantiles import nearest_rank

BUCKETS = (-10.0, -1.0, 0.0, 0.001, 0.5, 1.0, 7.5, 100.0, 1e4)
QUANTILES = (0.0, 0.01, 0.25, 0.5, 0.9, 0.99, 0.999, 1.0)

finite = st.floats(min_value=-1e9, max_value=1e9, allow_nan=False, allow_infinity=False)
positive = st.floats(min_value=1e-9, max_value=1e9, allow_nan=False, allow_infinity=False)
observations = st.lists(
    st.one_of(finite, positive, st.sampled_from(BUCKETS)), min_size=1, max_size=400
)


def observe_all(histogram: Histogram, values: list[float]) -> HistogramSample:
    handle = histogram.routes()[(Observe, histogram.name)]
    for value in values:
        handle(Observe(histogram.name, value))
    sample = histogram.snapshot(0.0).samples[0]
    assert isinstance(sample, HistogramSample)
    return sample


def within(estimate: float, exact: float, alpha: float) -> bool:
    # The stated bound, plus float rounding at bucket edges and the zero threshold (1e-12).
    return abs(estimate - exact) <= alpha * abs(exact) * (1 + 1e-9) + 1e-12


@given(observations)
def test_bucket_counts_are_the_counts_of_a_sorted_list_up_to_each_bound(
    values: list[float],
) -> None:
    sample = observe_all(Histogram("h", buckets=BUCKETS), values)
    ordered = sorted(values)
    assert [le for le, _ in sample.buckets] == [*BUCKETS, math.inf]
    for le, cumulative in sample.buckets:
        assert cumulative == bisect_right(ordered, le)  # values <= le
    assert sample.count == len(values)
    assert sample.sum == pytest.approx(math.fsum(values), rel=1e-9, abs=1e-6)
    assert (sample.min, sample.max) == (ordered[0], ordered[-1])


@given(observations)
def test_histogram_quantiles_are_within_one_percent_of_the_exact_nearest_rank(
    values: list[float],
) -> None:
    sample = observe_all(Histogram("h", quantiles=QUANTILES), values)
    ordered = sorted(values)
    for q, estimate in sample.quantiles:
        exact = ordered[nearest_rank(len(ordered), q)]
        assert within(estimate, exact, 0.01), (q, estimate, exact)


@settings(max_examples=200)
@given(
    st.lists(st.one_of(finite, positive, st.just(0.0)), min_size=1, max_size=300),
    st.floats(min_value=0, max_value=1),
    st.sampled_from([0.001, 0.01, 0.05, 0.2]),
)
def test_sketch_quantiles_are_within_the_stated_relative_error(
    values: list[float], q: float, alpha: float
) -> None:
    sketch = LogSketch(alpha)
    for value in values:
        sketch.add(value)
    exact = sorted(values)[nearest_rank(len(values), q)]
    assert within(sketch.quantile(q), exact, alpha)


@given(st.lists(positive, min_size=1, max_size=300))
def test_several_quantiles_at_once_agree_with_one_at_a_time(values: list[float]) -> None:
    sketch = LogSketch()
    for value in values:
        sketch.add(value)
    assert sketch.quantiles(QUANTILES) == tuple(sketch.quantile(q) for q in QUANTILES)


def test_sketch_memory_grows_with_the_value_range_not_the_count() -> None:
    sketch = LogSketch(0.01)
    for i in range(100_000):
        sketch.add(1.0 + (i % 1000) / 1000)  # values in [1, 2): a few dozen buckets
    assert sketch.count == 100_000
    assert len(sketch._pos) <= math.ceil(math.log(2) / math.log(1.01 / 0.99)) + 1


def test_empty_sketch_answers_nan_and_bad_quantiles_are_refused() -> None:
    sketch = LogSketch()
    assert math.isnan(sketch.quantile(0.5))
    with pytest.raises(ValueError, match=r"quantile must be in \[0, 1\]"):
        sketch.quantile(1.5)
    with pytest.raises(ValueError, match=r"alpha must be in \(0, 1\)"):
        LogSketch(1.0)


def test_extreme_magnitudes_do_not_overflow() -> None:
    sketch = LogSketch()
    for value in (1.7e308, -1.7e308, 5e-300, 1.0):
        sketch.add(value)
    assert sketch.quantile(1.0) == 1.7e308  # clamped to the exact maximum
    assert sketch.quantile(0.0) == -1.7e308
    assert within(sketch.quantile(0.75), 1.0, 0.01)
