"""The agent's side of notification delivery: committed outbox rows in, outcomes back out.

Only rows a transaction has committed reach the :class:`~nyxmon.notify.Deliverer` (the store
writer hands them over after the commit), and every outcome goes back through the message bus
to be written in the next batch. After a crash, the rows still pending are handed over again
at start; the idempotency key lets receivers drop the rare duplicate of a delivery whose
outcome was not yet written when the process died.
"""

from __future__ import annotations

import contextlib
import json
import logging
import time
from collections.abc import Callable, Iterable, Sequence

from nyxmon.domain.alerting import Route
from nyxmon.notify import (
    Delivered,
    Deliverer,
    DeliveryStatistics,
    GaveUp,
    MessageRenderer,
    OutboxItem,
    Outcome,
    Provider,
    ProviderContext,
    RetryPolicy,
    build_providers,
    decode_payload,
)
from nyxmon.runtime import OffloadPool
from nyxmon.runtime.observe import EventSink
from nyxmon.service_layer.records.alerts import OutboxEntry as OutboxEntry
from nyxmon.service_layer.records.alerts import OutboxRow, OutboxUpdate
from nyxmon.service_layer.storage import Store

__all__ = ["Notifier", "outcome_update"]

log = logging.getLogger(__name__)

_PAGE = 1000


def outcome_update(item: OutboxItem, outcome: Outcome) -> OutboxUpdate:
    """The outbox row change an attempt's outcome stands for."""
    if isinstance(outcome, Delivered):
        return OutboxUpdate(item.id, "delivered", outcome.attempts, outcome.at, "", outcome.at)
    if isinstance(outcome, GaveUp):
        return OutboxUpdate(item.id, "given_up", outcome.attempts, outcome.at, outcome.error)
    return OutboxUpdate(item.id, "pending", outcome.attempts, outcome.at, outcome.error)


class Notifier:
    """Providers for the config's routes and a deliverer on the runtime loop."""

    def __init__(
        self,
        routes: Sequence[Route],
        *,
        public_url: str,
        record: Callable[[OutboxUpdate], object],
        recorder: EventSink | None = None,
        clock: Callable[[], float] = time.time,
        policy: RetryPolicy | None = None,
    ) -> None:
        self._record = record
        self.pool = OffloadPool("notify", workers=4, queue_size=10_000, recorder=recorder)
        self._context = ProviderContext(pool=self.pool)
        self._providers: dict[str, Provider] = build_providers(routes, self._context)
        self.deliverer = Deliverer(
            self._providers,
            MessageRenderer(public_url),
            self._on_outcome,
            clock=clock,
            recorder=recorder,
            policy=policy,
        )

    # -- feeding (any thread) -------------------------------------------------------------------
    def committed(self, created: list[tuple[int, OutboxRow]]) -> None:
        """Rows a commit just created (called on the dispatcher thread)."""
        items = [self._item(row_id, row) for row_id, row in created]
        self.deliverer.submit_threadsafe([item for item in items if item is not None])

    def resume_pending(self, store: Store) -> int:
        """Hand over every row still pending in the store (at start); returns how many."""
        after = 0
        total = 0
        while True:
            page = store.outbox(status="pending", after_id=after, limit=_PAGE)
            if not page:
                return total
            items = [self._stored_item(i) for i in page]
            self.deliverer.submit_threadsafe([i for i in items if i is not None])
            total += len(page)
            after = page[-1].id
            if len(page) < _PAGE:
                return total

    # -- the loop side --------------------------------------------------------------------------
    async def run(self) -> None:
        await self.deliverer.run()

    async def stop(self, grace: float = 5.0) -> None:
        await self.deliverer.stop(grace)
        await self._close(self._providers.values())
        self.pool.shutdown(timeout=grace, drain=False)

    async def set_routes(self, routes: Sequence[Route]) -> None:
        """New routes after a config reload; the old providers are closed."""
        old, self._providers = self._providers, build_providers(routes, self._context)
        self.deliverer.set_providers(self._providers)
        await self._close(old.values())

    def statistics(self) -> DeliveryStatistics:
        return self.deliverer.statistics()

    # -- internals ------------------------------------------------------------------------------
    def _on_outcome(self, item: OutboxItem, outcome: Outcome) -> None:
        try:
            self._record(outcome_update(item, outcome))
        except Exception:  # the dispatcher is stopping: the row stays pending, resent next start
            log.warning("could not record the outcome of notification %s", item.key)

    @staticmethod
    def _item(row_id: int, row: OutboxRow) -> OutboxItem | None:
        try:
            notice, check = decode_payload(json.dumps(row.payload))
        except ValueError as exc:
            log.error("outbox row %d (%s) is unreadable: %s", row_id, row.key, exc)
            return None
        return OutboxItem(
            row_id, row.key, row.route, notice, check, row.created_at, 0, row.next_attempt_at
        )

    @staticmethod
    def _stored_item(stored: OutboxEntry) -> OutboxItem | None:
        try:
            notice, check = decode_payload(json.dumps(dict(stored.payload)))
        except ValueError as exc:
            log.error("outbox row %d (%s) is unreadable: %s", stored.id, stored.key, exc)
            return None
        return OutboxItem(
            stored.id,
            stored.key,
            stored.route,
            notice,
            check,
            stored.created_at,
            stored.attempts,
            stored.next_attempt_at,
        )

    @staticmethod
    async def _close(providers: Iterable[Provider]) -> None:
        for provider in providers:
            with contextlib.suppress(Exception):
                await provider.aclose()
