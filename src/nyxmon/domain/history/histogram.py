"""Compact duration histograms with fixed logarithmic buckets.

Why: a percentile of a day cannot be computed from the percentiles of its hours, but it can
be computed from the sum of their histograms. Buckets grow by ``GAMMA = 2 ** (1/8)``, so every
bucket's geometric middle is within ``sqrt(GAMMA) - 1`` (4.4 %) of any value inside it; any
quantile read from merged histograms is that close to the true nearest-rank value (the
DDSketch idea with fixed, mergeable buckets). Durations below ``FLOOR`` (100 µs) share bucket
0. Storage is sparse: a check with steady latency fills a handful of buckets per hour.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping

__all__ = [
    "FLOOR",
    "GAMMA",
    "RELATIVE_ERROR",
    "DurationHistogram",
    "bucket_of",
    "bucket_value",
    "nearest_rank",
]

GAMMA = 2.0 ** (1.0 / 8.0)
FLOOR = 1e-4
#: Largest relative error of a quantile read from a histogram (bucket 0 aside: absolute FLOOR).
RELATIVE_ERROR = math.sqrt(GAMMA) - 1.0
_LOG_GAMMA = math.log(GAMMA)


def bucket_of(duration: float) -> int:
    """The bucket index of ``duration`` seconds: 0 below FLOOR, else 1 + log_GAMMA(d/FLOOR)."""
    if duration < FLOOR:
        return 0
    return 1 + int(math.log(duration / FLOOR) / _LOG_GAMMA)


def bucket_value(index: int) -> float:
    """The value that stands for every duration in bucket ``index`` (its geometric middle)."""
    if index <= 0:
        return FLOOR / 2.0
    return float(FLOOR * GAMMA ** (index - 0.5))


def nearest_rank(sorted_values: list[float], q: float) -> float:
    """The nearest-rank ``q`` quantile of an ascending, non-empty list (no interpolation)."""
    if not sorted_values:
        raise ValueError("nearest_rank of an empty list")
    rank = max(1, math.ceil(q * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


class DurationHistogram:
    """Counts of durations per bucket; mergeable, serialisable as a small JSON object."""

    __slots__ = ("counts",)

    def __init__(self, counts: Mapping[int, int] | None = None) -> None:
        self.counts: dict[int, int] = dict(counts) if counts else {}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, DurationHistogram) and self.counts == other.counts

    def __repr__(self) -> str:
        return f"DurationHistogram({self.counts!r})"

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def add(self, duration: float, count: int = 1) -> None:
        index = bucket_of(duration)
        self.counts[index] = self.counts.get(index, 0) + count

    def add_all(self, durations: Iterable[float]) -> None:
        counts = self.counts
        for duration in durations:
            index = bucket_of(duration)
            counts[index] = counts.get(index, 0) + 1

    def merge(self, other: DurationHistogram) -> None:
        counts = self.counts
        for index, count in other.counts.items():
            counts[index] = counts.get(index, 0) + count

    def quantile(self, q: float, lo: float | None = None, hi: float | None = None) -> float | None:
        """The nearest-rank ``q`` quantile, clamped to the known ``[lo, hi]``; None if empty.

        Knowing the true min and max makes the first and last rank exact, and clamping to them
        never worsens the rest.
        """
        total = self.total
        if total == 0:
            return None
        rank = max(1, math.ceil(q * total))
        if rank == 1 and lo is not None:
            return lo
        if rank >= total and hi is not None:
            return hi
        seen = 0
        value = 0.0
        for index in sorted(self.counts):
            seen += self.counts[index]
            if seen >= rank:
                value = bucket_value(index)
                break
        if lo is not None:
            value = max(value, lo)
        if hi is not None:
            value = min(value, hi)
        return value

    def to_json(self) -> str:
        return json.dumps(
            {str(k): v for k, v in sorted(self.counts.items())}, separators=(",", ":")
        )

    @classmethod
    def from_json(cls, text: str) -> DurationHistogram:
        raw = json.loads(text)
        if not isinstance(raw, dict):
            raise ValueError(f"histogram JSON must be an object, got {text[:40]!r}")
        return cls({int(k): int(v) for k, v in raw.items()})
