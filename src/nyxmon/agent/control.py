"""Driving a running agent from outside it: commands, live statuses, "run this check now".

The web plane and tests use this seam. Every call hands work to the thread that owns it (the
dispatcher for commands and statuses, the runtime loop for the scheduler) and waits with a
timeout; the ``_async`` twins wait without blocking the caller's event loop.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import partial
from typing import Any, TypeVar

import anyio
import anyio.to_thread

from nyxmon.agent.intake import ResultIntake
from nyxmon.agent.scheduler import Scheduler
from nyxmon.domain.model import Result
from nyxmon.domain.push import PUSH_TYPE, Ping
from nyxmon.domain.status import CheckStatus
from nyxmon.errors import CheckNotFoundError, ConflictError
from nyxmon.runtime import Dispatcher, OneShot, Runtime
from nyxmon.service_layer.application import Application
from nyxmon.service_layer.messages import Command, RecordPing
from nyxmon.service_layer.storage import StoreReader

__all__ = ["AgentControl"]

T = TypeVar("T")


class AgentControl:
    """Commands and reads for a running agent, safe from any thread."""

    def __init__(
        self,
        app: Application,
        dispatcher: Dispatcher,
        runtime: Runtime,
        scheduler: Scheduler,
        intake: ResultIntake,
        store: StoreReader,
    ) -> None:
        self._app = app
        self._dispatcher = dispatcher
        self._runtime = runtime
        self._scheduler = scheduler
        self._intake = intake
        self._store = store

    def command(self, command: Command, timeout: float = 30.0) -> Any:
        """Handle ``command`` on the dispatcher thread and wait for its outcome."""
        reply = self._dispatcher.submit(self._app.handle, command).wait(timeout)
        if isinstance(reply, OneShot):
            return reply.wait(timeout)
        return reply

    async def command_async(self, command: Command, timeout: float = 30.0) -> Any:  # noqa: ASYNC109
        """:meth:`command` for async callers on any loop (the web plane): never blocks it."""
        with anyio.fail_after(timeout):
            reply = await self._dispatcher.submit(self._app.handle, command)
            if isinstance(reply, OneShot):
                return await reply.wait_async()
            return reply

    async def ping_async(self, ping: Ping, timeout: float = 10.0) -> str:  # noqa: ASYNC109
        """Record a ping (from any loop); returns its check's id once the ping is durable.
        Raises PingKeyNotFoundError for an unknown key, TimeoutError after ``timeout``."""
        cell: OneShot[str] = OneShot()
        with anyio.fail_after(timeout):
            # One hop there, one wake-up back: the dispatcher chains the command's own reply
            # (resolved once the ping committed) into ``cell``, instead of this loop waiting
            # for the submit and then for the reply (half the cross-thread wake-ups).
            self._dispatcher.submit(self._record_ping, ping, cell)
            return await cell.wait_async()

    def record_pings(
        self,
        pings: Sequence[tuple[T, Ping]],
        answer: Callable[[T, str | None, BaseException | None], None],
    ) -> None:
        """Record many pings (from any thread) in one hop to the dispatcher: the pings of one
        read of the control socket. ``answer(token, check_id, None)`` runs on the dispatcher
        thread for each ping once it is durable, ``answer(token, None, error)`` for one that is
        refused (PingKeyNotFoundError for an unknown key). Raises if the dispatcher stopped."""
        self._dispatcher.submit(self._record_pings, pings, answer)

    def _record_pings(
        self,
        pings: Sequence[tuple[T, Ping]],
        answer: Callable[[T, str | None, BaseException | None], None],
    ) -> None:  # dispatcher thread
        handle = self._app.handle
        for token, ping in pings:
            try:
                reply = handle(RecordPing(ping))
            except Exception as exc:  # an unknown key: the answer, not a failure
                answer(token, None, exc)
                continue
            reply.add_done_callback(partial(_answer, answer, token))

    def _record_ping(self, ping: Ping, cell: OneShot[str]) -> None:  # dispatcher thread
        try:
            reply = self._app.handle(RecordPing(ping))
        except Exception as exc:  # an unknown key: the answer, not a failure
            cell.set_exception(exc)
            return
        reply.add_done_callback(lambda done: _forward(done, cell))

    def call_on_dispatcher(self, fn: Callable[..., Any], *args: Any, timeout: float = 5.0) -> Any:
        return self._dispatcher.submit(fn, *args).wait(timeout)

    def statuses(self, timeout: float = 5.0) -> Mapping[str, CheckStatus]:
        """Every check's live status (a copy taken on the dispatcher thread)."""
        snapshot: Mapping[str, CheckStatus] = self.call_on_dispatcher(
            self._app.statuses, timeout=timeout
        )
        return snapshot

    async def statuses_async(self, timeout: float = 5.0) -> Mapping[str, CheckStatus]:  # noqa: ASYNC109
        with anyio.fail_after(timeout):
            snapshot: Mapping[str, CheckStatus] = await self._dispatcher.submit(self._app.statuses)
        return snapshot

    async def run_check_now(self, check_id: str, timeout: float = 30.0) -> Result:  # noqa: ASYNC109
        """Run a check now (from any loop) and return its result, which is also recorded as
        usual. A check already running answers with that run; never two at once.

        Raises CheckNotFoundError for an unknown check, ConflictError for a paused or disabled
        one, TimeoutError after ``timeout``.
        """
        cell: OneShot[Result | None] = OneShot()

        def answer(result: Result | None) -> None:  # runtime loop, right after the sink
            if result is None:
                cell.set_result(None)
                return
            # Answer only once the application has applied the result (dispatcher FIFO), so
            # a status read right after run-now already shows it.
            self._intake.hand_over()
            self._dispatcher.submit(cell.set_result, result)

        def start() -> None:  # on the runtime loop: no store reads here
            if not self._scheduler.run_now(check_id, answer):
                cell.set_exception(LookupError(check_id))

        with anyio.fail_after(timeout):
            self._runtime.run_sync_soon(start)
            try:
                result = await cell.wait_async()
            except LookupError:
                raise await anyio.to_thread.run_sync(self._why_not_scheduled, check_id) from None
        if result is None:
            raise ConflictError(f"check {check_id!r} was removed or the agent is stopping")
        return result

    def _why_not_scheduled(self, check_id: str) -> Exception:
        check = self._store.get_check(check_id)
        if check is None:
            return CheckNotFoundError(check_id)
        if not check.active:
            return ConflictError(f"check {check_id!r} is paused or disabled; resume it to run it")
        if check.type == PUSH_TYPE:
            return ConflictError(
                f"check {check_id!r} is a push check: it is not probed, it waits for pings"
            )
        return ConflictError(f"check {check_id!r} is not scheduled yet; try again in a moment")


def _answer(
    answer: Callable[[T, str | None, BaseException | None], None], token: T, done: OneShot[str]
) -> None:
    error = done.exception()
    if error is None:
        answer(token, done.outcome(), None)
    else:
        answer(token, None, error)


def _forward(done: OneShot[str], cell: OneShot[str]) -> None:
    try:
        cell.set_result(done.outcome())
    except Exception as exc:
        cell.set_exception(exc)
