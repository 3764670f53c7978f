"""One read shared by many concurrent requests, never older than any of them.

:class:`FreshRead` serves a value (a store counter) to every request that asks, with at most one
read in flight and one queued: a request that arrives while a read is under way waits for the
next one, because the read under way may have begun before a change the request must see. So
each caller gets a value read after it asked, and a thousand concurrent callers cost two reads,
not a thousand. Used on the web loop only.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

import anyio

__all__ = ["FreshRead"]

T = TypeVar("T")


class _Round(Generic[T]):
    """One read and everyone waiting for it."""

    __slots__ = ("done", "error", "started", "value")

    def __init__(self) -> None:
        self.done = anyio.Event()
        self.started = False
        self.value: T | None = None
        self.error: Exception | None = None

    def result(self) -> T:
        if self.error is not None:
            raise self.error
        return self.value  # type: ignore[return-value]  # set whenever error is not


class FreshRead(Generic[T]):
    """Coalesces concurrent reads; each caller is served by a read that began after it asked."""

    def __init__(self) -> None:
        self._running: _Round[T] | None = None
        self._next: _Round[T] | None = None
        self.reads = 0

    async def get(self, read: Callable[[], Awaitable[T]]) -> T:
        """The value, from a read started no earlier than this call (``read`` runs at most once
        at a time across all callers; the caller that starts a round runs it)."""
        running = self._running
        if running is None:
            round_: _Round[T] = _Round()
            self._running = round_
            await self._lead(round_, read)
            return round_.result()
        waiting = running if not running.started else self._next
        if waiting is not None:  # a round that has not begun to read yet: join it
            await waiting.done.wait()
            return waiting.result()
        round_ = self._next = _Round()
        # Shielded: the callers that joined this round wait for it even if this one goes away.
        with anyio.CancelScope(shield=True):
            await running.done.wait()  # the round under way promotes this one when it ends
            await self._lead(round_, read)
        return round_.result()

    async def _lead(self, round_: _Round[T], read: Callable[[], Awaitable[T]]) -> None:
        try:
            with anyio.CancelScope(shield=True):
                round_.started = True
                self.reads += 1
                round_.value = await read()
        except Exception as exc:  # every caller of the round gets it (a store error: 503)
            round_.error = exc
        finally:
            self._running, self._next = self._next, None
            round_.done.set()
