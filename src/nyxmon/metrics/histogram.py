"""Histogram: fixed buckets for Prometheus, plus streaming quantiles with a stated error.

Bucket counts are exact. Quantiles come from a :class:`~nyxmon.metrics.quantiles.LogSketch` per
series: each estimate is within ``relative_error`` (1 % by default) of the exact nearest-rank
quantile of everything observed, with memory bounded by the value range instead of the count.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Callable, Sequence
from itertools import pairwise
from typing import Any

from .errors import MetricDefinitionError
from .events import Observe
from .instruments import Instrument
from .metric import Handler
from .quantiles import LogSketch
from .snapshots import HistogramSample, MetricSnapshot

__all__ = ["DEFAULT_BUCKETS", "DEFAULT_QUANTILES", "Histogram"]

#: Prometheus client's default buckets, in seconds.
DEFAULT_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0)
DEFAULT_QUANTILES = (0.5, 0.9, 0.99)


class _Series:
    __slots__ = ("counts", "sketch", "sum")

    def __init__(self, buckets: int, alpha: float) -> None:
        self.counts = [0] * (buckets + 1)
        self.sum = 0.0
        self.sketch = LogSketch(alpha)


class Histogram(Instrument[_Series]):
    """Observations in fixed buckets (``le`` upper bounds, ``+Inf`` implied) and a quantile sketch.

    Non-finite values (NaN, infinities) are rejected and counted as handler errors.
    """

    kind = "histogram"
    default_event = Observe
    reserved_labels = frozenset({"le", "quantile"})

    def __init__(
        self,
        name: str,
        help: str = "",
        *,
        buckets: Sequence[float] = DEFAULT_BUCKETS,
        quantiles: Sequence[float] = DEFAULT_QUANTILES,
        relative_error: float = 0.01,
        **binding: Any,
    ) -> None:
        bounds = [float(b) for b in buckets]
        if bounds and bounds[-1] == math.inf:
            bounds.pop()
        if not bounds or any(not math.isfinite(b) for b in bounds):
            raise MetricDefinitionError(
                f"histogram {name!r}: buckets must be finite numbers (+Inf is implied), "
                f"got {tuple(buckets)!r}"
            )
        if any(a >= b for a, b in pairwise(bounds)):
            raise MetricDefinitionError(
                f"histogram {name!r}: buckets must increase strictly, got {tuple(buckets)!r}"
            )
        qs = tuple(float(q) for q in quantiles)
        if any(not 0 <= q <= 1 for q in qs):
            raise MetricDefinitionError(
                f"histogram {name!r}: quantiles must lie in [0, 1], got {tuple(quantiles)!r}"
            )
        if not 0 < relative_error < 1:
            raise MetricDefinitionError(
                f"histogram {name!r}: relative_error must lie in (0, 1), got {relative_error!r}"
            )
        self.bounds = tuple(bounds)
        self.quantiles = qs
        self.relative_error = relative_error
        super().__init__(name, help, **binding)

    def _new_series(self) -> _Series:
        return _Series(len(self.bounds), self.relative_error)

    def _apply(self) -> Callable[[_Series, float], None]:
        bounds = self.bounds
        isfinite = math.isfinite

        def observe(series: _Series, value: float) -> None:
            if not isfinite(value):
                raise ValueError(f"a histogram takes finite values, got {value!r}")
            series.counts[bisect_left(bounds, value)] += 1
            series.sum += value
            series.sketch.add(value)

        return observe

    def _bind_named(self) -> Handler:
        # Observe events: bucket, sum and sketch updated inline, one call per event.
        by_key, lookup = self._table.by_key, self._table.lookup
        bounds = self.bounds
        isfinite = math.isfinite

        def observe(event: Any) -> None:
            value = event[1]
            if not isfinite(value):
                raise ValueError(f"a histogram takes finite values, got {value!r}")
            series = by_key.get(event[2])
            if series is None:
                series = lookup(event[2])
            series.counts[bisect_left(bounds, value)] += 1
            series.sum += value
            series.sketch.add(value)

        return observe

    def snapshot(self, now: float) -> MetricSnapshot:
        samples = []
        for labels, series in self._table.items():
            sketch = series.sketch
            cumulative, running = [], 0
            for bound, n in zip((*self.bounds, math.inf), series.counts, strict=True):
                running += n
                cumulative.append((bound, running))
            estimates = sketch.quantiles(self.quantiles)
            samples.append(
                HistogramSample(
                    labels=labels,
                    count=sketch.count,
                    sum=series.sum,
                    min=sketch.min if sketch.count else math.nan,
                    max=sketch.max if sketch.count else math.nan,
                    buckets=tuple(cumulative),
                    quantiles=tuple(zip(self.quantiles, estimates, strict=True)),
                )
            )
        return self._snapshot(tuple(samples), self._table.folded)
