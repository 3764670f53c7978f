"""An asyncio event loop on virtual time, for exact and instant timing tests.

:class:`VirtualClockLoop` is a plain :class:`asyncio.SelectorEventLoop` whose :meth:`time` is
virtual. Whenever the loop has nothing to run and would sleep until its next timer, virtual
time jumps straight to that timer instead (what trio's ``MockClock(autojump_threshold=0)``
does), so ``await asyncio.sleep(1000)`` returns at once and ``loop.time()`` then reads exactly
1000 s later. Everything else is the stock loop: tasks, ``call_soon``, ``call_later``,
cancellation and real I/O readiness (the self-pipe behind ``call_soon_threadsafe``, sockets)
work as usual, which is the point: tests exercise the same asyncio machinery as production.

Rules:

- Ready I/O always wins: before time jumps, the selector is polled without waiting.
- Time only jumps when the loop is otherwise idle, so real I/O that takes real time (a thread,
  a socket) races with virtual timeouts and loses; use it for timer-driven code.
- If the loop would sleep with no timer at all, it waits up to ``idle_timeout`` real seconds
  for I/O (a worker thread finishing, say) and then raises :class:`VirtualClockDeadlock`
  instead of hanging.

With anyio's pytest plugin::

    @pytest.fixture
    def anyio_backend():
        return ("asyncio", {"loop_factory": VirtualClockLoop})
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import selectors
from collections.abc import Callable
from typing import Any

__all__ = ["VirtualClockDeadlock", "VirtualClockLoop"]


class VirtualClockDeadlock(RuntimeError):
    """The loop would sleep forever: nothing ready, no timer, no I/O."""


class _JumpingSelector(selectors.DefaultSelector):
    """The platform's selector, except that an idle wait for a timer jumps virtual time."""

    def __init__(self, on_idle: Callable[[float | None], list[Any]]) -> None:
        super().__init__()
        self._on_idle = on_idle

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        ready = super().select(0)  # real readiness first, never a real wait here
        if ready or (timeout is not None and timeout <= 0):
            return ready
        return self._on_idle(timeout)

    def wait(self, timeout: float) -> list[tuple[selectors.SelectorKey, int]]:
        return super().select(timeout)


class VirtualClockLoop(asyncio.SelectorEventLoop):
    """A selector event loop whose clock is virtual and jumps to the next timer when idle."""

    def __init__(self, *, start: float = 0.0, idle_timeout: float = 5.0) -> None:
        self._virtual_now = start
        self._idle_timeout = idle_timeout
        # Our own view of the pending timers (public API only): (when, seq, handle).
        self._timers: list[tuple[float, int, asyncio.TimerHandle]] = []
        self._timer_seq = itertools.count()
        self._jumping_selector = _JumpingSelector(self._idle)
        super().__init__(self._jumping_selector)

    def time(self) -> float:
        return self._virtual_now

    def call_at(  # type: ignore[override]  # same signature as the base; typeshed differs
        self, when: float, callback: Callable[..., object], *args: Any, context: Any = None
    ) -> asyncio.TimerHandle:
        handle = super().call_at(when, callback, *args, context=context)
        heapq.heappush(self._timers, (handle.when(), next(self._timer_seq), handle))
        return handle

    def advance(self, seconds: float) -> None:
        """Move virtual time forward by ``seconds`` (timers due by then run on the next pass)."""
        if seconds < 0:
            raise ValueError(f"time cannot go backwards: {seconds}")
        self._virtual_now += seconds

    def _next_timer(self) -> float | None:
        timers = self._timers
        # The loop calls the selector only once every timer due by now has been moved to its
        # ready queue, so entries at or before now are spent; cancelled ones are dead.
        while timers and (timers[0][0] <= self._virtual_now or timers[0][2].cancelled()):
            heapq.heappop(timers)
        return timers[0][0] if timers else None

    def _idle(self, timeout: float | None) -> list[Any]:
        """Nothing to run and no I/O ready: jump to the next timer, or detect a deadlock."""
        if timeout is not None:
            when = self._next_timer()
            self._virtual_now = when if when is not None else self._virtual_now + timeout
            return []
        ready = self._jumping_selector.wait(self._idle_timeout)
        if ready:
            return ready
        raise VirtualClockDeadlock(
            f"the event loop would sleep forever at virtual time {self._virtual_now}: no "
            f"callback ready, no timer scheduled and no I/O within {self._idle_timeout} s "
            "(a task waits for something that never happens)"
        )

    def close(self) -> None:
        self._timers.clear()
        super().close()
