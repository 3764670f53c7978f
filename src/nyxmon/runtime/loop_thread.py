"""Runtime: a thread the runtime owns, running one event loop that sync code can use.

Seed 000's agent borrowed a portal thread per use; here one long-lived loop thread serves every
caller. Sync code hands work over with :meth:`Runtime.call` (block for the result),
:meth:`Runtime.submit` (a ``concurrent.futures.Future``), :meth:`Runtime.spawn` (a background task
the runtime owns) or :meth:`Runtime.run_sync_soon`.

Handoff is a pending deque plus at most one scheduled wake-up of the loop, so a burst of calls
costs one cross-thread wake. On asyncio and uvloop, ``call``/``submit`` start a plain task (anyio's
task group costs ~10x more per task, measured); spawned tasks and everything on trio run inside
the runtime's anyio task group, each in its own cancel scope.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import contextvars
import importlib.util
import inspect
import logging
import threading
import time
import weakref
from collections import deque
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import Any, Literal, TypeVar, overload

import anyio
import anyio.abc

from ._oneshot import OneShot
from ._work import RuntimeFuture, SpawnedTask, Work, WorkKind
from .errors import DeadlockError, RuntimeClosedError
from .observe import EventSink, LoopLagSample, TaskFailed, emit
from .status import ShutdownStatus
from .window import LagWindow, WindowStats

__all__ = ["Backend", "Portal", "Runtime", "RuntimeStatistics"]

log = logging.getLogger(__name__)

T = TypeVar("T")
Backend = Literal["uvloop", "asyncio", "trio"]

_NEW, _RUNNING, _STOPPING, _CLOSED = "new", "running", "stopping", "closed"
_LIVE: weakref.WeakSet[Runtime] = weakref.WeakSet()


def _default_backend() -> Backend:
    return "uvloop" if importlib.util.find_spec("uvloop") is not None else "asyncio"


@dataclass(frozen=True, slots=True)
class RuntimeStatistics:
    """A snapshot of a runtime; ``loop_lag`` is the lag probe's figures in seconds."""

    name: str
    backend: str
    state: str
    tasks_in_flight: int
    tasks_started: int
    spawned: int
    task_failures: int
    callback_failures: int
    loop_lag: WindowStats


class Runtime:
    """Owns a daemon thread running one event loop (uvloop where installed, else asyncio; or trio).

    Use it as a context manager or call :meth:`start` / :meth:`shutdown`. A forgotten runtime never
    hangs interpreter exit: its thread is a daemon and an ``atexit`` hook shuts it down. With a
    ``recorder`` it also reports every lag-probe sample and every task or callback failure
    (:mod:`nyxmon.runtime.observe`).
    """

    def __init__(
        self,
        backend: Backend | None = None,
        *,
        name: str = "nyxmon-runtime",
        lag_interval: float = 0.05,
        lag_window: int = 1200,
        cancel_grace: float = 5.0,
        recorder: EventSink | None = None,
    ) -> None:
        chosen = _default_backend() if backend is None else backend
        if chosen not in ("uvloop", "asyncio", "trio"):
            raise ValueError(f"backend must be 'uvloop', 'asyncio' or 'trio', got {chosen!r}")
        module = "uvloop" if chosen == "uvloop" else "trio" if chosen == "trio" else None
        if module and importlib.util.find_spec(module) is None:
            extra = " (pip install 'nyxmon[trio]')" if module == "trio" else ""
            raise ValueError(f"backend {chosen!r} needs the {module} package{extra}")
        if lag_interval <= 0:
            raise ValueError(f"lag_interval must be > 0, got {lag_interval}")
        self.name = name
        self.backend: Backend = chosen
        self._lag_interval = lag_interval
        self._cancel_grace = cancel_grace
        self._lag = LagWindow(lag_window)
        self._recorder = recorder
        self._lock = threading.Lock()
        self._state = _NEW
        self._status: ShutdownStatus | None = None
        self._pending: deque[Work] = deque()
        self._wake_scheduled = False
        self._thread: threading.Thread | None = None
        self._thread_id = -1
        self._started = threading.Event()
        self._startup_error: BaseException | None = None
        # Owned by the loop thread once running:
        self._wake: Callable[..., Any] = _not_running
        self._loop: asyncio.AbstractEventLoop | None = None
        self._tg: anyio.abc.TaskGroup | None = None
        self._inflight: set[Work] = set()
        self._idle: anyio.Event | None = None
        self._stop_request: anyio.Event | None = None
        self._stop_params: tuple[bool, float] = (True, 0.0)
        self._tasks_started = 0
        self._spawned = 0
        self._task_failures = 0
        self._callback_failures = 0

    # -- lifecycle ----------------------------------------------------------------------------
    def start(self) -> Runtime:
        """Start the loop thread and return once the loop is running (idempotent while running)."""
        with self._lock:
            if self._state == _RUNNING:
                return self
            if self._state == _STOPPING:
                raise RuntimeClosedError(f"runtime {self.name!r} is stopping; start it again later")
            self._state = _RUNNING
            self._status = None
            self._startup_error = None
            self._started.clear()
            self._thread = threading.Thread(target=self._thread_main, name=self.name, daemon=True)
        self._thread.start()
        self._started.wait()
        if self._startup_error is not None:
            raise RuntimeError(f"runtime {self.name!r} failed to start") from self._startup_error
        _LIVE.add(self)
        return self

    def shutdown(self, timeout: float = 5.0, *, drain: bool = True) -> ShutdownStatus:
        """Stop accepting work, finish or cancel what is in flight, stop the loop thread.

        With ``drain`` in-flight tasks get up to ``timeout`` seconds to finish before the rest are
        cancelled (``drained_with_discards``); without it they are cancelled at once
        (``cancelled``). ``timeout`` if the loop thread is still alive afterwards (blocked by sync
        code); waiters are failed either way, never left hanging. Calling it again returns the
        first status.
        """
        self._refuse_on_loop_thread("shutdown")
        with self._lock:
            if self._state == _NEW:
                self._state = _CLOSED
                self._status = ShutdownStatus.CLEAN
            if self._state == _CLOSED and self._status is not None:
                return self._status
            first = self._state == _RUNNING
            self._state = _STOPPING
            thread = self._thread
        assert thread is not None
        deadline = time.monotonic() + timeout
        if first:
            with contextlib.suppress(RuntimeError):  # the loop already died: nothing to ask
                self._wake(partial(self._begin_stop, drain, timeout))
        thread.join(max(0.0, deadline - time.monotonic()) + 0.5)
        if thread.is_alive():
            self._fail_leftovers()
            with self._lock:
                self._status = self._status or ShutdownStatus.TIMEOUT
                self._state = _CLOSED
            log.warning("runtime %r: loop thread did not stop within %.1f s", self.name, timeout)
        assert self._status is not None
        return self._status

    def __enter__(self) -> Runtime:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.shutdown()

    @property
    def running(self) -> bool:
        return self._state == _RUNNING

    def in_loop_thread(self) -> bool:
        """Whether the caller runs on this runtime's loop thread."""
        return threading.get_ident() == self._thread_id

    # -- handing work over --------------------------------------------------------------------
    @overload
    def call(
        self, fn: Callable[..., Awaitable[T]], *args: Any, timeout: float | None = None
    ) -> T: ...

    @overload
    def call(self, fn: Callable[..., T], *args: Any, timeout: float | None = None) -> T: ...

    def call(self, fn: Callable[..., Any], *args: Any, timeout: float | None = None) -> Any:
        """Run ``fn(*args)`` on the loop and block for its result (the blocking-portal pattern).

        ``fn`` is normally an async function; a plain function runs on the loop thread. After
        ``timeout`` seconds the task is cancelled, its cancellation awaited (bounded by the
        runtime's ``cancel_grace``) and ``TimeoutError`` raised. From the loop thread itself this
        raises :class:`DeadlockError` instead of hanging.
        """
        self._refuse_on_loop_thread("call")
        cell: OneShot[Any] = OneShot()
        work = self._enqueue(WorkKind.CALL, fn, args, cell)
        try:
            finished = cell.wait_done(timeout)
        except BaseException:  # KeyboardInterrupt in the caller: don't leave the task running
            self._request_cancel(work)
            raise
        if not finished:
            self._request_cancel(work)
            cell.wait_done(self._cancel_grace)
            raise TimeoutError(
                f"Runtime.call({_name_of(fn)}) did not finish within {timeout} s and was cancelled"
            )
        return cell.outcome()

    @overload
    def submit(self, fn: Callable[..., Awaitable[T]], *args: Any) -> RuntimeFuture[T]: ...

    @overload
    def submit(self, fn: Callable[..., T], *args: Any) -> RuntimeFuture[T]: ...

    def submit(self, fn: Callable[..., Any], *args: Any) -> RuntimeFuture[Any]:
        """Start ``fn(*args)`` on the loop; its future's ``cancel()`` cancels the task."""
        future: RuntimeFuture[Any] = RuntimeFuture(self)
        future._work = self._enqueue(WorkKind.SUBMIT, fn, args, future)
        return future

    def spawn(
        self, fn: Callable[..., Awaitable[Any]], *args: Any, name: str | None = None
    ) -> SpawnedTask:
        """Start a background task owned by the runtime's task group.

        Its failure is logged and counted (``statistics().task_failures``), never silent; shutdown
        cancels it if it is still running.
        """
        handle = SpawnedTask(self, name or _name_of(fn))
        handle._work = self._enqueue(WorkKind.SPAWN, fn, args, handle, name=handle.name)
        return handle

    def run_sync_soon(self, fn: Callable[..., Any], *args: Any) -> None:
        """Run the plain function ``fn(*args)`` on the loop thread soon; errors are logged."""
        self._enqueue(WorkKind.SOON, fn, args, None)

    @contextlib.contextmanager
    def portal(self) -> Iterator[Portal]:
        """Seed 000's ``with provider as portal:`` shape over the one long-lived loop."""
        if self._state == _NEW:
            self.start()
        yield Portal(self)

    def statistics(self) -> RuntimeStatistics:
        return RuntimeStatistics(
            name=self.name,
            backend=self.backend,
            state=self._state,
            tasks_in_flight=len(self._inflight),
            tasks_started=self._tasks_started,
            spawned=self._spawned,
            task_failures=self._task_failures,
            callback_failures=self._callback_failures,
            loop_lag=self._lag.stats(),
        )

    # -- internals: caller side -----------------------------------------------------------------
    def _refuse_on_loop_thread(self, method: str) -> None:
        if self.in_loop_thread():
            raise DeadlockError(
                f"Runtime.{method}() was called from runtime {self.name!r}'s own loop thread; "
                "it would wait for the loop it is blocking. Await the coroutine directly, or use "
                "submit()/spawn() and do not block on the result."
            )

    def _enqueue(
        self,
        kind: WorkKind,
        fn: Callable[..., Any],
        args: tuple[Any, ...],
        sink: Any,
        name: str | None = None,
    ) -> Work:
        work = Work(kind, fn, args, sink, name)
        with self._lock:
            if self._state != _RUNNING:
                state = "not started" if self._state == _NEW else self._state
                raise RuntimeClosedError(f"runtime {self.name!r} is {state}; it accepts no work")
            self._pending.append(work)
            if self._wake_scheduled:
                return work
            self._wake_scheduled = True
        self._wake(self._start_pending)
        return work

    def _request_cancel(self, work: Work) -> None:
        if self.in_loop_thread():
            self._cancel_in_loop(work)
            return
        with contextlib.suppress(RuntimeError):  # loop gone: the final sweep fails the work
            self._wake(partial(self._cancel_in_loop, work))

    def _fail_leftovers(self) -> None:
        with self._lock:
            leftovers = list(self._pending) + list(self._inflight)
            self._pending.clear()
        for work in leftovers:
            work.discard(f"runtime {self.name!r} stopped before this work finished")

    # -- internals: loop thread ---------------------------------------------------------------
    def _thread_main(self) -> None:
        self._thread_id = threading.get_ident()
        try:
            if self.backend == "trio":
                anyio.run(self._main, backend="trio")
            else:
                anyio.run(
                    self._main,
                    backend="asyncio",
                    backend_options={"use_uvloop": self.backend == "uvloop"},
                )
        except BaseException as exc:
            if not self._started.is_set():
                self._startup_error = exc
            else:
                log.exception("runtime %r: the event loop crashed", self.name)
                self._status = ShutdownStatus.CANCELLED
        finally:
            self._wake = _not_running
            self._fail_leftovers()
            with self._lock:
                self._state = _CLOSED
                self._status = self._status or ShutdownStatus.CANCELLED
            self._thread_id = -1
            self._started.set()

    async def _main(self) -> None:
        if self.backend == "trio":
            import trio

            self._wake = trio.lowlevel.current_trio_token().run_sync_soon
            self._loop = None
        else:
            self._loop = asyncio.get_running_loop()
            # call_soon_threadsafe would run callbacks (and the tasks they create) in a copy of
            # the *caller's* context: a caller on trio would leak trio's "current async library"
            # marker into this asyncio loop. Run them in the loop's own context instead.
            self._wake = partial(
                self._loop.call_soon_threadsafe, context=contextvars.copy_context()
            )
        self._stop_request = anyio.Event()
        async with anyio.create_task_group() as tg:
            self._tg = tg
            tg.start_soon(self._probe_lag)
            self._started.set()
            await self._stop_request.wait()
            drain, timeout = self._stop_params
            self._status = await self._wind_down(drain, grace=timeout)
            tg.cancel_scope.cancel()

    def _begin_stop(self, drain: bool, timeout: float) -> None:
        self._stop_params = (drain, timeout)
        assert self._stop_request is not None
        self._stop_request.set()

    async def _wind_down(self, drain: bool, *, grace: float) -> ShutdownStatus:
        deadline = anyio.current_time() + grace
        self._start_pending()  # work accepted before the stop still counts as in flight
        if drain and self._inflight:
            with anyio.move_on_after(grace):
                await self._wait_idle()
        leftovers = list(self._inflight)
        for work in leftovers:
            self._cancel_in_loop(work)
        if leftovers:
            with anyio.move_on_after(max(0.0, deadline - anyio.current_time()) + 0.1):
                await self._wait_idle()
        if self._inflight:
            return ShutdownStatus.TIMEOUT
        if not leftovers:
            return ShutdownStatus.CLEAN
        return ShutdownStatus.DRAINED_WITH_DISCARDS if drain else ShutdownStatus.CANCELLED

    async def _wait_idle(self) -> None:
        if self._inflight:
            self._idle = anyio.Event()
            await self._idle.wait()

    def _start_pending(self) -> None:
        with self._lock:
            self._wake_scheduled = False
            batch = list(self._pending)
            self._pending.clear()
        for work in batch:
            self._start(work)

    def _start(self, work: Work) -> None:
        if work.cancel_requested:
            work.settle_cancelled()
            return
        if work.kind is WorkKind.SOON:
            try:
                work.fn(*work.args)
            except Exception:
                self._callback_failures += 1
                log.exception("runtime %r: run_sync_soon(%s) failed", self.name, _name_of(work.fn))
                if self._recorder is not None:
                    emit(self._recorder, TaskFailed(self.name, _name_of(work.fn), "callback"))
            return
        self._inflight.add(work)
        self._tasks_started += 1
        if work.kind is WorkKind.SPAWN:
            self._spawned += 1
        try:
            if self._loop is None:
                self._start_in_group(work)
            elif work.kind is WorkKind.SPAWN:
                # anyio on asyncio finds its backend through the current task, which a plain
                # loop callback lacks: enter the task group from a (cheap) task instead.
                self._loop.create_task(self._start_in_group_async(work))
            else:
                task = self._loop.create_task(self._execute(work))
                # A task cancelled before its first step never runs _execute (not even its
                # finally): account for it here, or it would stay "in flight" forever.
                task.add_done_callback(partial(self._settle_unstarted, work))
                work.task = task
        except Exception as exc:
            self._inflight.discard(work)
            work.settle_error(exc)

    def _start_in_group(self, work: Work) -> None:
        assert self._tg is not None
        self._tg.start_soon(self._execute_scoped, work, name=work.name)

    async def _start_in_group_async(self, work: Work) -> None:
        try:
            self._start_in_group(work)
        except Exception as exc:
            self._inflight.discard(work)
            work.settle_error(exc)

    async def _execute_scoped(self, work: Work) -> None:
        with anyio.CancelScope() as scope:
            work.task = scope
            if work.cancel_requested:
                scope.cancel()
            await self._execute(work)

    async def _execute(self, work: Work) -> None:
        try:
            value = work.fn(*work.args)
            if inspect.isawaitable(value):
                value = await value
        except anyio.get_cancelled_exc_class():
            work.settle_cancelled()
            raise
        except BaseException as exc:
            if work.kind is WorkKind.SPAWN:
                self._task_failures += 1
                log.error("runtime %r: task %r failed", self.name, work.name, exc_info=exc)
                if self._recorder is not None:
                    emit(self._recorder, TaskFailed(self.name, work.name or "?", "task"))
            work.settle_error(exc)
            if not isinstance(exc, Exception):
                raise
        else:
            work.settle_result(value)
        finally:
            self._inflight.discard(work)
            if not self._inflight and self._idle is not None:
                self._idle.set()

    def _settle_unstarted(self, work: Work, _: object = None) -> None:
        if work in self._inflight:
            work.settle_cancelled()
            self._inflight.discard(work)
            if not self._inflight and self._idle is not None:
                self._idle.set()

    def _cancel_in_loop(self, work: Work) -> None:
        work.cancel_requested = True
        if work.task is not None:
            work.task.cancel()

    async def _probe_lag(self) -> None:
        """Expected vs actual wake-up of a periodic timer: how late the loop runs callbacks."""
        interval = self._lag_interval
        clock = time.monotonic  # not the loop clock: uvloop's is cached per iteration, in ms
        recorder = self._recorder
        while True:
            before = clock()
            await anyio.sleep(interval)
            lag = max(0.0, clock() - before - interval)
            self._lag.add(lag)
            if recorder is not None:
                emit(recorder, LoopLagSample(self.name, lag))


class Portal:
    """The ``BlockingPortal`` shape (``call``, ``start_task_soon``) over a shared Runtime."""

    __slots__ = ("_runtime",)

    def __init__(self, runtime: Runtime) -> None:
        self._runtime = runtime

    def call(self, fn: Callable[..., Any], *args: Any) -> Any:
        return self._runtime.call(fn, *args)

    def start_task_soon(
        self, fn: Callable[..., Any], *args: Any, name: object = None
    ) -> RuntimeFuture[Any]:
        del name  # accepted for anyio compatibility; call tasks are unnamed
        return self._runtime.submit(fn, *args)


def _not_running(*_: object) -> None:
    raise RuntimeError("the runtime's loop is not running")


def _name_of(fn: Callable[..., Any]) -> str:
    return getattr(fn, "__qualname__", None) or repr(fn)


@atexit.register
def _shutdown_forgotten_runtimes() -> None:
    for runtime in list(_LIVE):
        if runtime.running:
            runtime.shutdown(timeout=1.0, drain=False)
