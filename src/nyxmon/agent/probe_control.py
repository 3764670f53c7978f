"""The application's :class:`~nyxmon.service_layer.ports.ProbeControl` port on the scheduler.

The application runs on the dispatcher thread and the scheduler on the runtime loop; each
request crosses over with ``run_sync_soon`` and never waits.
"""

from __future__ import annotations

from nyxmon.agent.scheduler import Scheduler
from nyxmon.domain.model import Check
from nyxmon.runtime import Runtime

__all__ = ["SchedulerControl"]


class SchedulerControl:
    def __init__(self, runtime: Runtime, scheduler: Scheduler) -> None:
        self._runtime = runtime
        self._scheduler = scheduler

    def set_checks(self, checks: tuple[Check, ...]) -> None:
        if self._runtime.running:
            self._runtime.run_sync_soon(self._scheduler.set_checks, checks)

    def run_after(self, check_id: str, delay: float) -> None:
        if self._runtime.running:
            self._runtime.run_sync_soon(self._scheduler.run_after, check_id, delay)
