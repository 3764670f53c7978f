"""Noticing checks added, changed or removed anywhere, so open pages follow them live.

Checks change through the API and the forms, but also through the CLI (another process, no
status feed) and config reloads, and a removed check publishes no status at all. So the web
plane watches the one thing every such change touches: the store's cheap checks fingerprint
(one small query), read every ``period`` seconds while a browser listens to the event stream.
On a change it drops the shared live view (the next listing reads the checks again) and
announces it to every stream (:meth:`nyxmon.web.events.StatusHub.catalog_changed`).

The last fingerprint is kept while nobody listens, so a change made meanwhile is announced
as soon as someone does.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

import anyio

__all__ = ["CatalogWatch"]

log = logging.getLogger(__name__)


class CatalogWatch:
    """Runs as one task of the web app's lifespan; :meth:`run` returns only when cancelled."""

    def __init__(
        self,
        read_fingerprint: Callable[[], Awaitable[object]],
        changed: Callable[[], None],
        *,
        listening: Callable[[], bool],
        period: float = 1.0,
    ) -> None:
        self._read = read_fingerprint
        self._changed = changed
        self._listening = listening
        self._period = period
        self.reads = 0
        self.changes = 0

    async def run(self) -> None:
        last = await self._fingerprint()
        while True:
            await anyio.sleep(self._period)
            if not self._listening():
                continue
            mark = await self._fingerprint()
            if mark is None:
                continue
            if last is not None and mark != last:
                self.changes += 1
                self._changed()
            last = mark

    async def _fingerprint(self) -> object | None:
        """The fingerprint, or None when the store could not answer (tried again next time:
        a busy or closing store must not end the watch)."""
        try:
            mark = await self._read()
        except Exception:
            log.warning("reading the checks fingerprint failed; trying again", exc_info=True)
            return None
        self.reads += 1
        return mark
