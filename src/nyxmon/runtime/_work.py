"""Units of work handed to a Runtime, and the handles callers hold for them."""

from __future__ import annotations

import concurrent.futures
import contextlib
import enum
from collections.abc import Callable, Generator
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import anyio

from ._bridge import thread_safe_waker
from ._oneshot import OneShot
from .errors import DeadlockError, DiscardedError

if TYPE_CHECKING:
    from .loop_thread import Runtime

__all__ = ["RuntimeFuture", "SpawnedTask", "Work", "WorkKind"]

T = TypeVar("T")


class WorkKind(enum.Enum):
    CALL = "call"
    SUBMIT = "submit"
    SPAWN = "spawn"
    SOON = "soon"


class _Cancellable(Protocol):
    def cancel(self) -> Any: ...


class _Sink(Protocol):
    def set_result(self, value: Any) -> Any: ...
    def set_exception(self, exc: BaseException) -> Any: ...


class Work:
    """One handed-over callable; ``task`` is set on the loop thread once it starts."""

    __slots__ = ("args", "cancel_requested", "fn", "kind", "name", "sink", "task")

    def __init__(
        self,
        kind: WorkKind,
        fn: Callable[..., Any],
        args: tuple[Any, ...],
        sink: _Sink | None,
        name: str | None,
    ) -> None:
        self.kind = kind
        self.fn = fn
        self.args = args
        self.sink = sink
        self.name = name
        self.cancel_requested = False
        self.task: _Cancellable | None = None

    def settle_result(self, value: Any) -> None:
        if self.sink is not None:
            with contextlib.suppress(concurrent.futures.InvalidStateError):
                self.sink.set_result(value)

    def settle_error(self, exc: BaseException) -> None:
        if self.sink is not None:
            with contextlib.suppress(concurrent.futures.InvalidStateError):
                self.sink.set_exception(exc)

    def settle_cancelled(self) -> None:
        self.settle_error(DiscardedError(f"{self.kind.value} {self.name or ''} was cancelled"))

    def discard(self, why: str) -> None:
        self.settle_error(DiscardedError(why))


class RuntimeFuture(concurrent.futures.Future[T]):
    """A ``concurrent.futures.Future`` whose ``cancel()`` cancels the task on the runtime loop.

    It never enters the RUNNING state, so ``cancel()`` succeeds until the task has finished.
    Waiting on it from the runtime's own loop thread raises :class:`DeadlockError`; awaiting it
    from async code (any asyncio, uvloop or trio loop) does not block that loop.
    """

    def __init__(self, runtime: Runtime) -> None:
        super().__init__()
        self._runtime = runtime
        self._work: Work | None = None

    def cancel(self) -> bool:
        if self.done() and not self.cancelled():
            return False
        if not super().cancel():
            return False
        if self._work is not None:
            self._runtime._request_cancel(self._work)
        return True

    def result(self, timeout: float | None = None) -> T:
        self._guard("result")
        return super().result(timeout)

    def exception(self, timeout: float | None = None) -> BaseException | None:
        self._guard("exception")
        return super().exception(timeout)

    def _guard(self, method: str) -> None:
        if not self.done() and self._runtime.in_loop_thread():
            raise DeadlockError(
                f"RuntimeFuture.{method}() was called on runtime {self._runtime.name!r}'s own loop "
                "thread before the task finished; await the future instead"
            )

    def __await__(self) -> Generator[Any, None, T]:
        return self._wait_async().__await__()

    async def _wait_async(self) -> T:
        if not self.done():
            event = anyio.Event()
            waker = thread_safe_waker()

            def wake(_: concurrent.futures.Future[T]) -> None:
                with contextlib.suppress(RuntimeError):
                    waker(event.set)

            self.add_done_callback(wake)
            await event.wait()
        return self.result()


class SpawnedTask:
    """A handle on a background task started with :meth:`Runtime.spawn`."""

    __slots__ = ("_cell", "_runtime", "_work", "name")

    def __init__(self, runtime: Runtime, name: str) -> None:
        self.name = name
        self._runtime = runtime
        self._cell: OneShot[Any] = OneShot(guard=partial_guard(runtime, "SpawnedTask.wait"))
        self._work: Work | None = None

    def set_result(self, value: Any) -> None:
        self._cell.set_result(value)

    def set_exception(self, exc: BaseException) -> None:
        self._cell.set_exception(exc)

    def cancel(self) -> None:
        """Ask the runtime to cancel the task (no-op once it has finished)."""
        if self._work is not None and not self._cell.done():
            self._runtime._request_cancel(self._work)

    def done(self) -> bool:
        return self._cell.done()

    def wait(self, timeout: float | None = None) -> Any:
        """Block until the task ends; return its result or raise its error."""
        return self._cell.wait(timeout)

    def __await__(self) -> Generator[Any, None, Any]:
        return self._cell.wait_async().__await__()

    def __repr__(self) -> str:
        return f"<SpawnedTask {self.name!r} {'done' if self.done() else 'running'}>"


def partial_guard(runtime: Runtime, method: str) -> Callable[[], None]:
    """A OneShot guard that refuses to block ``runtime``'s own loop thread."""

    def guard() -> None:
        if runtime.in_loop_thread():
            raise DeadlockError(
                f"{method}() was called on runtime {runtime.name!r}'s own loop thread; "
                "await it instead"
            )

    return guard
