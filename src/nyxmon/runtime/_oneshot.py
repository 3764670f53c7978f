"""A result cell set once from any thread, waited on from sync code or awaited from async code.

It backs Runtime.call waiters, Dispatcher completions and OffloadPool handles, so the three share
one set of semantics: first settle wins, waiters never hang past a timeout, async waiters are woken
through their own loop's thread-safe entry point.
"""

from __future__ import annotations

import _thread
import contextlib
import time
from collections.abc import Callable, Generator
from typing import Any, Generic, TypeVar

import anyio

from ._bridge import thread_safe_waker

__all__ = ["OneShot"]

T = TypeVar("T")

_PENDING, _RESULT, _ERROR = 0, 1, 2
# One process-wide lock makes "first settle wins" atomic; it is held for a few bytecodes only.
_SETTLE = _thread.allocate_lock()


class OneShot(Generic[T]):
    """A write-once result. ``guard`` (if given) runs before a blocking wait and may raise
    ``DeadlockError`` when the waiting thread is the one that would have to settle it."""

    __slots__ = ("_callbacks", "_done", "_guard", "_state", "_value")

    def __init__(self, guard: Callable[[], None] | None = None) -> None:
        self._done = _thread.allocate_lock()
        self._done.acquire()
        self._state = _PENDING
        self._value: Any = None
        self._callbacks: list[Callable[[OneShot[T]], None]] | None = None
        self._guard = guard

    # -- settling (any thread) -------------------------------------------------------------
    def set_result(self, value: T) -> bool:
        return self._settle(_RESULT, value)

    def set_exception(self, exc: BaseException) -> bool:
        return self._settle(_ERROR, exc)

    def _settle(self, state: int, value: Any) -> bool:
        with _SETTLE:
            if self._state != _PENDING:
                return False
            self._state = state
            self._value = value
            callbacks, self._callbacks = self._callbacks, None
        self._done.release()
        if callbacks:
            for callback in callbacks:
                callback(self)
        return True

    # -- inspecting -----------------------------------------------------------------------
    def done(self) -> bool:
        return self._state != _PENDING

    def exception(self) -> BaseException | None:
        """The stored exception once done (``None`` for a result); raises if still pending."""
        if self._state == _PENDING:
            raise RuntimeError("OneShot is not settled yet")
        return self._value if self._state == _ERROR else None

    def outcome(self) -> T:
        """The result, or raise the stored exception; raises ``RuntimeError`` if pending."""
        state = self._state
        if state == _RESULT:
            return self._value  # type: ignore[no-any-return]
        if state == _ERROR:
            raise self._value
        raise RuntimeError("OneShot is not settled yet")

    def add_done_callback(self, callback: Callable[[OneShot[T]], None]) -> None:
        """Call ``callback(self)`` once settled, in the settling thread (now, if already done)."""
        with _SETTLE:
            if self._state == _PENDING:
                if self._callbacks is None:
                    self._callbacks = []
                self._callbacks.append(callback)
                return
        callback(self)

    def remove_done_callback(self, callback: Callable[[OneShot[T]], None]) -> None:
        with _SETTLE:
            if self._callbacks and callback in self._callbacks:
                self._callbacks.remove(callback)

    # -- waiting --------------------------------------------------------------------------
    def wait_done(self, timeout: float | None = None) -> bool:
        """Block until settled or ``timeout`` passes; return whether it is settled."""
        if self._state == _PENDING:
            if self._guard is not None:
                self._guard()
            if not self._done.acquire(timeout=-1 if timeout is None else max(0.0, timeout)):
                return False
            self._done.release()  # let any other waiter through too
        return True

    def wait(self, timeout: float | None = None) -> T:
        """Block until settled and return the result (or raise the error).

        Raises ``TimeoutError`` after ``timeout`` seconds; the cell stays pending.
        """
        if not self.wait_done(timeout):
            raise TimeoutError(f"no result within {timeout} s")
        return self.outcome()

    def wait_until(self, deadline: float | None) -> T:
        """Like :meth:`wait` with an absolute ``time.monotonic()`` deadline."""
        return self.wait(None if deadline is None else deadline - time.monotonic())

    async def wait_async(self) -> T:
        """Await the result without blocking the awaiting loop (asyncio, uvloop or trio)."""
        if self._state == _PENDING:
            event = anyio.Event()
            waker = thread_safe_waker()

            def wake(_: OneShot[T]) -> None:
                with contextlib.suppress(RuntimeError):  # the awaiting loop is gone
                    waker(event.set)

            self.add_done_callback(wake)
            try:
                await event.wait()
            finally:
                self.remove_done_callback(wake)
        return self.outcome()

    def __await__(self) -> Generator[Any, None, T]:
        return self.wait_async().__await__()
