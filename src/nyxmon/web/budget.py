"""A CPU budget for the web plane, so a hammered dashboard cannot slow the probes.

Both planes live in one process and share the GIL: a web thread that is always busy makes
the probe loop wait for the interpreter at every turn, and probe start lag climbs from
milliseconds to hundreds of them (measured: bench/web_under_load.py). So the web plane gets
a share of one CPU (``cpu_share``, default a quarter) as a token bucket: CPU time used by
the web loop thread and by its worker threads is charged against credit that refills at
``cpu_share`` seconds per second, up to ``burst`` seconds. While the credit is negative, new
requests wait before they start; requests already running finish. Under overload web
latency grows (requests queue) and the probes keep their schedule, which is the order of
importance for a monitor.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from typing import Any

__all__ = ["CpuBudget", "CpuBudgetMiddleware"]

Scope = dict[str, Any]
Receive = Callable[[], Any]
Send = Callable[[dict[str, Any]], Any]
ASGIApp = Callable[[Scope, Receive, Send], Any]


class CpuBudget:
    """Token bucket of CPU seconds: refills at ``share`` per second, holds at most ``burst``."""

    def __init__(
        self,
        share: float = 0.25,
        burst: float = 0.05,
        *,
        clock: Callable[[], float] = time.monotonic,
        loop_cpu: Callable[[], float] = time.thread_time,
    ) -> None:
        if not 0 < share <= 64:
            raise ValueError(f"cpu_share must be > 0 (a fraction of one CPU), got {share}")
        self.share = share
        self.burst = burst
        self._clock = clock
        self._loop_cpu = loop_cpu
        self._credit = burst
        self._last_time: float | None = None
        self._last_loop_cpu = 0.0
        self._worker_cpu = 0.0
        self._lock = threading.Lock()
        self.waits = 0
        self.waited = 0.0

    def charge(self, seconds: float) -> None:
        """CPU seconds a worker thread spent for the web plane (any thread)."""
        with self._lock:
            self._worker_cpu += seconds

    def credit(self) -> float:
        """The credit now (call on the web loop thread: it reads that thread's CPU clock)."""
        now = self._clock()
        loop_cpu = self._loop_cpu()
        with self._lock:
            worker, self._worker_cpu = self._worker_cpu, 0.0
        if self._last_time is None:
            self._last_time, self._last_loop_cpu = now, loop_cpu
        used = (loop_cpu - self._last_loop_cpu) + worker
        earned = (now - self._last_time) * self.share
        self._credit = min(self.burst, self._credit + earned - used)
        self._last_time, self._last_loop_cpu = now, loop_cpu
        return self._credit

    async def admit(self) -> None:
        """Return when the web plane may start another request (web loop only)."""
        credit = self.credit()
        if credit >= 0:
            return
        began = self._clock()
        self.waits += 1
        while credit < 0:
            await asyncio.sleep(min(0.1, max(0.001, -credit / self.share)))
            credit = self.credit()
        self.waited += self._clock() - began


class CpuBudgetMiddleware:
    """Pure ASGI: every HTTP request waits for :meth:`CpuBudget.admit` before it starts
    (``exempt`` paths, such as the health check, never wait)."""

    def __init__(self, app: ASGIApp, budget: CpuBudget, exempt: frozenset[str]) -> None:
        self.app = app
        self.budget = budget
        self.exempt = exempt

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope.get("path") not in self.exempt:
            await self.budget.admit()
        await self.app(scope, receive, send)
