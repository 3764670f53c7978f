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
instead of each starting one. Writes made through the web plane (and changes the catalog watch
notices) call :meth:`LiveView.invalidate`, so a client sees its own change at once. A page
refreshing because the event stream told it of a change asks for a ``fresh`` list: one built
after the last status change, never older than what that event said.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

from nyxmon.domain.model import Check
from nyxmon.domain.status import CheckStatus, state_of
from nyxmon.web.context import WebContext

__all__ = ["CheckView", "LiveView", "StatusMirror"]

ReadChecks = Callable[[], Awaitable[tuple[Check, ...]]]
ReadFingerprint = Callable[[], Awaitable[tuple[object, ...]]]


@dataclass(frozen=True, slots=True)
class CheckView:
    check: Check
    status: CheckStatus | None
    state: str


class StatusMirror:
    """The agent's statuses, kept current from its feed instead of asked for each time.

    Two counters say how current something built from it is: ``changes`` moves with every
    status (each result), ``state_changes`` only when a check enters another state or appears.
    Both are written by the dispatcher thread alone and read anywhere.
    """

    def __init__(self, context: WebContext) -> None:
        self._context = context
        self._statuses: dict[str, CheckStatus] = {}
        self._subscribed = False
        self._ready = False
        self._lock: asyncio.Lock | None = None
        self.changes = 0
        self.state_changes = 0

    def _on_status(self, status: CheckStatus) -> None:  # dispatcher thread
        previous = self._statuses.get(status.check_id)
        self._statuses[status.check_id] = status
        self.changes += 1
        if previous is None or previous.state != status.state:
            self.state_changes += 1

    def start(self) -> None:
        """Follow the feed from now on (idempotent; :meth:`statuses` also fills in the rest)."""
        if not self._subscribed:
            self._subscribed = True
            self._context.subscribe(self._on_status)

    async def statuses(self) -> Mapping[str, CheckStatus]:
        """Every check's status; the first call subscribes and takes one snapshot."""
        if not self._ready:
            if self._lock is None:
                self._lock = asyncio.Lock()
            async with self._lock:
                if not self._ready:
                    # Subscribe first: a change published meanwhile is newer than the snapshot,
                    # so the snapshot only fills in checks the feed has not mentioned yet.
                    self.start()
                    snapshot = await self._context.statuses()
                    for check_id, status in snapshot.items():
                        self._statuses.setdefault(check_id, status)
                    self._ready = True
        return self._statuses


#: A built list: when it was built, the views, the views by id, and the mirror's ``changes``
#: and ``state_changes`` when the build began.
_Built = tuple[float, tuple[CheckView, ...], Mapping[str, CheckView], int, int]


class LiveView:
    def __init__(
        self, context: WebContext, ttl: float, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.mirror = StatusMirror(context)
        self._ttl = ttl
        self._clock = clock
        self._value: _Built | None = None
        self._checks: tuple[tuple[object, ...], tuple[Check, ...]] | None = None
        self._lock: asyncio.Lock | None = None
        self._generation = 0
        self.refreshes = 0
        self.check_reads = 0

    @property
    def generation(self) -> int:
        """Changes with every write made through the web plane (a cache key part)."""
        return self._generation

    def state_mark(self, views: tuple[CheckView, ...]) -> int:
        """The mirror's ``state_changes`` when ``views`` (as returned by :meth:`checks`) began
        to be built; -1 when unknown. A page rendered from them hands it to the event stream,
        which tells the page at once if a state changed since (``/events?states=``)."""
        value = self._value
        return value[4] if value is not None and value[1] is views else -1

    def invalidate(self) -> None:
        self._generation += 1
        self._value = None
        self._checks = None

    async def checks(
        self,
        read_checks: ReadChecks,
        fingerprint: ReadFingerprint | None = None,
        *,
        fresh: bool = False,
    ) -> tuple[CheckView, ...]:
        """The views; without ``fingerprint`` the checks are read on every refresh. ``fresh``
        refuses a list built before the last status change."""
        return (await self._get(read_checks, fingerprint, fresh))[0]

    async def by_id(
        self,
        read_checks: ReadChecks,
        fingerprint: ReadFingerprint | None = None,
        *,
        fresh: bool = False,
    ) -> Mapping[str, CheckView]:
        return (await self._get(read_checks, fingerprint, fresh))[1]

    def _usable(self, value: _Built | None, fresh: bool) -> bool:
        if value is None or self._clock() - value[0] >= self._ttl:
            return False
        return not fresh or value[3] == self.mirror.changes

    async def _get(
        self, read_checks: ReadChecks, fingerprint: ReadFingerprint | None, fresh: bool
    ) -> tuple[tuple[CheckView, ...], Mapping[str, CheckView]]:
        value = self._value
        if value is not None and self._usable(value, fresh):
            return value[1], value[2]
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            value = self._value
            if value is not None and self._usable(value, fresh):
                return value[1], value[2]
            generation = self._generation
            changes, state_changes = self.mirror.changes, self.mirror.state_changes
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
                self._value = (began, views, index, changes, state_changes)
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
