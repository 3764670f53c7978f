"""The agent's side of notification delivery: committed outbox entries in, outcomes back out.

It implements the application's :class:`~nyxmon.service_layer.ports.Deliveries` port: only
entries a transaction committed reach the :class:`~nyxmon.notify.Deliverer`, and every outcome
goes back to the application as :class:`~nyxmon.service_layer.messages.RecordDeliveries`, to be
written with the next batch. Outcomes finished in one turn of the loop travel together. After a
crash, entries still pending are handed over again at start; the idempotency key lets receivers
drop the rare duplicate of a delivery whose outcome was not yet written when the process died.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Iterable, Sequence

from nyxmon.domain.alerting import Route
from nyxmon.notify import (
    Delivered,
    Deliverer,
    DeliveryOutcome,
    DeliveryStatistics,
    GaveUp,
    MessageRenderer,
    Provider,
    ProviderContext,
    RetryPolicy,
    build_providers,
)
from nyxmon.notify.delivery import SendGuard
from nyxmon.runtime import OffloadPool
from nyxmon.runtime.observe import EventSink
from nyxmon.service_layer.records.alerts import OutboxEntry, OutboxUpdate
from nyxmon.service_layer.storage import StoreReader

__all__ = ["Notifier", "Report", "outcome_update"]

log = logging.getLogger(__name__)

_PAGE = 1000

Report = Callable[[Sequence[OutboxUpdate]], object]
"""Takes delivery outcomes to be written (on the loop thread; must not block)."""


def outcome_update(entry: OutboxEntry, outcome: DeliveryOutcome) -> OutboxUpdate:
    """The outbox row change an attempt's outcome stands for."""
    if isinstance(outcome, Delivered):
        return OutboxUpdate(entry.id, "delivered", outcome.attempts, outcome.at, "", outcome.at)
    if isinstance(outcome, GaveUp):
        return OutboxUpdate(entry.id, "given_up", outcome.attempts, outcome.at, outcome.error)
    return OutboxUpdate(entry.id, "pending", outcome.attempts, outcome.at, outcome.error)


class Notifier:
    """Providers for the config's routes and a deliverer on the runtime loop."""

    def __init__(
        self,
        routes: Sequence[Route],
        *,
        public_url: str,
        recorder: EventSink | None = None,
        clock: Callable[[], float] = time.time,
        policy: RetryPolicy | None = None,
    ) -> None:
        self.pool = OffloadPool("notify", workers=4, queue_size=10_000, recorder=recorder)
        self._context = ProviderContext(pool=self.pool)
        self._providers: dict[str, Provider] = build_providers(routes, self._context)
        self._report: Report | None = None
        self._outcomes: list[OutboxUpdate] = []
        self.deliverer = Deliverer(
            self._providers,
            MessageRenderer(public_url),
            self._on_outcome,
            clock=clock,
            recorder=recorder,
            policy=policy,
        )

    # -- the Deliveries port (any thread) ---------------------------------------------------
    def deliver(self, entries: Sequence[OutboxEntry]) -> None:
        """Entries a commit just created (called on the dispatcher thread)."""
        self.deliverer.submit_threadsafe(entries)

    def resume_pending(self, store: StoreReader) -> int:
        """Hand over every entry still pending in the store (at start); returns how many."""
        after = 0
        total = 0
        while True:
            page = store.outbox(status="pending", after_id=after, limit=_PAGE)
            if not page:
                return total
            self.deliverer.submit_threadsafe(page)
            total += len(page)
            after = page[-1].id
            if len(page) < _PAGE:
                return total

    # -- the loop side ----------------------------------------------------------------------
    async def run(self, report: Report, guard: SendGuard | None = None) -> None:
        """Deliver until :meth:`stop`; every outcome goes to ``report``. With a ``guard``
        (several agents on one outbox), only what it lets this agent claim is sent."""
        self._report = report
        await self.deliverer.run(guard=guard)

    async def stop(self, grace: float = 5.0) -> None:
        await self.deliverer.stop(grace)
        self._send_outcomes()
        await self._close(self._providers.values())
        self.pool.shutdown(timeout=grace, drain=False)

    async def set_routes(self, routes: Sequence[Route]) -> None:
        """New routes after a config reload; the old providers are closed."""
        old, self._providers = self._providers, build_providers(routes, self._context)
        self.deliverer.set_providers(self._providers)
        await self._close(old.values())

    def statistics(self) -> DeliveryStatistics:
        return self.deliverer.statistics()

    # -- internals --------------------------------------------------------------------------
    def _on_outcome(self, entry: OutboxEntry, outcome: DeliveryOutcome) -> None:
        self._outcomes.append(outcome_update(entry, outcome))
        if len(self._outcomes) == 1:
            try:
                asyncio.get_running_loop().call_soon(self._send_outcomes)
            except RuntimeError:  # not on asyncio (tests on trio): send at once
                self._send_outcomes()

    def _send_outcomes(self) -> None:
        updates, self._outcomes = self._outcomes, []
        if not updates or self._report is None:
            return
        try:
            self._report(updates)
        except Exception:  # the dispatcher is stopping: the rows stay pending, resent next start
            log.warning("could not record the outcome of %d notifications", len(updates))

    @staticmethod
    async def _close(providers: Iterable[Provider]) -> None:
        for provider in providers:
            with contextlib.suppress(Exception):
                await provider.aclose()
