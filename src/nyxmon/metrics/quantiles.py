"""A streaming quantile sketch with a stated relative error (DDSketch's log buckets).

Values are counted in buckets whose bounds grow geometrically by ``gamma = (1 + a) / (1 - a)``:
bucket ``k`` holds magnitudes in ``(gamma**(k-1), gamma**k]`` and answers with
``2 * gamma**k / (gamma + 1)``, which is within relative error ``a`` of every value in it. Because
the bucket order is the value order, the bucket holding the ``k``-th smallest value answers for
it, so every quantile estimate is within ``a * |exact|`` of the exact nearest-rank quantile (values
with magnitude below ``zero_threshold`` count as 0: absolute error at most that threshold).
Memory grows with the log of the value range, not with the count: about 2,100 buckets per sign
span 1e-9..1e9 at a = 1 %.
"""

from __future__ import annotations

import math

__all__ = ["LogSketch", "nearest_rank"]


def nearest_rank(count: int, q: float) -> int:
    """0-based index of the nearest-rank ``q`` quantile (``q`` in [0, 1]) of ``count`` values."""
    return min(count - 1, max(0, math.ceil(q * count) - 1))


class LogSketch:
    """Counts values in log-spaced buckets; :meth:`quantile` is within ``alpha`` relative error."""

    __slots__ = (
        "_gamma",
        "_inv_log_gamma",
        "_neg",
        "_pos",
        "_zero",
        "_zero_threshold",
        "alpha",
        "count",
        "max",
        "min",
    )

    def __init__(self, alpha: float = 0.01, zero_threshold: float = 1e-12) -> None:
        if not 0 < alpha < 1:
            raise ValueError(f"alpha must be in (0, 1), got {alpha}")
        if zero_threshold < 0:
            raise ValueError(f"zero_threshold must be >= 0, got {zero_threshold}")
        self.alpha = alpha
        self._gamma = (1 + alpha) / (1 - alpha)
        self._inv_log_gamma = 1.0 / math.log(self._gamma)
        self._zero_threshold = zero_threshold
        self._pos: dict[int, int] = {}
        self._neg: dict[int, int] = {}
        self._zero = 0
        self.count = 0
        self.min = math.inf
        self.max = -math.inf

    def add(self, value: float) -> None:
        """Count ``value`` (finite; the caller rejects NaN and infinities)."""
        if value > self._zero_threshold:
            key = math.ceil(math.log(value) * self._inv_log_gamma)
            store = self._pos
            store[key] = store.get(key, 0) + 1
        elif value < -self._zero_threshold:
            key = math.ceil(math.log(-value) * self._inv_log_gamma)
            store = self._neg
            store[key] = store.get(key, 0) + 1
        else:
            self._zero += 1
        self.count += 1
        if value < self.min:
            self.min = value
        if value > self.max:
            self.max = value

    def quantile(self, q: float) -> float:
        """Estimate of the nearest-rank ``q`` quantile (``q`` in [0, 1]); NaN when empty."""
        if not 0 <= q <= 1:
            raise ValueError(f"quantile must be in [0, 1], got {q}")
        if not self.count:
            return math.nan
        return self.quantiles((q,))[0]

    def quantiles(self, qs: tuple[float, ...]) -> tuple[float, ...]:
        """Several estimates in one walk over the buckets (``qs`` ascending is fastest)."""
        if not self.count:
            return tuple(math.nan for _ in qs)
        ranks = [nearest_rank(self.count, q) for q in qs]
        answers: dict[int, float] = {}
        wanted = sorted(set(ranks))
        seen = 0
        for key, n, sign in self._ordered():
            seen += n
            while wanted and wanted[0] < seen:
                rank = wanted.pop(0)
                answers[rank] = self._clamp(sign * self._represent(key) if sign else 0.0)
            if not wanted:
                break
        return tuple(answers[r] for r in ranks)

    def _ordered(self) -> list[tuple[int, int, int]]:
        """(key, count, sign) for every non-empty bucket in ascending value order."""
        out = [(k, self._neg[k], -1) for k in sorted(self._neg, reverse=True)]
        if self._zero:
            out.append((0, self._zero, 0))
        out.extend((k, self._pos[k], 1) for k in sorted(self._pos))
        return out

    def _represent(self, key: int) -> float:
        # 2 * gamma**key / (gamma + 1), written so that gamma**(key - 1) < |value| cannot overflow
        return float(self._gamma ** (key - 1)) * (2.0 * self._gamma / (self._gamma + 1.0))

    def _clamp(self, value: float) -> float:
        # The exact quantile lies in [min, max]; clamping only moves the estimate towards it.
        return min(max(value, self.min), self.max)
