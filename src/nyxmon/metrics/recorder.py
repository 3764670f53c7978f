"""Recorder: production code hands events over with one cheap call; a loop processes them.

``register_event`` appends to a deque (atomic under the GIL), checks the length against the
bound and wakes the owning loop only when no drain is already scheduled, so a burst of events
costs one cross-thread wake-up. The drain runs on the loop in batches, routes each event by
type to the handlers bound to it, and isolates failing handlers. Snapshots and stopping, which
callers on any thread ask of the loop with a timeout, live in :mod:`._readout`.

The lock-free fast path relies on CPython's GIL: ``deque.append``/``popleft`` are atomic and
plain attribute reads and writes are seen in program order. A free-threaded build would need
an atomic flag here.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar

from . import _readout
from ._routing import Entries, Routes, check_route, compile_routes
from .errors import DuplicateMetricError, MetricsOverflowError, MetricsStateError
from .metric import Handler, Metric
from .policies import OverflowPolicy, RecorderState, parse_policy
from .snapshots import RecorderSnapshot
from .timer import Timer

__all__ = [
    "DEFAULT_BATCH_SIZE",
    "DEFAULT_QUEUE_MAX_SIZE",
    "OverflowPolicy",
    "Recorder",
    "RecorderState",
]

log = logging.getLogger(__name__)

M = TypeVar("M", bound=Metric)

DEFAULT_QUEUE_MAX_SIZE = 65_536
DEFAULT_BATCH_SIZE = 4096
_TICK_EVERY = 1.0  # seconds between rate ticks while events flow
_SLICE = 0.01  # seconds a drain may hold the loop before yielding to other callbacks
_CHUNK = 256  # events between two looks at the clock, at most
_FIRST_CHUNK = 16  # the first chunk of a drain, before the events' cost is known


class Recorder:
    """Owns metrics, accepts events from any thread, processes them on its owning asyncio loop.

    Direct use (no :class:`~nyxmon.metrics.MetricsRuntime`): create it inside a running loop (or
    pass ``loop=``), call :meth:`start`, and :meth:`stop` it before the loop closes. Events
    registered before :meth:`start` wait in the queue (bounded by ``queue_max_size``).
    """

    __slots__ = (
        "__weakref__",
        "_batch_size",
        "_clock",
        "_ctx",
        "_drops",
        "_entries",
        "_last",
        "_last_drain",
        "_limit",
        "_linger",
        "_lock",
        "_loop",
        "_metrics",
        "_next_tick",
        "_owners",
        "_policy",
        "_processed",
        "_queue",
        "_queue_max_size",
        "_routes",
        "_scheduled",
        "_state",
        "_tickers",
        "_unrouted",
        "_wake",
        "_wake_now",
        "entity_id",
        "namespace",
        "recorder_id",
    )

    def __init__(
        self,
        recorder_id: str,
        *,
        entity_id: str | None = None,
        namespace: str = "nyxmon",
        queue_max_size: int = DEFAULT_QUEUE_MAX_SIZE,
        overflow_policy: OverflowPolicy | str = OverflowPolicy.DROP_NEWEST,
        batch_size: int = DEFAULT_BATCH_SIZE,
        clock: Callable[[], float] = time.monotonic,
        loop: asyncio.AbstractEventLoop | None = None,
        linger: float = 0.0,
    ) -> None:
        if not isinstance(recorder_id, str) or not recorder_id.strip():
            raise ValueError(f"recorder_id must be a non-empty string, got {recorder_id!r}")
        if isinstance(queue_max_size, bool) or not isinstance(queue_max_size, int):
            raise TypeError(f"queue_max_size must be an int, got {queue_max_size!r}")
        if not 0.0 <= linger <= 1.0:
            raise ValueError(f"recorder {recorder_id!r}: linger must be in [0, 1] s, got {linger}")
        if queue_max_size < 1 or batch_size < 1:
            raise ValueError(
                f"recorder {recorder_id!r}: queue_max_size and batch_size must be >= 1, "
                f"got {queue_max_size} and {batch_size}"
            )
        self.recorder_id = recorder_id
        self.entity_id = entity_id or recorder_id
        self.namespace = namespace
        self._policy = parse_policy(recorder_id, overflow_policy)
        if loop is None:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                raise MetricsStateError(
                    f"recorder {recorder_id!r} needs a running asyncio loop: create it inside "
                    "async code, pass loop=, or use MetricsRuntime.create_recorder()"
                ) from None
        self._loop = loop
        # Callbacks run in one fixed, empty context: no per-wake copy of the caller's context,
        # and nothing of a producer's context (a trio caller's markers) leaks into the loop.
        self._ctx = contextvars.Context()
        self._wake_now = partial(loop.call_soon_threadsafe, self._drain, context=self._ctx)
        # With ``linger``, a producer's wake-up that comes less than ``linger`` after the last
        # drain waits for the rest of it: a steady trickle of events (one per probe, say) then
        # costs one loop wake-up per ``linger`` instead of one per event. Overflow and lifecycle
        # wake-ups never linger.
        self._linger = linger
        self._last_drain = 0.0
        self._wake = (
            partial(loop.call_soon_threadsafe, self._drain_lingering, context=self._ctx)
            if linger
            else self._wake_now
        )
        self._queue: deque[Any] = deque()
        self._queue_max_size = queue_max_size
        self._limit = queue_max_size  # -1 once stopping: every call takes the counted slow path
        self._scheduled = True  # no wake-ups before start(); see _drain for the protocol
        self._batch_size = batch_size
        self._clock = clock
        self._lock = threading.Lock()  # slow paths only: overflow, lifecycle, registration
        self._state = RecorderState.NEW
        self._entries: Entries = {}
        self._routes: Routes = {}
        self._owners: dict[Handler, Metric] = {}
        self._metrics: dict[str, Metric] = {}
        self._tickers: tuple[Metric, ...] = ()
        self._next_tick = 0.0
        self._processed = 0
        self._unrouted = 0
        self._drops = dict.fromkeys(("drop_newest", "drop_oldest", "raise", "stopped"), 0)
        self._last: RecorderSnapshot | None = None

    # -- producer side (any thread) -------------------------------------------------------------
    def register_event(self, event: object) -> None:
        """Hand ``event`` to the recorder: O(1), never blocks, no lock unless the queue is full.

        Past ``queue_max_size`` waiting events the overflow policy applies (every refusal is
        counted); after :meth:`stop` events are refused and counted as ``stopped``.
        """
        queue = self._queue
        if len(queue) >= self._limit:
            self._overflow(event)
            return
        queue.append(event)
        if not self._scheduled:
            self._scheduled = True
            try:
                self._wake()
            except RuntimeError:  # the loop is closed: nobody will ever drain this queue
                self._abandon()

    def timer(self, metric: str, labels: tuple[str, ...] = ()) -> Timer:
        """A context manager / decorator that registers ``Observe(metric, seconds, labels)``."""
        return Timer(self.register_event, metric, labels)

    def _overflow(self, event: object) -> None:
        wake = False
        with self._lock:
            queue = self._queue
            if self._limit < 0:
                self._drops["stopped"] += 1
                return
            if len(queue) < self._limit:  # the drain made room since the unlocked check
                queue.append(event)
            elif self._policy is OverflowPolicy.DROP_NEWEST:
                self._drops["drop_newest"] += 1
                return
            elif self._policy is OverflowPolicy.DROP_OLDEST:
                try:
                    queue.popleft()
                except IndexError:  # the drain emptied it meanwhile: nothing to evict
                    pass
                else:
                    self._drops["drop_oldest"] += 1
                queue.append(event)
            else:
                self._drops["raise"] += 1
                raise MetricsOverflowError(self.recorder_id, self._queue_max_size)
            if not self._scheduled:
                self._scheduled = wake = True
        if wake:
            try:
                self._wake_now()
            except RuntimeError:
                self._abandon()

    # -- metrics --------------------------------------------------------------------------------
    def register_metric(self, metric: M) -> M:
        """Add ``metric``; safe from any thread, effective for every event registered afterwards.

        Routing tables are copied on write and swapped in one assignment, and the drain reads
        them per event, so no lock is taken while processing.
        """
        if not isinstance(metric, Metric):
            raise TypeError(f"register_metric() takes a Metric, got {metric!r}")
        routes = dict(metric.routes())
        for key in routes:
            check_route(metric, key)
        with self._lock:
            if self._state in (RecorderState.STOPPING, RecorderState.STOPPED):
                raise MetricsStateError(
                    f"recorder {self.recorder_id!r} is {self._state}; it takes no new metrics"
                )
            if metric.name in self._metrics:
                raise DuplicateMetricError(self.recorder_id, metric.name)
            if metric.ticks:
                metric.tick(self._clock())
            entries = dict(self._entries)
            for key, handler in routes.items():
                entries[key] = (*entries.get(key, ()), (metric, handler))
            self._metrics = {**self._metrics, metric.name: metric}
            if metric.ticks:
                self._tickers = (*self._tickers, metric)
            self._entries = entries
            self._owners, self._routes = compile_routes(entries, self._failed)
        return metric

    def metric_names(self) -> tuple[str, ...]:
        return tuple(self._metrics)

    # -- lifecycle ------------------------------------------------------------------------------
    @property
    def state(self) -> RecorderState:
        return self._state

    @property
    def pending(self) -> int:
        """Events waiting in the queue right now (any thread; no trip to the loop)."""
        return len(self._queue)

    @property
    def processed(self) -> int:
        """Events taken off the queue so far (any thread; no trip to the loop)."""
        return self._processed

    def start(self) -> Recorder:
        """Start processing (events queued so far are processed first); safe from any thread."""
        with self._lock:
            if self._state is RecorderState.RUNNING:
                return self
            if self._state is RecorderState.STOPPING:
                raise MetricsStateError(f"recorder {self.recorder_id!r} is stopping")
            self._state = RecorderState.RUNNING
            self._limit = self._queue_max_size
            self._scheduled = True
        try:
            self._wake_now()
        except RuntimeError:
            self._abandon()
            raise MetricsStateError(
                f"recorder {self.recorder_id!r}: its event loop is closed"
            ) from None
        return self

    def stop(self, timeout: float = 5.0) -> RecorderSnapshot:
        """Stop: process what is queued (for up to ``timeout`` s, the rest is counted as dropped)
        and return the final snapshot. Later events are refused and counted as ``stopped``.

        Raises ``TimeoutError`` if the owning loop does not get to it within ``timeout``
        (it stays ``stopping`` and finishes when the loop does).
        """
        return _readout.stop(self, timeout)

    async def stop_async(self, timeout: float = 5.0) -> RecorderSnapshot:  # noqa: ASYNC109
        """:meth:`stop` for async callers on any loop: waits without blocking that loop."""
        return await _readout.stop_async(self, timeout)

    # -- snapshots ------------------------------------------------------------------------------
    def get_metric_snapshots(self, timeout: float = 5.0) -> RecorderSnapshot:
        """Every metric's state, including every event registered before this call.

        Runs on the owning loop; from another thread it waits at most ``timeout`` seconds and
        then returns the last published snapshot marked ``stale``. Never blocks forever.
        """
        return _readout.snapshot(self, timeout)

    async def snapshots_async(self, timeout: float = 5.0) -> RecorderSnapshot:  # noqa: ASYNC109
        """:meth:`get_metric_snapshots` for async callers on any loop (asyncio, uvloop, trio)."""
        return await _readout.snapshot_async(self, timeout)

    # -- loop side ------------------------------------------------------------------------------
    def _drain_lingering(self) -> None:
        wait = self._last_drain + self._linger - time.monotonic()
        if wait > 0:
            # The flag stays set, so no producer schedules another wake-up meanwhile, and this
            # deferred drain is the "drain to come" of the protocol below for all of them.
            self._loop.call_later(wait, self._drain, context=self._ctx)
            return
        self._drain()

    def _drain(self) -> None:
        # The wake-up protocol. Producers append, THEN read the flag (and schedule a drain only
        # when it is clear, setting it first); this drain clears the flag, THEN pops.
        # Suppose a producer appends event E and then reads the flag as set. The last write
        # before that read was a set by some producer P (a clear would have been read as clear),
        # and P schedules a drain after its set. That drain's clear comes after P's set with no
        # write in between, so after our read, and it pops after its clear: it finds E (or E was
        # popped earlier). If the producer reads the flag as clear, it schedules a drain itself.
        # So every event has a drain to come; redundant drains just find an empty queue. A drain
        # that stops early (batch_size events, or its time slice: slow metrics must not hold up
        # snapshots, stops and other recorders) re-arms the flag and reschedules itself.
        self._scheduled = False
        if self._state is RecorderState.STOPPED:
            self._discard_stragglers()
            return
        queue = self._queue
        self._run_for(self._batch_size, time.monotonic() + _SLICE)
        if self._tickers:
            self._tick()
        self._last_drain = time.monotonic()
        if queue and not self._scheduled:
            self._scheduled = True
            self._loop.call_soon(self._drain, context=self._ctx)

    def _run_for(self, limit: int, until: float) -> None:
        """Process up to ``limit`` events in chunks, stopping early once ``until`` has passed.

        Chunks start small and grow only as far as the events' measured cost lets them end
        within the slice: with a slow metric a fixed chunk of 256 held the loop for a quarter
        of a second per millisecond of handler, and a stop or snapshot waited that long.
        """
        queue = self._queue
        chunk = _FIRST_CHUNK
        while queue and limit > 0:
            n = min(len(queue), limit, chunk)
            began = time.monotonic()
            self._process(n)
            limit -= n
            now = time.monotonic()
            if now >= until:
                return
            per_event = (now - began) / n
            fits = int((until - now) / per_event) if per_event > 0 else _CHUNK
            chunk = max(1, min(_CHUNK, fits))

    def _process(self, n: int) -> None:
        popleft = self._queue.popleft
        unrouted = 0
        done = n
        for i in range(n):
            try:
                event = popleft()
            except IndexError:  # drop_oldest producers evicted some meanwhile
                done = i
                break
            handler: Any = self._routes.get(type(event))  # re-read: registration swaps it
            if handler is None:
                unrouted += 1
                continue
            if type(handler) is dict:
                handler = handler.get(event[0])
                if handler is None:
                    unrouted += 1
                    continue
            try:
                handler(event)
            except Exception as exc:
                self._failed(self._owners[handler], exc)
        self._processed += done
        self._unrouted += unrouted

    def _tick(self) -> None:
        """Let rate metrics take their reading, at most every ``_TICK_EVERY`` seconds (once
        per drain, after its events: a reading never sees half of what a drain took)."""
        now = self._clock()
        if now >= self._next_tick:
            self._next_tick = now + _TICK_EVERY
            for metric in self._tickers:
                try:
                    metric.tick(now)
                except Exception as exc:
                    self._failed(metric, exc)

    def _failed(self, metric: Metric, exc: Exception) -> None:
        metric.errors += 1
        metric.last_error = f"{type(exc).__name__}: {exc}"
        if metric.errors == 1:
            log.error(
                "recorder %r: metric %r failed (%s); its later failures are only counted",
                self.recorder_id,
                metric.name,
                metric.last_error,
                exc_info=exc,
            )

    # -- stopping: the transitions; _readout decides where they run and how long callers wait --
    def _begin_stop(self) -> bool:
        """Refuse new events; whether a loop-side finish is still needed."""
        with self._lock:
            if self._state is RecorderState.STOPPED:
                return False
            self._limit = -1
            if self._state is not RecorderState.NEW:
                self._state = RecorderState.STOPPING
                return True
            self._count_leftovers()
            self._state = RecorderState.STOPPED
            self._scheduled = False  # a straggling producer now wakes a drain that counts it
            return False

    def _finish_stop(self, deadline: float) -> None:
        self._run_for(len(self._queue), deadline)
        if self._tickers:
            self._tick()
        with self._lock:
            self._count_leftovers()
            self._state = RecorderState.STOPPED
            _readout.publish(self)

    def _discard_stragglers(self) -> None:
        with self._lock:
            self._count_leftovers()

    def _abandon(self) -> None:
        """The owning loop is gone for good: count what it never processed, and stop."""
        with self._lock:
            self._limit = -1
            self._count_leftovers()
            self._state = RecorderState.STOPPED
            self._scheduled = False  # stragglers try to wake the dead loop and count themselves

    def _count_leftovers(self) -> None:
        queue = self._queue
        while True:
            try:
                queue.popleft()
            except IndexError:
                return
            self._drops["stopped"] += 1

    def __repr__(self) -> str:
        return f"<Recorder {self.recorder_id!r} {self._state}>"
