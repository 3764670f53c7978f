"""Whether the agent does its job right now, told plainly enough for a load balancer to act.

A monitor that cannot write what it observes, or whose probes start seconds late, is not
working, even though its process answers. :class:`HealthMonitor` reads the planes' own figures
(cheap, any thread) and judges:

- **live**: no plane of the agent has died (a dead dispatcher or scheduler needs a restart);
- **ready**: it records what it observes: store writes succeed (or have failed, or gone
  unanswered, for less than ``write_grace``) and the rows waiting for the store stay under
  ``max_backlog``;
- **degraded** (still ready): results were dropped, loop or dispatcher lag is high, or a
  notification was given up on recently (an alert may not have reached anyone).

``status`` is ``ok``, ``degraded`` or ``failing`` (not live or not ready); ``problems`` says why
in words a person reads on ``/healthz``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from nyxmon.agent.notifier import Notifier
from nyxmon.runtime import Dispatcher, Runtime
from nyxmon.service_layer.application import Application
from nyxmon.service_layer.records.health import Health, HealthStatus

__all__ = ["HealthMonitor", "HealthThresholds"]


@dataclass(frozen=True, slots=True)
class HealthThresholds:
    write_grace: float = 10.0  # seconds of failing writes before the agent is not ready
    max_backlog: int = 50_000  # rows waiting for the store before it is not ready
    max_lag: float = 1.0  # seconds of p99 loop or dispatcher lag before it is degraded
    give_up_window: float = 900.0  # seconds a given-up notification keeps it degraded


class HealthMonitor:
    """Judges health from the planes' statistics; ``check()`` from any thread."""

    def __init__(
        self,
        app: Application,
        runtime: Runtime,
        dispatcher: Dispatcher,
        notifier: Notifier,
        *,
        thresholds: HealthThresholds | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._app = app
        self._runtime = runtime
        self._dispatcher = dispatcher
        self._notifier = notifier
        self._limits = thresholds or HealthThresholds()
        self._clock = clock
        self._gave_up = 0
        self._gave_up_at: float | None = None

    def check(self, failure: str | None) -> Health:
        """The agent's health now; ``failure`` is why a plane died (``None``: none did)."""
        now = self._clock()
        limits = self._limits
        app = self._app.statistics()
        loop_lag = self._runtime.statistics().loop_lag.p99
        dispatch_lag = self._dispatcher.statistics().lag.p99
        gave_up = self._notifier.statistics().gave_up
        if gave_up > self._gave_up:
            self._gave_up, self._gave_up_at = gave_up, now
        live = failure is None
        fatal: list[str] = [] if live else [failure or "a plane of the agent failed"]
        warnings: list[str] = []
        if app.failing_since is not None:
            seconds = now - app.failing_since
            why = f"store writes failing for {seconds:.0f} s: {app.last_write_error}"
            (fatal if seconds >= limits.write_grace else warnings).append(why)
        if app.writing_since is not None and now - app.writing_since >= limits.write_grace:
            # A write that neither succeeds nor fails: the database stopped answering.
            fatal.append(
                f"store writes failing for {now - app.writing_since:.0f} s: a write has not"
                " been answered (the database or the link to it is down)"
            )
        waiting = app.staged + app.in_flight
        if waiting > limits.max_backlog:
            fatal.append(f"{waiting} rows waiting for the store (limit {limits.max_backlog})")
        if app.results_dropped:
            warnings.append(f"{app.results_dropped} results dropped since start (store too slow)")
        if loop_lag > limits.max_lag:
            warnings.append(f"probe loop lag p99 {loop_lag * 1000:.0f} ms")
        if dispatch_lag > limits.max_lag:
            warnings.append(f"dispatcher lag p99 {dispatch_lag * 1000:.0f} ms")
        if self._gave_up_at is not None and now - self._gave_up_at < limits.give_up_window:
            warnings.append(f"{gave_up} notifications given up since start, the last recently")
        ready = live and not fatal
        status: HealthStatus = "failing" if fatal else "degraded" if warnings else "ok"
        return Health(
            status=status,
            live=live,
            ready=ready,
            problems=tuple(fatal + warnings),
            figures={
                "store_failing_since": app.failing_since,
                "rows_waiting": waiting,
                "results_dropped": app.results_dropped,
                "write_failures": app.write_failures,
                "loop_lag_p99_ms": round(loop_lag * 1000, 2),
                "dispatcher_lag_p99_ms": round(dispatch_lag * 1000, 2),
                "notifications_pending": self._notifier.statistics().pending,
                "notifications_given_up": gave_up,
            },
        )
