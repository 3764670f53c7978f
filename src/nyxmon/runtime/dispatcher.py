"""Dispatcher: one thread that dispatches posted events to sessions (seed 003's EventLoop).

Every session's state lives on this one thread, so handlers need no locks: it is the single
writer of live state. ``post()`` may be called from any thread and only appends to a deque (plus
a wake-up when the dispatcher sleeps); the thread drains the queue in batches, records each
event's lag (dequeue time minus post time) and then calls the batch listeners, which is where
callers flush per-batch work (one store transaction per batch, for instance).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from ._oneshot import OneShot
from .errors import (
    DeadlockError,
    DiscardedError,
    DispatcherCrashedError,
    QueueFullError,
    RuntimeClosedError,
)
from .observe import DispatchBatch, EventSink, emit
from .session import Session, SessionEvent
from .status import ShutdownStatus
from .window import LagWindow, WindowStats

__all__ = ["Completion", "Dispatcher", "DispatcherStatistics", "FullPolicy"]

log = logging.getLogger(__name__)

T = TypeVar("T")
FullPolicy = Literal["block", "raise", "drop"]

_NEW, _RUNNING, _STOPPING, _CLOSED, _CRASHED = "new", "running", "stopping", "closed", "crashed"


class Completion(OneShot[Any]):
    """The outcome of a registered session: ``wait(timeout)`` from sync code or ``await`` it.

    Waiting on the dispatcher's own thread raises :class:`DeadlockError`: that thread is the one
    that would have to finish the session.
    """

    __slots__ = ()


@dataclass(frozen=True, slots=True)
class DispatcherStatistics:
    """A snapshot of a dispatcher. ``lag`` is in seconds (dequeue time minus post time)."""

    name: str
    state: str
    dispatched: int
    batches: int
    dropped_unknown: int
    dropped_full: int
    queue_depth: int
    max_queue_depth: int
    active_sessions: int
    sessions_started: int
    sessions_finished: int
    sessions_failed: int
    listener_failures: int
    lag: WindowStats


class _Start:
    __slots__ = ("completion", "session")

    def __init__(self, session: Session, completion: Completion | None) -> None:
        self.session = session
        self.completion = completion


class _Call:
    __slots__ = ("args", "completion", "fn")

    def __init__(self, fn: Callable[..., Any], args: tuple[Any, ...], completion: Completion):
        self.fn = fn
        self.args = args
        self.completion = completion


_STOP = object()


class Dispatcher:
    """One thread dispatching events to sessions, with lag statistics and drain/stop.

    ``max_queue`` bounds the events waiting (0: unbounded); when full, ``on_full`` decides:
    ``block`` (wait up to ``full_timeout`` seconds, then raise), ``raise``
    (:class:`QueueFullError`) or ``drop`` (count it and return ``False``). Session starts and
    submitted calls bypass the bound: dropping them would strand their waiters. With a
    ``recorder`` every batch is reported as one :class:`~nyxmon.runtime.observe.DispatchBatch`
    (size, max and summed lag, queue depth): per batch, so reporting costs nothing per event.
    """

    def __init__(
        self,
        name: str = "nyxmon-dispatcher",
        *,
        max_queue: int = 0,
        on_full: FullPolicy = "block",
        full_timeout: float = 5.0,
        batch_size: int = 1024,
        lag_window: int = 8192,
        clock: Callable[[], int] = time.monotonic_ns,
        recorder: EventSink | None = None,
    ) -> None:
        if on_full not in ("block", "raise", "drop"):
            raise ValueError(f"on_full must be 'block', 'raise' or 'drop', got {on_full!r}")
        if max_queue < 0 or batch_size < 1:
            raise ValueError("max_queue must be >= 0 and batch_size >= 1")
        self.name = name
        self._max_queue = max_queue
        self._on_full = on_full
        self._full_timeout = full_timeout
        self._batch_size = batch_size
        self._clock = clock
        self._recorder = recorder
        self._queue: deque[tuple[Any, int]] = deque()
        self._wakeup = threading.Event()
        self._idle = False
        self._room = threading.Condition(threading.Lock())
        self._blocked_producers = 0
        self._lock = threading.Lock()
        self._state = _NEW
        self._status: ShutdownStatus | None = None
        self._halt = False
        self._crash: BaseException | None = None
        self._thread: threading.Thread | None = None
        self._thread_id = -1
        self._sessions: dict[Hashable, tuple[Session, Completion | None]] = {}
        self._drained = threading.Condition(threading.Lock())
        self._live = 0  # sessions registered and not yet ended, including starts still queued
        self._listeners: list[Callable[[], None]] = []
        self._lag = LagWindow(lag_window)
        self._dispatched = 0
        self._batches = 0
        self._dropped_unknown = 0
        self._dropped_full = 0
        self._max_depth = 0
        self._started = 0
        self._finished = 0
        self._failed = 0
        self._listener_failures = 0

    # -- lifecycle ------------------------------------------------------------------------------
    def start(self) -> Dispatcher:
        """Start the dispatch thread (idempotent while running; allowed again after a stop)."""
        with self._lock:
            if self._state == _RUNNING:
                return self
            if self._state == _STOPPING:
                raise RuntimeClosedError(f"dispatcher {self.name!r} is stopping")
            self._state = _RUNNING
            self._status = None
            self._halt = False
            self._crash = None
            self._queue.clear()
            self._sessions.clear()
            thread = threading.Thread(target=self._run, name=self.name, daemon=True)
            self._thread = thread
        thread.start()
        return self

    def stop(self, timeout: float = 5.0, *, drain: bool = False) -> ShutdownStatus:
        """Stop dispatching; with ``drain`` first wait (up to ``timeout``) for sessions to finish.

        Waiters of sessions still active are failed with :class:`DiscardedError`. Returns
        ``clean``, ``drained_with_discards`` (drain ran out of time), ``cancelled`` (no drain, and
        sessions were discarded) or ``timeout`` (a handler kept the thread busy past ``timeout``).
        """
        if self.current():
            raise DeadlockError(
                f"Dispatcher.stop() was called on dispatcher {self.name!r}'s own thread; "
                "it would wait for itself. Call it from another thread."
            )
        with self._lock:
            if self._state == _NEW:
                return ShutdownStatus.CLEAN
            if self._state in (_CLOSED, _CRASHED) and self._status is not None:
                return self._status
            self._state = _STOPPING
            thread = self._thread
        assert thread is not None
        deadline = time.monotonic() + timeout
        status = ShutdownStatus.CLEAN
        with self._drained:
            if drain:
                while self._live and (left := deadline - time.monotonic()) > 0:
                    self._drained.wait(left)
                if self._live:
                    status = ShutdownStatus.DRAINED_WITH_DISCARDS
            elif self._live:
                status = ShutdownStatus.CANCELLED
        self._halt = True
        self._queue.append((_STOP, self._clock()))
        self._wakeup.set()
        # The drain may use the whole timeout; exiting a healthy loop then takes microseconds,
        # so a short grace tells "still exiting" from "stuck in a handler".
        thread.join(max(0.0, deadline - time.monotonic()) + min(0.5, timeout))
        if thread.is_alive():
            status = ShutdownStatus.TIMEOUT
            log.warning("dispatcher %r: a handler kept the thread past %.1f s", self.name, timeout)
            self._discard_all(f"dispatcher {self.name!r} stop timed out")
        with self._lock:
            if self._status is None:
                self._status = status
            if self._state != _CRASHED:
                self._state = _CLOSED
        return self._status

    def __enter__(self) -> Dispatcher:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def current(self) -> bool:
        """Whether the caller runs on this dispatcher's thread."""
        return threading.get_ident() == self._thread_id

    # -- posting --------------------------------------------------------------------------------
    def post(self, event: SessionEvent) -> bool:
        """Queue ``event`` for its target session; safe from any thread.

        Returns ``False`` only when the queue is full and the policy is ``drop``.
        """
        if self._state is not _RUNNING and self._state is not _STOPPING:
            self._raise_closed()
        queue = self._queue
        if self._max_queue and len(queue) >= self._max_queue and not self._make_room():
            return False
        queue.append((event, self._clock()))
        if self._idle:
            self._wakeup.set()
        return True

    def post_many(self, events: Iterable[SessionEvent]) -> int:
        """Queue several events with one wake-up of the dispatcher (a producer that batches
        cuts thread hand-offs); returns how many were accepted (the bound applies per event)."""
        if self._state is not _RUNNING and self._state is not _STOPPING:
            self._raise_closed()
        queue = self._queue
        now = self._clock()
        accepted = 0
        if self._max_queue:
            for event in events:
                if len(queue) >= self._max_queue and not self._make_room():
                    continue
                queue.append((event, now))
                accepted += 1
        else:
            items = [(event, now) for event in events]
            queue.extend(items)
            accepted = len(items)
        if self._idle:
            self._wakeup.set()
        return accepted

    def register(self, session: Session) -> Completion:
        """Start ``session``; the returned completion resolves when it finishes or fails."""
        completion = Completion(guard=self._guard_wait)
        self._control(_Start(session, completion))
        return completion

    def enqueue_child(self, session: Session) -> None:
        """Start ``session`` fire-and-forget (allowed from the dispatcher thread)."""
        self._control(_Start(session, None))

    def submit(self, fn: Callable[..., T], *args: Any) -> Completion:
        """Run ``fn(*args)`` on the dispatcher thread; the completion carries its result."""
        completion = Completion(guard=self._guard_wait)
        self._control(_Call(fn, args, completion))
        return completion

    def add_batch_listener(self, listener: Callable[[], None]) -> None:
        """Call ``listener()`` on the dispatcher thread after every batch of events."""
        self._listeners.append(listener)

    def statistics(self) -> DispatcherStatistics:
        return DispatcherStatistics(
            name=self.name,
            state=self._state,
            dispatched=self._dispatched,
            batches=self._batches,
            dropped_unknown=self._dropped_unknown,
            dropped_full=self._dropped_full,
            queue_depth=len(self._queue),
            max_queue_depth=self._max_depth,
            active_sessions=len(self._sessions),
            sessions_started=self._started,
            sessions_finished=self._finished,
            sessions_failed=self._failed,
            listener_failures=self._listener_failures,
            lag=self._lag.stats(scale=1e-9),
        )

    # -- internals: callers' side ---------------------------------------------------------------
    def _control(self, item: _Start | _Call) -> None:
        if self._state is not _RUNNING:
            if self._state is _STOPPING:
                raise RuntimeClosedError(f"dispatcher {self.name!r} is stopping; no new sessions")
            self._raise_closed()
        if type(item) is _Start:
            with self._drained:
                self._live += 1
        self._queue.append((item, self._clock()))
        if self._idle:
            self._wakeup.set()

    def _raise_closed(self) -> None:
        if self._state is _CRASHED:
            raise DispatcherCrashedError(f"dispatcher {self.name!r} crashed") from self._crash
        state = "not started" if self._state is _NEW else "stopped"
        raise RuntimeClosedError(f"dispatcher {self.name!r} is {state}")

    def _make_room(self) -> bool:
        if self._on_full == "drop":
            self._dropped_full += 1
            return False
        if self._on_full == "raise":
            raise QueueFullError(
                f"dispatcher {self.name!r} queue is full ({self._max_queue} events waiting)"
            )
        if self.current():
            raise DeadlockError(
                f"dispatcher {self.name!r} queue is full and post() was called on its own thread, "
                "which is the only thread that can make room"
            )
        deadline = time.monotonic() + self._full_timeout
        with self._room:
            self._blocked_producers += 1
            try:
                while len(self._queue) >= self._max_queue:
                    left = deadline - time.monotonic()
                    if left <= 0 or self._state not in (_RUNNING, _STOPPING):
                        raise QueueFullError(
                            f"dispatcher {self.name!r} queue stayed full for "
                            f"{self._full_timeout} s ({self._max_queue} events waiting)"
                        )
                    self._room.wait(left)
            finally:
                self._blocked_producers -= 1
        return True

    def _guard_wait(self) -> None:
        if self.current():
            raise DeadlockError(
                f"a blocking wait on dispatcher {self.name!r}'s own thread would never return: "
                "the session can only finish on this thread. Post an event instead."
            )

    # -- internals: dispatcher thread -----------------------------------------------------------
    def _run(self) -> None:
        self._thread_id = threading.get_ident()
        try:
            self._loop()
        except BaseException as exc:  # the loop itself died: fail every waiter loudly
            self._crash = exc
            with self._lock:
                self._state = _CRASHED
                self._status = ShutdownStatus.CANCELLED
            log.critical("dispatcher %r crashed", self.name, exc_info=exc)
            self._discard_all(f"dispatcher {self.name!r} crashed", crashed=exc)
        else:
            self._discard_all(f"dispatcher {self.name!r} stopped before the session finished")
        finally:
            self._thread_id = -1
            with self._room:
                self._room.notify_all()

    def _loop(self) -> None:
        queue = self._queue
        popleft = queue.popleft
        clock = self._clock
        sessions = self._sessions
        wakeup = self._wakeup
        batch_size = self._batch_size
        recorder = self._recorder
        lags: list[int] = []
        while not self._halt:
            if not queue:
                wakeup.clear()
                self._idle = True
                if not queue:
                    wakeup.wait()
                self._idle = False
                continue
            depth = len(queue)
            if depth > self._max_depth:
                self._max_depth = depth
            n = depth if depth < batch_size else batch_size
            for _ in range(n):
                item, posted = popleft()
                lags.append(clock() - posted)
                if type(item) is SessionEvent:
                    entry = sessions.get(item.target)
                    if entry is None:
                        self._dropped_unknown += 1
                        continue
                    try:
                        entry[0].on_event(item)
                    except Exception as exc:
                        self._fail(entry[0], exc)
                elif item is _STOP:
                    self._halt = True
                    break
                else:
                    self._apply(item)
            self._dispatched += n
            self._batches += 1
            self._lag.add_many(lags)
            if recorder is not None and lags:
                batch = DispatchBatch(
                    self.name, len(lags), max(lags) * 1e-9, sum(lags) * 1e-9, depth
                )
                emit(recorder, batch)
            lags.clear()
            if self._blocked_producers:
                with self._room:
                    self._room.notify_all()
            for listener in self._listeners:
                try:
                    listener()
                except Exception:
                    self._listener_failures += 1
                    log.exception("dispatcher %r: batch listener %r failed", self.name, listener)

    def _apply(self, item: object) -> None:
        if type(item) is _Start:
            session = item.session
            if session.id in self._sessions:
                error = ValueError(f"a session with id {session.id!r} is already active")
                if item.completion is not None:
                    item.completion.set_exception(error)
                self._ended()
                return
            session.dispatcher = self
            session.finished = False
            self._sessions[session.id] = (session, item.completion)
            self._started += 1
            try:
                session.on_start()
            except Exception as exc:
                self._fail(session, exc)
        elif type(item) is _Call:
            try:
                item.completion.set_result(item.fn(*item.args))
            except Exception as exc:
                item.completion.set_exception(exc)

    def _finish(self, session: Session, result: Any) -> None:
        entry = self._sessions.pop(session.id, None)
        session.finished = True
        if entry is None:
            return
        self._finished += 1
        if entry[1] is not None:
            entry[1].set_result(result)
        self._ended()

    def _fail(self, session: Session, error: BaseException) -> None:
        entry = self._sessions.pop(session.id, None)
        session.finished = True
        if entry is None:
            return
        self._failed += 1
        if entry[1] is not None:
            entry[1].set_exception(error)
        else:  # nobody waits for a child: make sure the error is seen
            log.error("dispatcher %r: session %r failed", self.name, session.id, exc_info=error)
        self._ended()

    def _ended(self) -> None:
        with self._drained:
            self._live -= 1
            if not self._live:
                self._drained.notify_all()

    def _discard_all(self, why: str, crashed: BaseException | None = None) -> None:
        """Fail every waiter still pending: active sessions and queued starts and calls."""
        waiters: list[Completion] = [c for _, c in list(self._sessions.values()) if c is not None]
        self._sessions.clear()
        while self._queue:
            try:
                item, _ = self._queue.popleft()
            except IndexError:
                break
            if isinstance(item, _Start | _Call) and item.completion is not None:
                waiters.append(item.completion)
        for completion in waiters:
            if crashed is not None:
                error: BaseException = DispatcherCrashedError(why)
                error.__cause__ = crashed
            else:
                error = DiscardedError(why)
            completion.set_exception(error)
        with self._drained:
            self._live = 0
            self._drained.notify_all()
