"""The push checks' deadline timers, on the runtime loop (a timer, not a poll).

One task sleeps until the earliest deadline of all push checks and then hands
``PushDeadline(check_id, at)`` to the application, which asks the check's tracker what passed
(a ping may have moved the deadline meanwhile: then nothing did). A silent job is therefore
DOWN within the loop's timer precision of its deadline plus grace, whatever the number of
push checks, and no CPU is spent between deadlines.

:meth:`DeadlineTimers.arm` is called on the dispatcher thread for every ping (each moves its
check's deadline), thousands of times a second under load. So it only records the new time
under a lock, and wakes the loop only when that time is earlier than the one the loop sleeps
until; the loop takes the recorded times when it wakes anyway. Old heap entries are skipped
when they come up (a generation check), and the heap is rebuilt when they outnumber the live
ones.
"""

from __future__ import annotations

import heapq
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import anyio

from nyxmon.runtime import Runtime
from nyxmon.service_layer.messages import PushDeadline

__all__ = ["DeadlineStatistics", "DeadlineTimers"]

_DISARMED = math.inf


@dataclass(frozen=True, slots=True)
class DeadlineStatistics:
    armed: int
    fired: int
    wakeups: int


class DeadlineTimers:
    """The application's :class:`~nyxmon.service_layer.ports.DeadlineTimer`; :meth:`run` is
    the loop task (owned by the agent's upkeep task group)."""

    def __init__(
        self,
        runtime: Runtime,
        fire: Callable[[PushDeadline], object],
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._runtime = runtime
        self._fire = fire
        self._clock = clock
        self._lock = threading.Lock()
        self._pending: dict[str, float] = {}
        # What the loop sleeps until; -inf while it is not sleeping (it will look at _pending).
        self._next_wake = -math.inf
        self._wake: anyio.Event | None = None
        self._at: dict[str, float] = {}
        self._heap: list[tuple[float, str]] = []
        self._fired = 0
        self._wakeups = 0

    # -- the port (dispatcher thread, or any) ---------------------------------------------------
    def arm(self, check_id: str, at: float) -> None:
        self._set(check_id, at)

    def disarm(self, check_id: str) -> None:
        self._set(check_id, _DISARMED)

    def _set(self, check_id: str, at: float) -> None:
        with self._lock:
            self._pending[check_id] = at
            wake = at < self._next_wake
            if wake:
                self._next_wake = -math.inf  # one wake-up is enough
        if wake and self._runtime.running:
            self._runtime.run_sync_soon(self._set_wake)

    def statistics(self) -> DeadlineStatistics:
        return DeadlineStatistics(len(self._at), self._fired, self._wakeups)

    # -- the loop ------------------------------------------------------------------------------
    def _set_wake(self) -> None:
        if self._wake is not None:
            self._wake.set()

    async def run(self) -> None:
        """Fire deadlines as they come, forever (cancelled by the agent's stop)."""
        try:
            while True:
                self._take_pending()
                self._fire_due(self._clock())
                next_at = self._earliest()
                self._wake = anyio.Event()
                with self._lock:
                    if self._pending:
                        continue  # armed while we looked: take it first
                    self._next_wake = next_at
                delay = next_at - self._clock()
                if delay > 0:
                    # Sleeps are on the monotonic clock, deadlines on the wall clock: waking at
                    # least once a minute bounds how late a wall-clock step can make one.
                    with anyio.move_on_after(min(delay, 60.0)):
                        await self._wake.wait()
                self._wakeups += 1
                with self._lock:
                    self._next_wake = -math.inf
        finally:
            with self._lock:
                self._next_wake = -math.inf

    def _take_pending(self) -> None:
        with self._lock:
            pending, self._pending = self._pending, {}
        for check_id, at in pending.items():
            if at == _DISARMED:
                self._at.pop(check_id, None)
                continue
            if self._at.get(check_id) != at:
                self._at[check_id] = at
                heapq.heappush(self._heap, (at, check_id))
        if len(self._heap) > 2 * len(self._at) + 1024:
            self._heap = [(at, cid) for cid, at in self._at.items()]
            heapq.heapify(self._heap)

    def _fire_due(self, now: float) -> None:
        heap = self._heap
        while heap and heap[0][0] <= now:
            at, check_id = heapq.heappop(heap)
            if self._at.get(check_id) != at:
                continue  # moved or disarmed since
            del self._at[check_id]
            self._fired += 1
            self._fire(PushDeadline(check_id, at))

    def _earliest(self) -> float:
        heap = self._heap
        while heap and self._at.get(heap[0][1]) != heap[0][0]:
            heapq.heappop(heap)
        return heap[0][0] if heap else math.inf
