"""Login rate limiting: a few failures per client address and per user name, then 429.

Failures are kept per key in a sliding window; once a key has ``limit`` failures inside
``window`` seconds, further attempts are refused until the oldest one leaves the window
(``Retry-After`` says when). Per user name as well as per address, so spreading a guessing
run over many addresses does not help against one account. Memory is bounded.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterable

__all__ = ["LoginLimiter"]

_MAX_KEYS = 10_000


class LoginLimiter:
    def __init__(
        self, limit: int, window: float, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if limit < 1 or window <= 0:
            raise ValueError(f"LoginLimiter needs limit >= 1 and window > 0, got {limit}, {window}")
        self.limit = limit
        self.window = window
        self._clock = clock
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def retry_after(self, keys: Iterable[str]) -> float | None:
        """Seconds until an attempt for any of ``keys`` is allowed again, None if it is now."""
        now = self._clock()
        wait = 0.0
        with self._lock:
            for key in keys:
                failures = self._recent(key, now)
                if failures is not None and len(failures) >= self.limit:
                    wait = max(wait, failures[0] + self.window - now)
        return wait if wait > 0 else None

    def failed(self, keys: Iterable[str]) -> None:
        now = self._clock()
        with self._lock:
            if len(self._failures) >= _MAX_KEYS:
                self._prune(now)
            for key in keys:
                failures = self._failures.setdefault(key, deque(maxlen=self.limit))
                failures.append(now)

    def succeeded(self, keys: Iterable[str]) -> None:
        with self._lock:
            for key in keys:
                self._failures.pop(key, None)

    def _recent(self, key: str, now: float) -> deque[float] | None:
        failures = self._failures.get(key)
        if failures is None:
            return None
        while failures and failures[0] <= now - self.window:
            failures.popleft()
        if not failures:
            del self._failures[key]
            return None
        return failures

    def _prune(self, now: float) -> None:
        for key in list(self._failures):
            self._recent(key, now)
        if len(self._failures) >= _MAX_KEYS:  # still full of live keys: forget the oldest half
            oldest = sorted(self._failures, key=lambda k: self._failures[k][-1])
            for key in oldest[: _MAX_KEYS // 2]:
                del self._failures[key]
