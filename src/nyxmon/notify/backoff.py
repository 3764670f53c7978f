"""When to try a failed notification again, and when to stop trying.

Exponential backoff with full jitter (AWS's "Exponential Backoff And Jitter"): after the n-th
failed attempt the next one waits a uniformly random time in ``[0, min(cap, base * 2**(n-1))]``,
so receivers coming back up are not hit by every sender at once. A receiver's ``Retry-After`` is
a lower bound. A notification is given up once its next attempt would start past
``give_up_after`` seconds from its creation, or after ``max_attempts`` attempts when set.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

__all__ = ["RetryPolicy"]


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Backoff and give-up horizon for failed deliveries (seconds)."""

    base: float = 5.0
    cap: float = 600.0
    give_up_after: float = 24 * 3600.0
    max_attempts: int | None = None

    def __post_init__(self) -> None:
        for name in ("base", "cap", "give_up_after"):
            value = getattr(self, name)
            if not math.isfinite(value) or value <= 0:
                raise ValueError(f"RetryPolicy.{name} must be a positive number, got {value!r}")
        if self.cap < self.base:
            raise ValueError(f"RetryPolicy.cap ({self.cap}) must be >= base ({self.base})")
        if self.max_attempts is not None and self.max_attempts < 1:
            raise ValueError(f"RetryPolicy.max_attempts must be >= 1, got {self.max_attempts}")

    def ceiling(self, attempts: int) -> float:
        """The longest wait after ``attempts`` failed attempts (before jitter)."""
        exponent = max(0, attempts - 1)
        if exponent >= 64:  # far past any cap; avoids a huge float
            return self.cap
        return min(self.cap, self.base * 2.0**exponent)

    def delay(self, attempts: int, rng: random.Random) -> float:
        """A jittered wait after ``attempts`` failed attempts: uniform in ``[0, ceiling]``."""
        return self.ceiling(attempts) * rng.random()

    def next_attempt(
        self,
        *,
        attempts: int,
        created_at: float,
        now: float,
        rng: random.Random,
        retry_after: float | None = None,
    ) -> float | None:
        """When to try again after ``attempts`` failed attempts, or ``None``: give up."""
        if self.max_attempts is not None and attempts >= self.max_attempts:
            return None
        wait = self.delay(attempts, rng)
        if retry_after is not None and math.isfinite(retry_after):
            wait = max(wait, retry_after)
        at = now + wait
        if at > created_at + self.give_up_after:
            return None
        return at
