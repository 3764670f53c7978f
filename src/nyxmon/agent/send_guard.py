"""The notifier's :class:`~nyxmon.notify.delivery.SendGuard` over the store's notice claims.

Several agents share one outbox: an attempt is made only by the agent whose compare-and-set
claim on the row won (:class:`~nyxmon.service_layer.storage.NoticeClaims`), and a delivery is
marked on the row at once. The claims are blocking database calls: they run on a worker
thread, never on the loop.
"""

from __future__ import annotations

import anyio.to_thread

from nyxmon.notify.records import Delivered
from nyxmon.service_layer.records.alerts import OutboxEntry
from nyxmon.service_layer.storage import NoticeClaims

__all__ = ["ClaimedSends"]


class ClaimedSends:
    def __init__(self, claims: NoticeClaims) -> None:
        self._claims = claims

    async def claim(self, item: OutboxEntry) -> bool:
        return await anyio.to_thread.run_sync(self._claims.claim, item.id)

    async def delivered(self, item: OutboxEntry, outcome: Delivered) -> None:
        await anyio.to_thread.run_sync(
            self._claims.delivered, item.id, outcome.attempts, outcome.at
        )
