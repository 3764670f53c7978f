"""MetricsRuntime: a thread and event loop that own recorders, so production code needn't.

Built on :class:`nyxmon.runtime.Runtime` (asyncio, uvloop where installed): recorders are created
on its loop and process their events there. Every public method is synchronous, bounded by a
timeout, and safe from any thread; the ones that wait for the loop have ``async`` twins that
wait without blocking the caller's own loop (asyncio, uvloop or trio). Lookups (``get_recorder``,
``list_recorder_ids``) never touch the loop at all.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from enum import StrEnum
from functools import partial
from typing import Literal, TypeVar

import anyio
import anyio.to_thread

from nyxmon.runtime import DeadlockError, Runtime, RuntimeClosedError, ShutdownStatus

from ._readout import stale
from .errors import MetricsStateError, RecorderExistsError, RecorderNotFoundError
from .policies import OverflowPolicy, check_timeout, parse_policy
from .recorder import DEFAULT_BATCH_SIZE, DEFAULT_QUEUE_MAX_SIZE, Recorder
from .snapshots import RecorderSnapshot

__all__ = ["MetricsRuntime", "MetricsRuntimeState"]

log = logging.getLogger(__name__)

T = TypeVar("T")


class MetricsRuntimeState(StrEnum):
    NEW = "new"
    STARTING = "starting"
    RUNNING = "running"
    STOPPING = "stopping"
    CLOSED = "closed"
    FAILED = "failed"  # start failed, or shutdown could not stop the loop thread


class MetricsRuntime:
    """Owns one loop thread and the recorders created on it.

    ``namespace`` prefixes every exposed metric name (``<namespace>_<metric>``); the defaults
    apply to recorders created without their own ``queue_max_size`` / ``overflow_policy``.
    """

    def __init__(
        self,
        namespace: str,
        *,
        default_queue_max_size: int = DEFAULT_QUEUE_MAX_SIZE,
        default_overflow_policy: OverflowPolicy | str = OverflowPolicy.DROP_NEWEST,
        default_batch_size: int = DEFAULT_BATCH_SIZE,
        backend: Literal["uvloop", "asyncio"] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not isinstance(namespace, str) or not namespace.strip():
            raise ValueError(f"namespace must be a non-empty string, got {namespace!r}")
        if backend == "trio":  # type: ignore[comparison-overlap]
            raise ValueError("recorders run on asyncio: backend must be 'uvloop' or 'asyncio'")
        if default_queue_max_size < 1 or default_batch_size < 1:
            raise ValueError(
                "default_queue_max_size and default_batch_size must be >= 1, got "
                f"{default_queue_max_size} and {default_batch_size}"
            )
        self.namespace = namespace
        self._default_queue_max_size = default_queue_max_size
        self._default_policy = parse_policy("<default>", default_overflow_policy)
        self._default_batch_size = default_batch_size
        self._clock = clock
        self._runtime = Runtime(backend, name=f"metrics:{namespace}", cancel_grace=0.5)
        self._lock = threading.Lock()
        self._state = MetricsRuntimeState.NEW
        self._status: ShutdownStatus | None = None
        self._closed = threading.Event()
        self._recorders: dict[str, Recorder] = {}
        self._creating: set[str] = set()

    # -- lifecycle ------------------------------------------------------------------------------
    @property
    def state(self) -> MetricsRuntimeState:
        return self._state

    @property
    def runtime(self) -> Runtime:
        """The loop thread underneath (its ``statistics()`` show this thread's loop lag)."""
        return self._runtime

    def start(self) -> MetricsRuntime:
        """Start the loop thread (idempotent while running; a closed runtime stays closed)."""
        with self._lock:
            if self._state is MetricsRuntimeState.RUNNING:
                return self
            if self._state is not MetricsRuntimeState.NEW:
                raise MetricsStateError(
                    f"metrics runtime {self.namespace!r} is {self._state}; it starts only once"
                )
            self._state = MetricsRuntimeState.STARTING
        try:
            self._runtime.start()
        except BaseException as exc:
            self._state = MetricsRuntimeState.FAILED
            raise MetricsStateError(f"metrics runtime {self.namespace!r} failed to start") from exc
        self._state = MetricsRuntimeState.RUNNING
        return self

    def shutdown(self, timeout: float = 5.0) -> ShutdownStatus:
        """Stop every recorder (queued events are processed, or counted as dropped once
        ``timeout`` runs out), then the loop thread. Returns the loop's shutdown status;
        ``timeout`` (state ``failed``) if the thread could not be stopped."""
        deadline = time.monotonic() + check_timeout(timeout)
        if self._runtime.in_loop_thread():
            raise DeadlockError(
                f"MetricsRuntime.shutdown() was called on metrics runtime {self.namespace!r}'s "
                "own loop thread, which it has to stop; call it from another thread"
            )
        with self._lock:
            state = self._state
            if state is MetricsRuntimeState.NEW:
                self._state = MetricsRuntimeState.CLOSED
                self._status = ShutdownStatus.CLEAN
                self._closed.set()
            if self._status is not None:
                return self._status
            if state is not MetricsRuntimeState.STOPPING:
                self._state = MetricsRuntimeState.STOPPING
            recorders = list(self._recorders.values())
        if state is MetricsRuntimeState.STOPPING:  # someone else is shutting it down
            self._closed.wait(max(0.0, deadline - time.monotonic()))
            return self._status or ShutdownStatus.TIMEOUT
        try:
            self._on_loop(partial(_stop_all, recorders, deadline), timeout, "the recorders' stop")
        except (TimeoutError, RuntimeClosedError) as exc:
            log.warning("metrics runtime %r: %s", self.namespace, exc)
        status = self._runtime.shutdown(max(0.1, deadline - time.monotonic()))
        if status is not ShutdownStatus.TIMEOUT:
            for recorder in recorders:  # the loop is gone: count whatever it never processed
                recorder._abandon()
        with self._lock:
            self._status = status
            failed = status is ShutdownStatus.TIMEOUT
            self._state = MetricsRuntimeState.FAILED if failed else MetricsRuntimeState.CLOSED
        self._closed.set()
        return status

    async def shutdown_async(self, timeout: float = 5.0) -> ShutdownStatus:  # noqa: ASYNC109
        """:meth:`shutdown` from async code: the joining happens in a worker thread."""
        return await anyio.to_thread.run_sync(self.shutdown, timeout)

    def __enter__(self) -> MetricsRuntime:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.shutdown()

    # -- recorders ------------------------------------------------------------------------------
    def create_recorder(
        self,
        recorder_id: str,
        entity_id: str | None = None,
        *,
        queue_max_size: int | None = None,
        overflow_policy: OverflowPolicy | str | None = None,
        linger: float = 0.0,
        timeout: float = 5.0,
    ) -> Recorder:
        """Create a recorder on the runtime's loop, start it and register it under its id.

        ``linger``: see :class:`Recorder` (batch wake-ups of a steady stream of events).
        """
        make = self._reserve(recorder_id, entity_id, queue_max_size, overflow_policy, linger)
        try:
            recorder = self._on_loop(make, timeout, f"the creation of recorder {recorder_id!r}")
            return self._register(recorder)
        finally:
            self._release(recorder_id)

    async def create_recorder_async(
        self,
        recorder_id: str,
        entity_id: str | None = None,
        *,
        queue_max_size: int | None = None,
        overflow_policy: OverflowPolicy | str | None = None,
        linger: float = 0.0,
        timeout: float = 5.0,  # noqa: ASYNC109 - bounds a wait on another thread's loop
    ) -> Recorder:
        make = self._reserve(recorder_id, entity_id, queue_max_size, overflow_policy, linger)
        try:
            recorder = await self._on_loop_async(
                make, timeout, f"the creation of recorder {recorder_id!r}"
            )
            return self._register(recorder)
        finally:
            self._release(recorder_id)

    def get_recorder(self, recorder_id: str) -> Recorder:
        with self._lock:
            recorder = self._recorders.get(recorder_id)
            if recorder is None:
                raise RecorderNotFoundError(recorder_id, tuple(self._recorders))
            return recorder

    def try_get_recorder(self, recorder_id: str) -> Recorder | None:
        with self._lock:
            return self._recorders.get(recorder_id)

    def list_recorder_ids(self) -> tuple[str, ...]:
        with self._lock:
            return tuple(self._recorders)

    def stop_recorder(self, recorder_id: str, timeout: float = 5.0) -> RecorderSnapshot:
        """Stop a recorder, keep it registered; returns its final snapshot."""
        return self.get_recorder(recorder_id).stop(timeout)

    async def stop_recorder_async(
        self,
        recorder_id: str,
        timeout: float = 5.0,  # noqa: ASYNC109 - bounds a wait on another thread's loop
    ) -> RecorderSnapshot:
        return await self.get_recorder(recorder_id).stop_async(timeout)

    def stop_and_remove_recorder(self, recorder_id: str, timeout: float = 5.0) -> Recorder:
        """Unregister a recorder and stop it (its snapshots keep answering with its final state)."""
        recorder = self._pop(recorder_id)
        recorder.stop(timeout)
        return recorder

    async def stop_and_remove_recorder_async(
        self,
        recorder_id: str,
        timeout: float = 5.0,  # noqa: ASYNC109 - bounds a wait on another thread's loop
    ) -> Recorder:
        recorder = self._pop(recorder_id)
        await recorder.stop_async(timeout)
        return recorder

    # -- snapshots ------------------------------------------------------------------------------
    def snapshots(self, timeout: float = 5.0) -> dict[str, RecorderSnapshot]:
        """Every recorder's snapshot, gathered in one trip to the loop (stale ones on timeout)."""
        recorders = self._all()
        try:
            return self._on_loop(partial(_gather, recorders), timeout, "the snapshots")
        except (TimeoutError, RuntimeClosedError) as exc:
            return {rid: _fallback(r, str(exc)) for rid, r in recorders.items()}

    async def snapshots_async(
        self,
        timeout: float = 5.0,  # noqa: ASYNC109 - bounds a wait on another thread's loop
    ) -> dict[str, RecorderSnapshot]:
        recorders = self._all()
        try:
            return await self._on_loop_async(partial(_gather, recorders), timeout, "the snapshots")
        except (TimeoutError, RuntimeClosedError) as exc:
            return {rid: _fallback(r, str(exc)) for rid, r in recorders.items()}

    # -- internals ------------------------------------------------------------------------------
    def _reserve(
        self,
        recorder_id: str,
        entity_id: str | None,
        queue_max_size: int | None,
        overflow_policy: OverflowPolicy | str | None,
        linger: float = 0.0,
    ) -> Callable[[], Recorder]:
        if not isinstance(recorder_id, str) or not recorder_id.strip():
            raise ValueError(f"recorder_id must be a non-empty string, got {recorder_id!r}")
        policy = parse_policy(recorder_id, overflow_policy or self._default_policy)
        make = partial(
            Recorder,
            recorder_id,
            entity_id=entity_id,
            namespace=self.namespace,
            queue_max_size=self._default_queue_max_size
            if queue_max_size is None
            else queue_max_size,
            overflow_policy=policy,
            batch_size=self._default_batch_size,
            clock=self._clock,
            linger=linger,
        )
        with self._lock:
            self._require_running()
            if recorder_id in self._recorders or recorder_id in self._creating:
                raise RecorderExistsError(recorder_id)
            self._creating.add(recorder_id)
        return lambda: make().start()

    def _register(self, recorder: Recorder) -> Recorder:
        with self._lock:
            self._recorders[recorder.recorder_id] = recorder
        return recorder

    def _release(self, recorder_id: str) -> None:
        with self._lock:
            self._creating.discard(recorder_id)

    def _pop(self, recorder_id: str) -> Recorder:
        with self._lock:
            recorder = self._recorders.pop(recorder_id, None)
            if recorder is None:
                raise RecorderNotFoundError(recorder_id, tuple(self._recorders))
            return recorder

    def _all(self) -> dict[str, Recorder]:
        with self._lock:
            return dict(self._recorders)

    def _require_running(self) -> None:
        if self._state is not MetricsRuntimeState.RUNNING:
            raise MetricsStateError(
                f"metrics runtime {self.namespace!r} is {self._state}; start() it first"
                if self._state is MetricsRuntimeState.NEW
                else f"metrics runtime {self.namespace!r} is {self._state}"
            )

    def _on_loop(self, fn: Callable[[], T], timeout: float, what: str) -> T:
        check_timeout(timeout)
        if self._runtime.in_loop_thread():
            return fn()
        future = self._runtime.submit(fn)
        try:
            return future.result(timeout)
        except TimeoutError:
            # Not cancelled: the work is harmless when it runs late (a snapshot, a stop, an
            # unregistered recorder), and cancelling a Runtime task before it starts leaves it
            # counted in flight, which would stall the runtime's shutdown.
            raise TimeoutError(
                f"metrics runtime {self.namespace!r}: its loop did not run {what} within "
                f"{timeout} s"
            ) from None

    async def _on_loop_async(
        self,
        fn: Callable[[], T],
        timeout: float,  # noqa: ASYNC109 - bounds a wait on another thread's loop
        what: str,
    ) -> T:
        check_timeout(timeout)
        if self._runtime.in_loop_thread():
            return fn()
        future = self._runtime.submit(fn)
        with anyio.move_on_after(timeout):
            return await future
        raise TimeoutError(  # not cancelled: see _on_loop
            f"metrics runtime {self.namespace!r}: its loop did not run {what} within {timeout} s"
        )

    def __repr__(self) -> str:
        return f"<MetricsRuntime {self.namespace!r} {self._state} recorders={len(self._recorders)}>"


def _stop_all(recorders: list[Recorder], deadline: float) -> None:
    for recorder in recorders:
        if recorder._begin_stop():
            recorder._finish_stop(deadline)


def _gather(recorders: dict[str, Recorder]) -> dict[str, RecorderSnapshot]:
    return {rid: recorder.get_metric_snapshots() for rid, recorder in recorders.items()}


def _fallback(recorder: Recorder, why: str) -> RecorderSnapshot:
    if recorder.state == "stopped":
        return recorder.get_metric_snapshots()
    return stale(recorder, why)
