"""Notices checks changed by another process (the CLI, another agent) and reloads them.

The database is the source of truth: ``nyxmon check add`` writes to it from its own process, and
the running agent picks the change up within ``period`` seconds. A cheap fingerprint query is
read every period; the full check list only when the fingerprint moved.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import anyio
import anyio.to_thread

from nyxmon.domain.model import Check

__all__ = ["CheckWatcher"]

log = logging.getLogger(__name__)


class CheckWatcher:
    def __init__(
        self,
        fingerprint: Callable[[], object],
        load: Callable[[], tuple[Check, ...]],
        on_change: Callable[[tuple[Check, ...]], None],
        *,
        period: float = 2.0,
    ) -> None:
        self._fingerprint = fingerprint
        self._load = load
        self._on_change = on_change
        self._period = period
        self._last: object = None
        self.reloads = 0
        self.failures = 0

    def prime(self, fingerprint: object) -> None:
        """Remember the state the agent already runs, so the first poll does not reload it."""
        self._last = fingerprint

    async def run(self) -> None:
        while True:
            await anyio.sleep(self._period)
            await self.poll()

    async def poll(self) -> bool:
        """Reload if the checks changed; return whether they did."""
        try:
            current = await anyio.to_thread.run_sync(self._fingerprint)
            if current == self._last:
                return False
            checks = await anyio.to_thread.run_sync(self._load)
        except Exception:
            self.failures += 1
            log.exception("reading the checks from the store failed; trying again")
            return False
        self._last = current
        self.reloads += 1
        self._on_change(checks)
        return True
