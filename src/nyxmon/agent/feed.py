"""Live status changes for whoever watches (the dashboard's Server-Sent Events).

Published on the dispatcher thread, where statuses change; a subscriber must be cheap and
thread-agnostic (typically ``loop.call_soon_threadsafe`` into its own loop, where it coalesces).
A failing subscriber is logged, counted and dropped; it never disturbs the dispatcher.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from nyxmon.domain.status import CheckStatus

__all__ = ["StatusFeed", "Subscriber"]

log = logging.getLogger(__name__)

Subscriber = Callable[[CheckStatus], None]


class StatusFeed:
    def __init__(self) -> None:
        self._subscribers: tuple[Subscriber, ...] = ()
        self.failures = 0

    def subscribe(self, subscriber: Subscriber) -> Callable[[], None]:
        """Add ``subscriber``; call the returned function to remove it (any thread)."""
        self._subscribers = (*self._subscribers, subscriber)

        def unsubscribe() -> None:
            self._subscribers = tuple(s for s in self._subscribers if s is not subscriber)

        return unsubscribe

    @property
    def subscribers(self) -> int:
        return len(self._subscribers)

    def publish(self, status: CheckStatus) -> None:
        for subscriber in self._subscribers:  # a snapshot: (un)subscribing swaps the tuple
            try:
                subscriber(status)
            except Exception:
                self.failures += 1
                log.exception("status subscriber %r failed; removing it", subscriber)
                self._subscribers = tuple(s for s in self._subscribers if s is not subscriber)
