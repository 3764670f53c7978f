"""Running a batch of checks and handing each result over the moment it exists (seed 001).

The original runner collected a batch's results and returned them together, so one slow check
held back every other result. :class:`AsyncCheckRunner` runs up to ``limit`` checks at a time
and calls ``result_received`` for each result as soon as it is produced; callbacks run one at a
time, in the order results arrive. Each batch gets its own registry, so executors and the HTTP
session exist only if the batch needs them, and are closed when the batch ends, however it ends.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import time
from collections.abc import Awaitable, Callable, Collection, Iterable, Iterator
from typing import Any, Protocol, TypeVar

import anyio
import anyio.to_thread
from anyio.abc import ObjectSendStream

from nyxmon.domain.model import Check, Outcome, Result
from nyxmon.errors import UnknownCheckTypeError
from nyxmon.probes.base import on_asyncio
from nyxmon.probes.registry import ExecutorRegistry, builtin_registry

__all__ = [
    "AsyncCheckRunner",
    "PortalLike",
    "ProbeRunner",
    "ResultCallback",
    "SyncCheckRunner",
]

logger = logging.getLogger(__name__)

T = TypeVar("T")
ResultCallback = Callable[[Result], Awaitable[object] | object]

#: Extra time an executor gets past the check's timeout before the runner gives up on it;
#: executors enforce the timeout themselves, this only catches one that does not.
TIMEOUT_GRACE = 1.0


class PortalLike(Protocol):
    """Anything that runs a coroutine function on a loop and blocks for its result.

    ``anyio.from_thread.BlockingPortal`` and NyxMon's runtime both fit.
    """

    def call(self, func: Callable[..., Awaitable[T]], /, *args: Any) -> T: ...


def _error_result(check: Check, scheduled_at: float, started: float, message: str) -> Result:
    return Result(
        check_id=check.id,
        scheduled_at=scheduled_at,
        started_at=started,
        duration=0.0,
        outcome=Outcome.ERROR,
        message=message,
    )


class ProbeRunner:
    """Runs one check with an executor from ``registry`` and always returns a result.

    The one place that makes a run safe, for the agent's scheduler and for batches alike: an
    unknown type, an executor that raises and one that ignores its timeout each become an
    error or timeout result instead of an exception.
    """

    def __init__(
        self, registry: ExecutorRegistry, *, clock: Callable[[], float] = time.time
    ) -> None:
        self.registry = registry
        self._clock = clock

    async def run(self, check: Check, scheduled_at: float) -> Result:
        try:
            executor = self.registry.get(check.type)
        except UnknownCheckTypeError as exc:
            return _error_result(check, scheduled_at, self._clock(), f"check {check.id!r}: {exc}")
        started = self._clock()
        try:
            if getattr(executor, "enforces_timeout", False):
                # Built-in executors stop at the check's timeout themselves: a second timer
                # per run costs a few percent of a probe's CPU flat out.
                return await executor.execute(check, scheduled_at)
            if on_asyncio():
                # asyncio.timeout is several times cheaper than an anyio cancel scope (which
                # looks up the backend on every call); at thousands of probes/s it shows.
                guard = asyncio.timeout(check.timeout + TIMEOUT_GRACE)
                try:
                    async with guard:
                        return await executor.execute(check, scheduled_at)
                except TimeoutError:
                    if not guard.expired():
                        raise
            else:
                with anyio.move_on_after(check.timeout + TIMEOUT_GRACE):
                    return await executor.execute(check, scheduled_at)
        except Exception as exc:
            logger.exception("the %r executor raised for check %r", check.type, check.id)
            return _error_result(
                check, scheduled_at, started, f"{check.type} executor failed: {exc!r}"
            )
        return Result(
            check_id=check.id,
            scheduled_at=scheduled_at,
            started_at=started,
            duration=self._clock() - started,
            outcome=Outcome.TIMEOUT,
            message=f"the {check.type} executor ignored the {check.timeout:g} s timeout",
        )

    async def aclose(self) -> None:
        """Close every executor the registry created."""
        await self.registry.aclose_all()


class AsyncCheckRunner:
    """Runs batches of checks concurrently; results stream to a callback as they complete.

    ``registry_factory`` builds the registry of each batch (the default registry unless a test
    or an embedder brings its own types); ``limit`` bounds how many checks run at once.
    """

    def __init__(
        self,
        registry_factory: Callable[[], ExecutorRegistry] = builtin_registry,
        *,
        limit: int = 100,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if limit < 1:
            raise ValueError(f"limit must be at least 1, not {limit}")
        self._registry_factory = registry_factory
        self._limit = limit
        self._clock = clock

    async def run_all(
        self,
        checks: Iterable[Check],
        result_received: ResultCallback,
        *,
        scheduled_at: float | None = None,
    ) -> int:
        """Run every check and call ``result_received(result)`` as each result exists.

        ``result_received`` may be sync or async; it is called once per check, never
        concurrently with itself. A sync callback runs on the event loop, so it must be
        quick (:class:`SyncCheckRunner` moves blocking callbacks to a worker thread). An
        exception from the callback stops the batch and propagates; executors are closed in
        every case. Returns how many results were delivered.
        """
        due = self._clock() if scheduled_at is None else scheduled_at
        runner = ProbeRunner(self._registry_factory(), clock=self._clock)
        pending: Iterator[Check] = iter(checks)
        workers = self._limit
        if isinstance(checks, Collection):
            workers = max(1, min(workers, len(checks)))
        send, receive = anyio.create_memory_object_stream[Result](max_buffer_size=self._limit)
        delivered = 0
        failure: BaseException | None = None

        async def work(results: ObjectSendStream[Result]) -> None:
            async with results:
                for check in pending:
                    await results.send(await runner.run(check, due))

        try:
            async with anyio.create_task_group() as group:
                async with send:
                    for _ in range(workers):
                        group.start_soon(work, send.clone())
                async with receive:
                    async for result in receive:
                        try:
                            outcome = result_received(result)
                            if inspect.isawaitable(outcome):
                                await outcome
                        except Exception as exc:
                            failure = exc
                            group.cancel_scope.cancel()
                            break
                        delivered += 1
        finally:
            with anyio.CancelScope(shield=True):
                await runner.aclose()
        if failure is not None:
            raise failure
        return delivered


class SyncCheckRunner:
    """The runner for synchronous callers: blocks until the batch is done.

    The batch runs on the portal's event loop; ``result_received`` is called in a worker
    thread (one result at a time, as each arrives) so it may block, on a database write for
    instance, without stalling the probes.
    """

    def __init__(self, portal: PortalLike, runner: AsyncCheckRunner | None = None) -> None:
        self._portal = portal
        self._runner = runner or AsyncCheckRunner()

    def run_all(
        self,
        checks: Iterable[Check],
        result_received: Callable[[Result], object],
        *,
        scheduled_at: float | None = None,
    ) -> int:
        """Run ``checks``; call ``result_received`` for each result as it arrives."""

        async def deliver(result: Result) -> None:
            await anyio.to_thread.run_sync(result_received, result)

        async def run(batch: list[Check]) -> int:
            return await self._runner.run_all(batch, deliver, scheduled_at=scheduled_at)

        return self._portal.call(run, list(checks))
