"""Every live check with its current status, shared by the hot read paths and briefly cached.

The overview, ``GET /api/v1/checks``, status pages, badges and /metrics all start from the
same list: the store's live checks joined with the agent's statuses. Two things keep building
it cheap for thousands of checks while a dashboard is hammered:

- :class:`StatusMirror` keeps a copy of every check's status, updated from the agent's status
  feed (one dict assignment on the dispatcher thread per change), so a refresh never asks the
  dispatcher for a snapshot of every session;
- the checks themselves are read again only when the store's cheap fingerprint says they
  changed.

A built list is shared for ``ttl`` seconds; concurrent misses wait for a single refresh
instead of each starting one. Writes made through the web plane call
:meth:`LiveView.invalidate`, so a client sees its own change at once.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

from nyxmon.domain.model import Check
from nyxmon.domain.status import CheckStatus
from nyxmon.web.context import WebContext

__all__ = ["CheckView", "LiveView", "StatusMirror", "state_of"]

ReadChecks = Callable[[], Awaitable[tuple[Check, ...]]]
ReadFingerprint = Callable[[], Awaitable[tuple[object, ...]]]


def state_of(check: Check, status: CheckStatus | None) -> str:
    """The state to show: ``paused`` for paused or disabled checks, else the agent's verdict."""
    if status is not None:
        state = str(status.state)
        if state != "pending" or check.active:
            return state
    if not check.active:
        return "paused"
    return "pending"


@dataclass(frozen=True, slots=True)
class CheckView:
    check: Check
    status: CheckStatus | None
    state: str


class StatusMirror:
    """The agent's statuses, kept current from its feed instead of asked for each time."""

    def __init__(self, context: WebContext) -> None:
        self._context = context
        self._statuses: dict[str, CheckStatus] = {}
        self._ready = False
        self._lock: asyncio.Lock | None = None

    def _on_status(self, status: CheckStatus) -> None:  # dispatcher thread
        self._statuses[status.check_id] = status

    async def statuses(self) -> Mapping[str, CheckStatus]:
        """Every check's status; the first call subscribes and takes one snapshot."""
        if not self._ready:
            if self._lock is None:
                self._lock = asyncio.Lock()
            async with self._lock:
                if not self._ready:
                    # Subscribe first: a change published meanwhile is newer than the snapshot,
                    # so the snapshot only fills in checks the feed has not mentioned yet.
                    self._context.subscribe(self._on_status)
                    snapshot = await self._context.statuses()
                    for check_id, status in snapshot.items():
                        self._statuses.setdefault(check_id, status)
                    self._ready = True
        return self._statuses


class LiveView:
    def __init__(
        self, context: WebContext, ttl: float, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.mirror = StatusMirror(context)
        self._ttl = ttl
        self._clock = clock
        self._value: tuple[float, tuple[CheckView, ...], Mapping[str, CheckView]] | None = None
        self._checks: tuple[tuple[object, ...], tuple[Check, ...]] | None = None
        self._lock: asyncio.Lock | None = None
        self._generation = 0
        self.refreshes = 0
        self.check_reads = 0

    @property
    def generation(self) -> int:
        """Changes with every write made through the web plane (a cache key part)."""
        return self._generation

    def invalidate(self) -> None:
        self._generation += 1
        self._value = None
        self._checks = None

    async def checks(
        self, read_checks: ReadChecks, fingerprint: ReadFingerprint | None = None
    ) -> tuple[CheckView, ...]:
        """The views; without ``fingerprint`` the checks are read on every refresh."""
        return (await self._get(read_checks, fingerprint))[0]

    async def by_id(
        self, read_checks: ReadChecks, fingerprint: ReadFingerprint | None = None
    ) -> Mapping[str, CheckView]:
        return (await self._get(read_checks, fingerprint))[1]

    async def _get(
        self, read_checks: ReadChecks, fingerprint: ReadFingerprint | None
    ) -> tuple[tuple[CheckView, ...], Mapping[str, CheckView]]:
        value = self._value
        if value is not None and self._clock() - value[0] < self._ttl:
            return value[1], value[2]
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            value = self._value
            if value is not None and self._clock() - value[0] < self._ttl:
                return value[1], value[2]
            generation = self._generation
            began = self._clock()
            checks = await self._current_checks(read_checks, fingerprint)
            statuses = await self.mirror.statuses()
            views = tuple(
                CheckView(check, statuses.get(check.id), state_of(check, statuses.get(check.id)))
                for check in checks
            )
            index = {view.check.id: view for view in views}
            self.refreshes += 1
            if generation == self._generation:
                self._value = (began, views, index)
            return views, index

    async def _current_checks(
        self, read_checks: ReadChecks, fingerprint: ReadFingerprint | None
    ) -> tuple[Check, ...]:
        if fingerprint is None:
            self.check_reads += 1
            return await read_checks()
        mark = await fingerprint()
        known = self._checks
        if known is not None and known[0] == mark:
            return known[1]
        checks = await read_checks()
        self.check_reads += 1
        self._checks = (mark, checks)
        return checks
