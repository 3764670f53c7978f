"""OffloadPool: bounded worker threads for blocking calls (seed 003's BlockingAdapterPool).

Event loops and the dispatcher must never block; SQLite writes, smtplib and CPU-heavy work go
here instead. The pool is bounded twice: ``workers`` threads run operations and at most
``queue_size`` operations wait, so a slow backend pushes back on its producers instead of
growing memory without limit.

A ``timeout`` abandons an operation: its waiter gets :class:`OffloadTimeoutError` at the deadline
and its result, if it ever comes, is dropped. Python cannot interrupt a thread, so a running
operation keeps its worker until it returns; an operation whose deadline passes (or which is
cancelled) before a worker takes it never runs.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import Any, Generic, Literal, TypeVar

import anyio

from ._oneshot import OneShot
from .errors import DiscardedError, OffloadTimeoutError, QueueFullError, RuntimeClosedError
from .observe import EventSink, OffloadOp, emit
from .status import ShutdownStatus

__all__ = ["OffloadHandle", "OffloadPool", "OffloadStatistics", "OnFull"]

log = logging.getLogger(__name__)

T = TypeVar("T")
OnFull = Literal["wait", "raise", "timeout"]

_QUEUED, _RUNNING, _DONE, _CANCELLED, _ABANDONED = range(5)


@dataclass(frozen=True, slots=True)
class OffloadStatistics:
    """A snapshot of a pool. ``completed`` counts operations whose outcome was delivered."""

    name: str
    workers: int
    threads: int
    active: int
    queued: int
    submitted: int
    completed: int
    failed: int
    abandoned: int
    cancelled: int
    rejected: int


class OffloadHandle(Generic[T]):
    """One operation in an :class:`OffloadPool`: wait for it, await it, or cancel it."""

    __slots__ = ("_cell", "_pool", "_queued_at", "_state", "args", "deadline", "fn")

    def __init__(
        self, pool: OffloadPool, fn: Callable[..., T], args: tuple[Any, ...], deadline: float | None
    ) -> None:
        self._pool = pool
        self.fn = fn
        self.args = args
        self.deadline = deadline
        self._state = _QUEUED
        self._queued_at = time.monotonic()
        self._cell: OneShot[T] = OneShot()

    def done(self) -> bool:
        return self._cell.done()

    def cancelled(self) -> bool:
        return self._state == _CANCELLED

    def cancel(self) -> bool:
        """Cancel the operation if no worker has taken it yet; it then never runs."""
        return self._pool._cancel(self)

    def wait(self, timeout: float | None = None) -> T:
        """Block for the result. ``timeout`` limits this wait only; the operation's own deadline
        (set at submit) abandons it and raises :class:`OffloadTimeoutError`."""
        until = self._wait_deadline(timeout)
        if not self._cell.wait_done(None if until is None else until - time.monotonic()):
            if self.deadline is not None and time.monotonic() >= self.deadline:
                self._pool._abandon(self)
            else:
                raise TimeoutError(f"offloaded {_name_of(self.fn)} still running after {timeout} s")
        return self._cell.outcome()

    async def wait_async(self) -> T:
        """Await the result without blocking the loop; cancelling the awaiting task cancels the
        operation if it has not started yet."""
        try:
            if self.deadline is None:
                return await self._cell.wait_async()
            with anyio.move_on_after(max(0.0, self.deadline - time.monotonic())):
                return await self._cell.wait_async()
            self._pool._abandon(self)
            return self._cell.outcome()
        except anyio.get_cancelled_exc_class():
            self.cancel()
            raise

    def __await__(self) -> Generator[Any, None, T]:
        return self.wait_async().__await__()

    def _wait_deadline(self, timeout: float | None) -> float | None:
        limits = [d for d in (self.deadline,) if d is not None]
        if timeout is not None:
            limits.append(time.monotonic() + timeout)
        return min(limits) if limits else None


class OffloadPool:
    """``workers`` threads (started on demand) and a queue of at most ``queue_size`` operations.

    With a ``recorder`` every operation a worker takes is reported as one
    :class:`~nyxmon.runtime.observe.OffloadOp` (queue wait, run time, outcome, pool load).
    """

    def __init__(
        self,
        name: str = "offload",
        workers: int = 4,
        queue_size: int = 1000,
        *,
        recorder: EventSink | None = None,
    ) -> None:
        if workers < 1 or queue_size < 1:
            raise ValueError(f"workers and queue_size must be >= 1, got {workers}, {queue_size}")
        self.name = name
        self._recorder = recorder
        self._workers = workers
        self._queue_size = queue_size
        self._lock = threading.Lock()
        self._work_ready = threading.Condition(self._lock)
        self._settled = threading.Condition(self._lock)
        self._queue: deque[OffloadHandle[Any]] = deque()
        self._room_waiters: deque[OneShot[None]] = deque()
        self._threads: list[threading.Thread] = []
        self._idle = 0
        self._active = 0
        self._closing = False
        self._status: ShutdownStatus | None = None
        self._counts = dict.fromkeys(
            ("submitted", "completed", "failed", "abandoned", "cancelled", "rejected"), 0
        )

    # -- submitting -----------------------------------------------------------------------------
    def submit(
        self,
        fn: Callable[..., T],
        *args: Any,
        timeout: float | None = None,
        on_full: OnFull = "wait",
    ) -> OffloadHandle[T]:
        """Queue ``fn(*args)`` for a worker.

        When the queue is full, ``on_full`` decides: ``wait`` blocks until there is room (the
        operation's ``timeout`` starts once it is queued), ``timeout`` waits for room only until
        ``timeout`` seconds have passed (one deadline for waiting and running), ``raise`` raises
        :class:`QueueFullError` at once. Do not use ``wait``/``timeout`` from async code: use
        :meth:`run`, which waits for room without blocking the loop.
        """
        start = time.monotonic()
        room_deadline = start + timeout if on_full == "timeout" and timeout is not None else None
        while True:
            handle = self._try_enqueue(fn, args, timeout, on_full, start)
            if handle is not None:
                return handle
            ticket = self._room_ticket()
            left = None if room_deadline is None else room_deadline - time.monotonic()
            if not ticket.wait_done(left):
                self._drop_ticket(ticket)
                self._reject(f"no room within {timeout} s")

    async def run(
        self,
        fn: Callable[..., T],
        *args: Any,
        timeout: float | None = None,  # noqa: ASYNC109 - also abandons the thread-side work
    ) -> T:
        """Async: wait for room without blocking the loop, then await the result."""
        start = time.monotonic()
        while True:
            handle = self._try_enqueue(fn, args, timeout, "wait", start)
            if handle is not None:
                return await handle
            ticket = self._room_ticket()
            try:
                await ticket.wait_async()
            finally:
                self._drop_ticket(ticket)

    def statistics(self) -> OffloadStatistics:
        with self._lock:
            return OffloadStatistics(
                name=self.name,
                workers=self._workers,
                threads=len(self._threads),
                active=self._active,
                queued=len(self._queue),
                **self._counts,
            )

    # -- stopping -------------------------------------------------------------------------------
    def shutdown(self, timeout: float = 5.0, *, drain: bool = True) -> ShutdownStatus:
        """Stop accepting work; with ``drain`` let queued operations run until ``timeout``.

        Operations still queued are cancelled (their waiters get :class:`DiscardedError`).
        Returns ``timeout`` if a running operation kept its worker past the deadline.
        """
        deadline = time.monotonic() + timeout
        with self._lock:
            if self._status is not None:
                return self._status
            self._closing = True
            waiters, self._room_waiters = list(self._room_waiters), deque()
            if drain:
                while (self._queue or self._active) and (left := deadline - time.monotonic()) > 0:
                    self._settled.wait(left)
            leftovers = [h for h in self._queue if h._state == _QUEUED]
            self._queue.clear()
            for handle in leftovers:
                handle._state = _CANCELLED
                self._counts["cancelled"] += 1
            self._work_ready.notify_all()
            threads = list(self._threads)
        for ticket in waiters:
            ticket.set_result(None)  # they retry, see the pool closing, and raise
        for handle in leftovers:
            handle._cell.set_exception(DiscardedError(f"pool {self.name!r} shut down first"))
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        if any(t.is_alive() for t in threads):
            status = ShutdownStatus.TIMEOUT
        elif leftovers:
            status = ShutdownStatus.DRAINED_WITH_DISCARDS if drain else ShutdownStatus.CANCELLED
        else:
            status = ShutdownStatus.CLEAN
        with self._lock:
            self._status = status
        return status

    # -- internals ------------------------------------------------------------------------------
    def _try_enqueue(
        self,
        fn: Callable[..., T],
        args: tuple[Any, ...],
        timeout: float | None,
        on_full: OnFull,
        start: float,
    ) -> OffloadHandle[T] | None:
        with self._lock:
            if self._closing:
                raise RuntimeClosedError(f"offload pool {self.name!r} is shut down")
            if len(self._queue) >= self._queue_size:
                if on_full == "raise":
                    self._counts["rejected"] += 1
                    raise QueueFullError(
                        f"offload pool {self.name!r} is full ({self._queue_size} waiting)"
                    )
                return None
            base = start if on_full == "timeout" else time.monotonic()
            handle = OffloadHandle(self, fn, args, None if timeout is None else base + timeout)
            self._queue.append(handle)
            self._counts["submitted"] += 1
            if self._idle:
                self._work_ready.notify()
            elif len(self._threads) < self._workers:
                thread = threading.Thread(
                    target=self._work, name=f"{self.name}-{len(self._threads)}", daemon=True
                )
                self._threads.append(thread)
                thread.start()
            return handle

    def _room_ticket(self) -> OneShot[None]:
        ticket: OneShot[None] = OneShot()
        with self._lock:
            if self._closing:
                raise RuntimeClosedError(f"offload pool {self.name!r} is shut down")
            if len(self._queue) < self._queue_size:
                ticket.set_result(None)
            else:
                self._room_waiters.append(ticket)
        return ticket

    def _drop_ticket(self, ticket: OneShot[None]) -> None:
        with self._lock:
            if ticket in self._room_waiters:
                self._room_waiters.remove(ticket)

    def _reject(self, why: str) -> None:
        with self._lock:
            self._counts["rejected"] += 1
        raise QueueFullError(f"offload pool {self.name!r}: {why}")

    def _cancel(self, handle: OffloadHandle[Any]) -> bool:
        with self._lock:
            if handle._state != _QUEUED:
                return handle._state == _CANCELLED
            handle._state = _CANCELLED
            self._counts["cancelled"] += 1
        handle._cell.set_exception(DiscardedError(f"{_name_of(handle.fn)} was cancelled"))
        return True

    def _abandon(self, handle: OffloadHandle[Any]) -> None:
        with self._lock:
            if handle._state not in (_QUEUED, _RUNNING):
                return
            handle._state = _ABANDONED
            self._counts["abandoned"] += 1
        handle._cell.set_exception(
            OffloadTimeoutError(
                f"offloaded {_name_of(handle.fn)} passed its deadline in pool {self.name!r} "
                "and was abandoned"
            )
        )

    def _work(self) -> None:
        while True:
            with self._lock:
                while not self._queue and not self._closing:
                    self._idle += 1
                    self._work_ready.wait()
                    self._idle -= 1
                if not self._queue:
                    return
                handle = self._queue.popleft()
                if self._room_waiters:
                    self._room_waiters.popleft().set_result(None)
                if handle._state != _QUEUED:
                    self._settled.notify_all()
                    continue
                if handle.deadline is not None and time.monotonic() >= handle.deadline:
                    expired = True
                else:
                    expired = False
                    handle._state = _RUNNING
                    self._active += 1
            if expired:
                self._abandon(handle)
                self._report(handle, time.monotonic(), 0.0, "expired")
                continue
            self._execute(handle)

    def _execute(self, handle: OffloadHandle[Any]) -> None:
        error: BaseException | None = None
        value: Any = None
        started = time.monotonic()
        try:
            value = handle.fn(*handle.args)
        except BaseException as exc:
            error = exc
        ended = time.monotonic()
        late = handle.deadline is not None and ended > handle.deadline
        with self._lock:
            self._active -= 1
            deliver = handle._state == _RUNNING and not late
            if deliver:
                handle._state = _DONE
                self._counts["completed"] += 1
                if error is not None:
                    self._counts["failed"] += 1
            self._settled.notify_all()
        if self._recorder is not None:
            outcome = "late" if late else "error" if error is not None else "ok"
            self._report(handle, started, ended - started, outcome)
        if not deliver:
            self._abandon(handle)  # counted once: a no-op if the waiter abandoned it already
        elif error is not None:
            handle._cell.set_exception(error)
        else:
            handle._cell.set_result(value)
        if error is not None and not isinstance(error, Exception):
            raise error

    def _report(
        self, handle: OffloadHandle[Any], started: float, run_time: float, outcome: str
    ) -> None:
        if self._recorder is not None:
            wait = max(0.0, started - handle._queued_at)
            op = OffloadOp(self.name, wait, run_time, outcome, self._active, len(self._queue))
            emit(self._recorder, op)


def _name_of(fn: Callable[..., Any]) -> str:
    return getattr(fn, "__qualname__", None) or repr(fn)
