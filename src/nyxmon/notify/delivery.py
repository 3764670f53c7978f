"""The delivery engine: sends outbox items through providers, retries, reports outcomes.

The agent hands it outbox entries once they are committed (:meth:`Deliverer.submit`) and persists
what it reports through ``on_outcome``: :class:`~nyxmon.notify.records.Delivered`,
:class:`~nyxmon.notify.records.RetryAt` or :class:`~nyxmon.notify.records.GaveUp`. Delivery is
at-least-once: an item leaves the engine only with a final outcome, and the receiver drops
duplicates by the item's idempotency key.

Items of one check for one route form a *lane* and leave in id order: item n+1 is not sent
before item n is delivered or given up, so a receiver never hears "recovered" before "down".
Lanes run concurrently; each route has its own concurrency limit, so a slow or dead receiver
holds up its own route only. Everything runs on one event loop (the runtime's); the clock and
the random source are injected so tests run on virtual time.
"""

from __future__ import annotations

import bisect
import contextlib
import logging
import random
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Protocol

import anyio
import anyio.abc

from nyxmon.domain.durations import human_duration
from nyxmon.metrics.events import SetGauge
from nyxmon.notify.backoff import RetryPolicy
from nyxmon.notify.base import Provider
from nyxmon.notify.records import (
    Delivered,
    Delivery,
    DeliveryOutcome,
    GaveUp,
    RetryAt,
    redacted,
)
from nyxmon.notify.telemetry import PENDING_METRIC, NotificationAttempt, NotificationDelivered
from nyxmon.notify.templates import MessageRenderer, format_time
from nyxmon.runtime import thread_safe_waker
from nyxmon.runtime.observe import EventSink, emit
from nyxmon.service_layer.records.alerts import OutboxEntry

__all__ = ["Deliverer", "DeliveryStatistics", "OutcomeCallback", "SendGuard"]

log = logging.getLogger(__name__)

OutcomeCallback = Callable[[OutboxEntry, DeliveryOutcome], None]


class SendGuard(Protocol):
    """Who may send an item, when several agents share one outbox: an item is sent only by
    the agent that claimed it (:meth:`claim`, before every attempt), and a delivery is marked
    at once (:meth:`delivered`) so that no other agent sends it again."""

    async def claim(self, item: OutboxEntry) -> bool:
        """Whether this agent may attempt ``item`` now; raises if it cannot tell (the
        database is away), and the attempt waits."""
        ...

    async def delivered(self, item: OutboxEntry, outcome: Delivered) -> None: ...


LaneKey = tuple[str, str]  # (check id, route name)


@dataclass(frozen=True, slots=True)
class DeliveryStatistics:
    """A snapshot of a deliverer: items held, lanes, attempts running, outcomes so far."""

    pending: int
    lanes: int
    in_flight: int
    delivered: int
    retried: int
    gave_up: int
    #: Items another agent claimed first (several agents on one outbox); it sends them.
    left_to_others: int = 0


@dataclass(eq=False)
class _Lane:
    key: LaneKey
    items: list[OutboxEntry] = field(default_factory=list)
    busy: bool = False  # the head is being sent
    running: bool = False  # a task serves this lane
    sleep_scope: anyio.CancelScope | None = None

    def insert(self, item: OutboxEntry) -> None:
        at = bisect.bisect([i.id for i in self.items], item.id)
        if self.busy and at == 0:
            at = 1  # never displace the item being sent
        self.items.insert(at, item)

    def position(self, item_id: int) -> int:
        return next(n for n, held in enumerate(self.items) if held.id == item_id)


class Deliverer:
    """Sends :class:`OutboxEntry` records through ``providers`` (by route name).

    Run :meth:`run` as a task on the loop; call :meth:`submit` on that loop, or
    :meth:`submit_threadsafe` from any thread. ``on_outcome(item, outcome)`` is called on the
    loop for every attempt's outcome; it must not block (post the write to the store's writer).
    """

    def __init__(
        self,
        providers: Mapping[str, Provider],
        renderer: MessageRenderer,
        on_outcome: OutcomeCallback,
        *,
        clock: Callable[[], float] = time.time,
        rng: random.Random | None = None,
        policy: RetryPolicy | None = None,
        per_route: int = 4,
        attempt_timeout: float = 60.0,
        recorder: EventSink | None = None,
    ) -> None:
        if per_route < 1:
            raise ValueError(f"per_route must be >= 1, got {per_route}")
        if attempt_timeout <= 0:
            raise ValueError(f"attempt_timeout must be > 0, got {attempt_timeout}")
        self._providers = dict(providers)
        self._renderer = renderer
        self._on_outcome = on_outcome
        self._clock = clock
        self._rng = rng or random.Random()
        self._policy = policy or RetryPolicy()
        self._per_route = per_route
        self._attempt_timeout = attempt_timeout
        self._recorder = recorder
        self._lanes: dict[LaneKey, _Lane] = {}
        self._held: set[int] = set()
        self._monotonic_due: dict[int, float] = {}  # outbox id -> when it may be tried
        self._limiters: dict[str, anyio.CapacityLimiter] = {}
        self._inbox: deque[list[OutboxEntry]] = deque()
        self._waker: Callable[[Callable[[], object]], object] | None = None
        self._idle_lanes: deque[_Lane] = deque()  # lanes with items and no task serving them
        self._wake: anyio.Event | None = None
        self._idle: anyio.Event | None = None
        self._drained: anyio.Event | None = None
        self._stop_requested = False
        self._closing = False
        self._in_flight = 0
        self._counts = {"delivered": 0, "retried": 0, "gave_up": 0, "left_to_others": 0}
        self._guard: SendGuard | None = None

    # -- feeding ----------------------------------------------------------------------------------
    def submit(self, items: Iterable[OutboxEntry]) -> int:
        """Take ``items`` (on the loop's thread, from a task or a plain callback); returns how
        many were new.

        Items already held (same id) are ignored, so the agent may resubmit everything pending
        after a restart or on a periodic scan of the outbox.
        """
        added = 0
        for item in items:
            if item.id in self._held:
                continue
            self._held.add(item.id)
            key = (item.check_id, item.route)
            lane = self._lanes.get(key)
            if lane is None:
                lane = self._lanes[key] = _Lane(key)
            lane.insert(item)
            added += 1
            if not lane.running:
                self._idle_lanes.append(lane)
        if added:
            self._report_pending()
            self._poke()
        return added

    def submit_threadsafe(self, items: Iterable[OutboxEntry]) -> None:
        """Hand ``items`` over from any thread; they are taken on the loop soon after."""
        self._inbox.append(list(items))
        waker = self._waker
        if waker is not None:
            # A closed loop raises; run() drains the inbox when it starts again.
            with contextlib.suppress(RuntimeError):
                waker(self._poke)

    def set_providers(self, providers: Mapping[str, Provider]) -> None:
        """Use new providers from now on (config reload); held items of vanished routes are
        given up when their turn comes."""
        self._providers = dict(providers)

    # -- running ----------------------------------------------------------------------------------
    async def run(
        self,
        *,
        guard: SendGuard | None = None,
        task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED,
    ) -> None:
        """Deliver until :meth:`stop` (then returns) or cancellation; with a ``guard``, only
        the items it lets this agent claim (the others are another agent's to send).

        This task starts the lanes' tasks: ``submit`` may be called from plain loop callbacks,
        which cannot start tasks themselves, so it only wakes this one.
        """
        self._guard = guard
        self._closing = False
        self._stop_requested = False
        self._waker = thread_safe_waker()
        self._idle_lanes.extend(self._lanes.values())
        try:
            async with anyio.create_task_group() as tg:
                task_status.started()
                while not self._stop_requested:
                    self._wake = anyio.Event()
                    while self._inbox:
                        self.submit(self._inbox.popleft())
                    while self._idle_lanes:
                        self._start(tg, self._idle_lanes.popleft())
                    await self._wake.wait()
                tg.cancel_scope.cancel()
        finally:
            self._wake = None
            self._waker = None
            for lane in self._lanes.values():
                lane.running = False
                lane.busy = False

    async def stop(self, grace: float = 5.0) -> None:
        """Start no new attempts, let running ones finish for up to ``grace`` seconds, then
        make :meth:`run` return. Held items stay held (a later :meth:`run` resumes them); the
        outbox has them anyway."""
        self._closing = True
        for lane in self._lanes.values():
            if lane.sleep_scope is not None:
                lane.sleep_scope.cancel()
        if self._in_flight:
            self._drained = anyio.Event()
            with anyio.move_on_after(grace):
                await self._drained.wait()
        self._stop_requested = True
        self._poke()

    async def wait_idle(self) -> None:
        """Wait until no item is held or handed over (every one delivered or given up)."""
        while self._held or self._inbox:
            if self._idle is None:
                self._idle = anyio.Event()
            await self._idle.wait()

    def statistics(self) -> DeliveryStatistics:
        return DeliveryStatistics(
            pending=len(self._held),
            lanes=len(self._lanes),
            in_flight=self._in_flight,
            **self._counts,
        )

    # -- lanes ------------------------------------------------------------------------------------
    def _poke(self) -> None:
        if self._wake is not None:
            self._wake.set()

    def _start(self, tg: anyio.abc.TaskGroup, lane: _Lane) -> None:
        if lane.running or self._closing or not lane.items:
            return
        lane.running = True
        tg.start_soon(self._serve, lane, name=f"notify lane {lane.key[0]} -> {lane.key[1]}")

    async def _serve(self, lane: _Lane) -> None:
        try:
            while lane.items and not self._closing:
                item = lane.items[0]
                wait = self._due(item) - anyio.current_time()
                if wait > 0:
                    with anyio.CancelScope() as scope:
                        lane.sleep_scope = scope
                        await anyio.sleep(wait)
                    lane.sleep_scope = None
                    continue
                if self._guard is not None and not await self._claimed(lane, item):
                    continue
                lane.busy = True  # from here on the head stays the head
                try:
                    async with self._limiter(item.route):
                        if self._stopping():  # stop() came while we waited for room
                            break
                        self._in_flight += 1
                        try:
                            outcome = await self._attempt(item)
                        finally:
                            self._in_flight -= 1
                            if not self._in_flight and self._drained is not None:
                                self._drained.set()
                finally:
                    lane.busy = False
                if self._guard is not None and isinstance(outcome, Delivered):
                    try:
                        await self._guard.delivered(item, outcome)
                    except Exception as exc:  # the batched outcome write still follows
                        log.warning("marking %s delivered failed: %s", item.key, exc)
                self._settle(lane, item, outcome)
        finally:
            lane.running = False
            lane.sleep_scope = None
            if not lane.items and self._lanes.get(lane.key) is lane:
                del self._lanes[lane.key]

    async def _claimed(self, lane: _Lane, item: OutboxEntry) -> bool:
        """Whether the guard lets this agent send ``item`` now. An item another agent holds
        leaves this deliverer without an outcome (that agent reports it); when the guard
        cannot tell, the item waits a second and asks again."""
        assert self._guard is not None
        try:
            if await self._guard.claim(item):
                return True
        except Exception as exc:
            log.warning("cannot claim notification %s now (%s); asking again", item.key, exc)
            self._monotonic_due[item.id] = anyio.current_time() + 1.0
            return False
        self._counts["left_to_others"] += 1
        del lane.items[lane.position(item.id)]
        self._held.discard(item.id)
        self._monotonic_due.pop(item.id, None)
        self._report_pending()
        if not self._held and self._idle is not None:
            self._idle.set()
            self._idle = None
        return False

    def _due(self, item: OutboxEntry) -> float:
        """When ``item`` may be tried, on the loop's monotonic clock.

        ``next_attempt_at`` is wall-clock time (it is stored and shown); waiting for it on the
        wall clock would make a retry wait hours after the clock is set back by hours, so the
        wait is turned into a monotonic deadline once, when the item first comes up.
        """
        due = self._monotonic_due.get(item.id)
        if due is None:
            delay = max(0.0, item.next_attempt_at - self._clock())
            due = self._monotonic_due[item.id] = anyio.current_time() + delay
        return due

    def _stopping(self) -> bool:
        return self._closing

    def _limiter(self, route: str) -> anyio.CapacityLimiter:
        limiter = self._limiters.get(route)
        if limiter is None:
            limiter = self._limiters[route] = anyio.CapacityLimiter(self._per_route)
        return limiter

    async def _attempt(self, item: OutboxEntry) -> DeliveryOutcome:
        provider = self._providers.get(item.route)
        if provider is None:
            known = ", ".join(sorted(self._providers)) or "none"
            return GaveUp(
                self._clock(),
                item.attempts,
                f"route {item.route!r} is not configured (known routes: {known})",
            )
        message = self._renderer.render(item.notice, item.check, provider.route, item.key)
        attempts = item.attempts + 1
        started = self._clock()
        delivery = Delivery.failed("not sent", retryable=True)
        with anyio.move_on_after(self._attempt_timeout) as scope:
            try:
                delivery = await provider.send(message)
            except Exception as exc:  # a provider bug must not stop delivery of anything else
                log.exception("provider of route %r raised for %s", item.route, item.key)
                delivery = Delivery.failed(
                    f"provider raised {type(exc).__name__}: {exc}", retryable=True
                )
        if scope.cancelled_caught:
            delivery = Delivery.failed(
                f"no answer within {self._attempt_timeout:g} s", retryable=True
            )
        delivery = redacted(delivery)
        now = self._clock()
        outcome = self._judge(item, attempts, delivery, now)
        label = (
            "delivered"
            if isinstance(outcome, Delivered)
            else ("retry" if isinstance(outcome, RetryAt) else "gave_up")
        )
        if self._recorder is not None:
            emit(self._recorder, NotificationAttempt(item.route, label, max(0.0, now - started)))
            if isinstance(outcome, Delivered):
                emit(
                    self._recorder,
                    NotificationDelivered(item.route, max(0.0, now - item.created_at)),
                )
        return outcome

    def _judge(
        self, item: OutboxEntry, attempts: int, delivery: Delivery, now: float
    ) -> DeliveryOutcome:
        where = f"notification {item.key} (check {item.check_id}) to route {item.route!r}"
        if delivery.ok:
            log.info("%s delivered on attempt %d: %s", where, attempts, delivery.answer)
            return Delivered(now, attempts, delivery.answer)
        error = delivery.error or delivery.answer or "failed"
        if not delivery.retryable:
            log.error("%s failed permanently on attempt %d: %s", where, attempts, error)
            return GaveUp(now, attempts, error)
        at = self._policy.next_attempt(
            attempts=attempts,
            created_at=item.created_at,
            now=now,
            rng=self._rng,
            retry_after=delivery.retry_after,
        )
        if at is None:
            age = human_duration(now - item.created_at)
            log.error("%s: giving up after %d attempts over %s: %s", where, attempts, age, error)
            return GaveUp(now, attempts, f"gave up after {attempts} attempts over {age}: {error}")
        log.warning(
            "%s failed (attempt %d): %s; next attempt at %s",
            where,
            attempts,
            error,
            format_time(at),
        )
        return RetryAt(at, attempts, error)

    def _settle(self, lane: _Lane, item: OutboxEntry, outcome: DeliveryOutcome) -> None:
        at = lane.position(item.id)
        if isinstance(outcome, RetryAt):
            self._counts["retried"] += 1
            lane.items[at] = replace(item, attempts=outcome.attempts, next_attempt_at=outcome.at)
            delay = max(0.0, outcome.at - self._clock())
            self._monotonic_due[item.id] = anyio.current_time() + delay
        else:
            self._counts["delivered" if isinstance(outcome, Delivered) else "gave_up"] += 1
            del lane.items[at]
            self._held.discard(item.id)
            self._monotonic_due.pop(item.id, None)
            self._report_pending()
        try:
            self._on_outcome(item, outcome)
        except Exception:
            log.exception("on_outcome failed for notification %s (outbox id %s)", item.key, item.id)
        if not self._held and self._idle is not None:
            self._idle.set()
            self._idle = None

    def _report_pending(self) -> None:
        if self._recorder is not None:
            emit(self._recorder, SetGauge(PENDING_METRIC, float(len(self._held))))
