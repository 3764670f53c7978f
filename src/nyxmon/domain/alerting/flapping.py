"""Flap detection: how often a check's results changed lately, recent changes weighing more.

Nagios-style: over the last ``window`` raw outcomes (ok, degraded, failed) each change between
neighbours counts with a weight rising linearly from 0.8 (oldest) to 1.2 (newest), so a check
that has just started alternating reaches the threshold sooner than one that has just stopped.
Hysteresis keeps the verdict from flapping itself: flapping starts above ``high`` and ends only
below ``low``. Detection waits for a full window, because three results with two changes say
nothing about a habit.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

__all__ = ["DEGRADED", "FAILED", "OK", "FlapDetector", "classify", "flap_share"]

OK = "o"
DEGRADED = "d"
FAILED = "f"
_CODES = frozenset({OK, DEGRADED, FAILED})

_OLDEST_WEIGHT = 0.8
_NEWEST_WEIGHT = 1.2


def classify(ok: bool, degraded: bool) -> str:
    """The one-letter code of a result: ``o`` ok, ``d`` ok but degraded, ``f`` failed."""
    if not ok:
        return FAILED
    return DEGRADED if degraded else OK


@functools.lru_cache(maxsize=64)
def _weights(changes: int) -> tuple[float, ...]:
    if changes == 1:
        return (1.0,)
    step = (_NEWEST_WEIGHT - _OLDEST_WEIGHT) / (changes - 1)
    return tuple(_OLDEST_WEIGHT + step * i for i in range(changes))


def flap_share(history: str) -> float:
    """Weighted share (0 to 1) of neighbouring results in ``history`` (oldest first) that differ."""
    if len(history) < 2 or history == history[0] * len(history):
        return 0.0  # the usual case, a steady check: no change anywhere, no weighted sum
    weights = _weights(len(history) - 1)
    changed = sum(w for w, a, b in zip(weights, history, history[1:], strict=False) if a != b)
    return changed / sum(weights)


@dataclass(slots=True)
class FlapDetector:
    """The recent result codes of one check and whether they currently count as flapping.

    ``window == 0`` switches detection off: ``flapping`` stays False and nothing is kept.
    """

    window: int
    high: float
    low: float
    history: str = ""
    flapping: bool = False

    def __post_init__(self) -> None:
        if set(self.history) - _CODES:
            raise ValueError(f"flap history may hold only o, d and f, got {self.history!r}")
        self.history = self.history[-self.window :] if self.window else ""
        if not self.window:
            self.flapping = False

    def observe(self, code: str, *, may_settle: bool = True) -> float:
        """Add one result code and update ``flapping``; returns the new share.

        ``may_settle`` False keeps an ongoing flap going even below ``low`` (the caller has no
        state to settle into yet).
        """
        if not self.window:
            return 0.0
        self.history = (self.history + code)[-self.window :]
        share = flap_share(self.history)
        if not self.flapping:
            self.flapping = len(self.history) >= self.window and share > self.high
        elif share < self.low and may_settle:
            self.flapping = False
        return share

    def reconfigure(self, window: int, high: float, low: float) -> None:
        """Adopt new limits, keeping as much history as the new window holds."""
        self.window, self.high, self.low = window, high, low
        self.history = self.history[-window:] if window else ""
        if not window:
            self.flapping = False

    def reset(self) -> None:
        self.history = ""
        self.flapping = False
