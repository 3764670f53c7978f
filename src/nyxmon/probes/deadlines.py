"""Many probes' deadlines on one loop timer.

Every run of a check has a deadline (its timeout; a ping's reply wait), and nearly every run
ends long before it. A loop timer per run (``call_later`` and its ``cancel``) costs about a
microsecond and a half on uvloop, a tenth of a cheap probe's own Python. :class:`Deadlines`
keeps them in one heap instead, with a single loop timer set for the earliest: setting one is
a heap push, clearing one marks it dead. Dead entries are dropped when they reach the top or,
once they outnumber the live ones, all at once, so the heap holds about the runs in flight.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import math
from collections.abc import Callable
from typing import Any

__all__ = ["Alarm", "Deadlines"]

#: uvloop keeps time and timers in whole milliseconds: an alarm due within one is due.
_SLACK = 0.001
#: Dead entries kept before the heap is rebuilt of the live ones (and more than half of it).
_DEAD_LIMIT = 1024


class Alarm:
    """One deadline: ``callback(arg)`` at ``when`` (loop time) unless cleared before."""

    __slots__ = ("arg", "callback", "live", "when")

    def __init__(self, when: float, callback: Callable[[Any], object], arg: Any) -> None:
        self.when = when
        self.callback = callback
        self.arg = arg
        self.live = True


class Deadlines:
    """The alarms of one event loop, served by one timer of that loop."""

    __slots__ = ("_armed", "_count", "_dead", "_heap", "_timer", "loop")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        #: (when, order of setting, alarm): tuples compare in C, the order breaks ties.
        self._heap: list[tuple[float, int, Alarm]] = []
        self._count = itertools.count()
        self._timer: asyncio.TimerHandle | None = None
        self._armed = math.inf
        self._dead = 0

    def set(self, delay: float, callback: Callable[[Any], object], arg: Any) -> Alarm:
        """Call ``callback(arg)`` in ``delay`` seconds, unless :meth:`clear` comes first."""
        when = self.loop.time() + delay
        alarm = Alarm(when, callback, arg)
        heapq.heappush(self._heap, (when, next(self._count), alarm))
        if when < self._armed:
            self._arm(when)
        return alarm

    def clear(self, alarm: Alarm) -> None:
        """The alarm will not go off (no-op when it did already)."""
        if not alarm.live:
            return
        alarm.live = False
        alarm.arg = None  # what it would have woken may go now
        self._dead += 1
        heap = self._heap
        if self._dead > _DEAD_LIMIT and self._dead * 2 > len(heap):
            heap[:] = [entry for entry in heap if entry[2].live]
            heapq.heapify(heap)
            self._dead = 0

    def __len__(self) -> int:
        """Alarms that may still go off."""
        return len(self._heap) - self._dead

    def _arm(self, when: float) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._armed = when
        self._timer = self.loop.call_at(when, self._fire)

    def _fire(self) -> None:
        self._timer = None
        self._armed = math.inf
        heap = self._heap
        due = self.loop.time() + _SLACK
        while heap and heap[0][0] <= due:
            alarm = heapq.heappop(heap)[2]
            if not alarm.live:
                self._dead -= 1
                continue
            alarm.live = False
            try:
                alarm.callback(alarm.arg)
            except Exception as exc:  # the other alarms still go off
                self.loop.call_exception_handler(
                    {"message": "deadline callback failed", "exception": exc}
                )
        while heap and not heap[0][2].live:  # no wake-up for a run that has ended
            heapq.heappop(heap)
            self._dead -= 1
        if heap:
            self._arm(heap[0][0])
