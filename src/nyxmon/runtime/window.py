"""Sliding-window statistics for lag figures (loop lag, dispatch lag, start lag)."""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass

__all__ = ["LagWindow", "WindowStats", "percentile"]


def percentile(sorted_values: list[float] | list[int], q: float) -> float:
    """Nearest-rank percentile of an ascending list (0.0 when empty); ``q`` in [0, 100]."""
    if not sorted_values:
        return 0.0
    rank = max(1, -(-len(sorted_values) * q // 100))  # ceil without floats drifting
    return float(sorted_values[min(len(sorted_values), int(rank)) - 1])


@dataclass(frozen=True, slots=True)
class WindowStats:
    """Lag figures in seconds: ``last``, all-time ``max`` and ``mean``, window ``p50``/``p99``."""

    count: int
    last: float
    max: float
    mean: float
    p50: float
    p99: float


class LagWindow:
    """Records non-negative samples; keeps all-time max/mean and the last ``size`` for percentiles.

    ``add`` is called by one thread (the loop or dispatcher thread that measures); ``stats`` may be
    called from any thread. A lock makes the copy consistent; it is uncontended in practice.
    """

    __slots__ = ("_count", "_last", "_lock", "_max", "_total", "_window")

    def __init__(self, size: int = 1024) -> None:
        if size < 1:
            raise ValueError(f"window size must be >= 1, got {size}")
        self._window: deque[float | int] = deque(maxlen=size)
        self._lock = threading.Lock()
        self._count = 0
        self._last: float = 0.0
        self._max: float = 0.0
        self._total: float = 0.0

    def add(self, value: float) -> None:
        with self._lock:
            self._window.append(value)
            self._count += 1
            self._last = value
            self._total += value
            if value > self._max:
                self._max = value

    def add_many(self, values: list[float] | list[int]) -> None:
        """Add a batch under one lock acquisition (the dispatcher records a batch at a time)."""
        if not values:
            return
        with self._lock:
            self._window.extend(values)
            self._count += len(values)
            self._last = values[-1]
            self._total += sum(values)
            top = max(values)
            if top > self._max:
                self._max = top

    def stats(self, scale: float = 1.0) -> WindowStats:
        """The figures, each multiplied by ``scale`` (record nanoseconds, read seconds)."""
        with self._lock:
            window = sorted(self._window)
            count, last, top, total = self._count, self._last, self._max, self._total
        return WindowStats(
            count=count,
            last=last * scale,
            max=top * scale,
            mean=total / count * scale if count else 0.0,
            p50=percentile(window, 50) * scale,
            p99=percentile(window, 99) * scale,
        )
