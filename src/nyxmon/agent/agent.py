"""The agent: the threads of the execution plane and their lifecycle (DESIGN.md's table).

- runtime loop thread: the scheduler and its probe tasks, notifier delivery, the cleaner,
  the check watcher, the gauge sampler, the alert timer, the push checks' deadlines and,
  with several agents on one database, the lease keeper (:mod:`.leases`);
- dispatcher thread: the application (message bus, every check's state machine);
- store writer thread: batched transactions and maintenance steps.

:mod:`nyxmon.bootstrap` builds every part; the agent only starts them, owns their tasks and
stops them in order. Every loop task belongs to one task group in :meth:`Agent._serve`: the
upkeep tasks inside the probing group inside the delivery group, so stopping walks outwards:
upkeep is cancelled, probes finish within the grace, their last results are handed over, the
notifier sends what it can, and only then are the threads stopped.

Failures are never silent: a task that dies marks the agent failed (:meth:`failure`), which
the ``run`` command turns into a non-zero exit after a best-effort flush.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from functools import partial
from types import MappingProxyType
from typing import Any

import anyio
import anyio.abc

from nyxmon.agent.cleaner import Cleaner, CleanerStatistics
from nyxmon.agent.control import AgentControl
from nyxmon.agent.deadlines import DeadlineTimers
from nyxmon.agent.feed import StatusFeed
from nyxmon.agent.health import HealthMonitor
from nyxmon.agent.intake import ResultIntake
from nyxmon.agent.leases import LeaseKeeper, LeaseStatistics
from nyxmon.agent.notifier import Notifier
from nyxmon.agent.scheduler import Scheduler, SchedulerStatistics
from nyxmon.agent.send_guard import ClaimedSends
from nyxmon.agent.watcher import CheckWatcher
from nyxmon.agent.writer import StoreWriter
from nyxmon.config import LoadedConfig
from nyxmon.domain.model import Check
from nyxmon.domain.push import PUSH_TYPE
from nyxmon.metrics import MetricsRuntime, Recorder, SetGauge
from nyxmon.probes.runner import ProbeRunner
from nyxmon.runtime import Dispatcher, DispatcherStatistics, Runtime, RuntimeStatistics, SpawnedTask
from nyxmon.service_layer.application import Application, ApplicationStatistics
from nyxmon.service_layer.messages import (
    AlertSettings,
    ApplyAlertSettings,
    ApplyConfig,
    ConfigApplied,
    RecordDeliveries,
    RestorePushes,
    RestoreStates,
    SaveQuietStates,
    SetLeases,
    Tick,
)
from nyxmon.service_layer.records.alerts import OutboxUpdate
from nyxmon.service_layer.records.health import Health
from nyxmon.service_layer.storage import AgentClaim, Store

__all__ = ["Agent", "AgentStatistics", "StopReport", "alert_settings"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class AgentStatistics:
    runtime: RuntimeStatistics
    dispatcher: DispatcherStatistics
    scheduler: SchedulerStatistics
    application: ApplicationStatistics
    cleaner: CleanerStatistics
    #: Several agents on one database: the checks this one holds (None: it runs them all).
    leases: LeaseStatistics | None = None


@dataclass(frozen=True, slots=True)
class StopReport:
    """How a stop went: results still unwritten are counted, never silently lost."""

    probes_cancelled: bool
    results_unwritten: int
    seconds: float

    @property
    def clean(self) -> bool:
        return not self.probes_cancelled and not self.results_unwritten


def alert_settings(config: LoadedConfig) -> AlertSettings:
    return AlertSettings(
        routes=config.routes,
        windows=config.maintenance,
        default_policy=config.agent.defaults.alert,
    )


class Agent:
    """One NyxMon agent on one store. ``start()``, then ``stop()``; ``reload()`` in between.

    Build it with :func:`nyxmon.bootstrap.build_agent`.
    """

    def __init__(
        self,
        config: LoadedConfig,
        *,
        store: Store,
        metrics: MetricsRuntime,
        recorder: Recorder,
        runtime: Runtime,
        dispatcher: Dispatcher,
        app: Application,
        writer: StoreWriter,
        scheduler: Scheduler,
        runner: ProbeRunner,
        intake: ResultIntake,
        notifier: Notifier,
        cleaner: Cleaner,
        watcher: CheckWatcher,
        feed: StatusFeed,
        control: AgentControl,
        health: HealthMonitor,
        deadlines: DeadlineTimers,
    ) -> None:
        self.config = config
        self.store = store
        self.metrics = metrics
        self.recorder = recorder
        self.runtime = runtime
        self.dispatcher = dispatcher
        self.app = app
        self.writer = writer
        self.scheduler = scheduler
        self.runner = runner
        self.intake = intake
        self.notifier = notifier
        self.cleaner = cleaner
        self.watcher = watcher
        self.feed = feed
        self.control = control
        self._health = health
        self.deadlines = deadlines
        self._claim: AgentClaim | None = None
        #: Several agents on one database: the checks this one holds (None: it runs them all).
        self.leases: LeaseKeeper | None = None
        self._send_guard: ClaimedSends | None = None
        self._serving: SpawnedTask | None = None
        self._stop_requested: anyio.Event | None = None
        self._grace = config.agent.shutdown_grace
        self._probes_cancelled = False
        self._stopping = False
        self._failure: str | None = None
        self._failed = threading.Event()

    # -- lifecycle ------------------------------------------------------------------------------
    def claim_store(self) -> None:
        """Claim the store for this agent (``start`` does it too); raises a ``StoreError``
        naming the agent that already runs on it."""
        if self._claim is None:
            self._claim = self.store.claim_agent(
                location=self.config.agent.location,
                lease_seconds=self.config.agent.lease_seconds,
            )

    def start(self) -> ConfigApplied:
        """Start every plane, reconcile the config into the store and begin scheduling."""
        self.claim_store()  # first: a second agent on the same SQLite file stops here
        states = self.store.load_states()
        self.runtime.start()
        self.dispatcher.start()
        self.control.command(RestoreStates(states))  # before any machine exists
        shared = self._claim.shared if self._claim is not None else None
        if shared is not None:
            # Among several agents: run nothing until leases are won (the keeper's work).
            self.control.command(SetLeases(frozenset()))
            self.leases = LeaseKeeper(
                shared,
                self.store,
                partial(self.dispatcher.submit, self.app.handle),
                self.notifier.deliver,
            )
            self._send_guard = ClaimedSends(shared.notices)
            log.info(
                "agent %d at location %r shares the database with other agents (leases of %g s)",
                shared.agent_id,
                shared.location,
                shared.lease_seconds,
            )
        applied: ConfigApplied = self.control.command(
            ApplyConfig(self.config.services, self.config.checks)
        )
        self._restore_pushes(applied.checks)
        self._forget_checks_of_the_file()
        self.watcher.prime(self.store.checks_fingerprint())
        ready = threading.Event()
        self._serving = self.runtime.spawn(self._serve, ready, name="agent")
        if not ready.wait(10.0) or self._failure is not None:
            raise RuntimeError(f"the scheduler did not start: {self._failure or 'timeout'}")
        resumed = self.notifier.resume_pending(self.store)
        if resumed:
            log.info("%d notifications from before the restart are being delivered", resumed)
        log.info(
            "agent started: %d checks (%d added, %d changed, %d removed by the config)",
            len(applied.checks),
            len(applied.added),
            len(applied.changed),
            len(applied.removed),
        )
        return applied

    def reload(self, config: LoadedConfig) -> ConfigApplied:
        """Apply a new config file without a restart; history is kept, API checks untouched."""
        for field in (
            "database",
            "concurrency",
            "per_host_concurrency",
            "rdap_url",
            "rdap_bootstrap_url",
            "location",
            "lease_seconds",
        ):
            if getattr(config.agent, field) != getattr(self.config.agent, field):
                log.warning("agent.%s changed; it takes effect after a restart", field)
        applied: ConfigApplied = self.control.command(ApplyConfig(config.services, config.checks))
        self.control.command(ApplyAlertSettings(alert_settings(config)))
        self.runtime.call(self.notifier.set_routes, config.routes, timeout=30.0)
        self.config = config
        self._grace = config.agent.shutdown_grace
        self._forget_checks_of_the_file()
        return applied

    def stop(self, grace: float | None = None) -> StopReport:
        """Stop scheduling, let running probes finish within ``grace``, write every result."""
        began = time.monotonic()
        grace = self._grace if grace is None else grace
        self._grace = grace
        self._stopping = True
        if self._serving is not None and self.runtime.running:
            with contextlib.suppress(Exception):
                self.runtime.run_sync_soon(self._request_stop)
            with contextlib.suppress(BaseException):  # its failures were reported already
                self._serving.wait(grace + 15.0)
        deadline = time.monotonic() + max(5.0, grace)
        with contextlib.suppress(Exception):  # machines that changed quietly since their save
            # One slice written before the next is built: thousands of snapshots staged at
            # once cost ~10 MB at the very end of the agent's life.
            while self.control.command(SaveQuietStates()):
                self._flush(deadline)
        unwritten = self._flush(deadline)
        self.dispatcher.stop(timeout=5.0)
        self.writer.close(timeout=10.0)
        if self.runtime.running:
            try:
                self.runtime.call(self.runner.aclose, timeout=5.0)
            except Exception:
                log.exception("closing the probes failed")
            self.runtime.shutdown(timeout=5.0, drain=False)
        self.store.close()
        if self._claim is not None:
            self._claim.release()
            self._claim = None
        self.metrics.shutdown(timeout=5.0)
        return StopReport(self._probes_cancelled, unwritten, time.monotonic() - began)

    def failure(self) -> str | None:
        """Why the agent can no longer work, or ``None`` while it is healthy."""
        if self._failure is None and self.dispatcher.statistics().state == "crashed":
            self._fail("the dispatcher thread crashed")
        return self._failure

    def health(self) -> Health:
        """Whether the agent does its job now (live, ready, degraded), and why not."""
        return self._health.check(self.failure())

    def wait_failed(self, timeout: float) -> bool:
        return self._failed.wait(timeout)

    def statistics(self) -> AgentStatistics:
        return AgentStatistics(
            runtime=self.runtime.statistics(),
            dispatcher=self.dispatcher.statistics(),
            scheduler=self.scheduler.statistics(),
            application=self.app.statistics(),
            cleaner=self.cleaner.statistics(),
            leases=None if self.leases is None else self.leases.statistics(),
        )

    # -- the task tree (runtime loop) -------------------------------------------------------
    async def _serve(self, ready: threading.Event) -> None:
        """Own every loop task; return once they all ended, in order, after a stop request."""
        self._stop_requested = anyio.Event()
        async with anyio.create_task_group() as delivery:
            delivery.start_soon(
                self._supervise, "notifier", self.notifier.run, self._report, self._send_guard
            )
            async with anyio.create_task_group() as probing:
                await probing.start(self._run_scheduler)
                async with anyio.create_task_group() as upkeep:
                    for name, fn in (
                        ("cleaner", self.cleaner.run),
                        ("watcher", self.watcher.run),
                        ("gauge sampler", self._sample_gauges),
                        ("alert timer", self._tick_alerts),
                        ("push deadlines", self.deadlines.run),
                    ):
                        upkeep.start_soon(self._supervise, name, fn)
                    if self.leases is not None:
                        upkeep.start_soon(self._supervise, "lease keeper", self.leases.run)
                    ready.set()
                    await self._stop_requested.wait()
                    upkeep.cancel_scope.cancel()
                self.scheduler.stop()  # runs in flight finish within the grace, then cancelled
                probing.cancel_scope.deadline = anyio.current_time() + self._grace
            if probing.cancel_scope.cancelled_caught:
                self._probes_cancelled = True
                log.warning("probes still running after %.1f s were cancelled", self._grace)
            self.intake.hand_over()  # the last partial batch
            await self.notifier.stop(min(self._grace, 5.0))  # outcomes still come back meanwhile

    async def _run_scheduler(
        self, *, task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED
    ) -> None:
        await self._supervise(
            "scheduler", partial(self.scheduler.run, self.intake.deliver, task_status=task_status)
        )

    def _request_stop(self) -> None:
        if self._stop_requested is not None:
            self._stop_requested.set()

    async def _supervise(self, name: str, fn: Callable[..., Awaitable[None]], *args: Any) -> None:
        """Run one task; a crash or an unexpected return marks the agent failed (the ``run``
        command then stops it in order) instead of tearing down its siblings."""
        try:
            await fn(*args)
        except anyio.get_cancelled_exc_class():
            raise
        except Exception as exc:
            log.exception("the %s crashed", name)
            self._fail(f"the {name} crashed: {_describe(exc)}")
            return
        if not self._stopping:
            self._fail(f"the {name} stopped unexpectedly")

    async def _tick_alerts(self) -> None:
        """Wake state machines for reminders, escalation and maintenance, once a second."""
        while True:
            await anyio.sleep(1.0)
            await self.dispatcher.submit(self.app.handle, Tick())

    async def _sample_gauges(self) -> None:
        register = self.recorder.register_event
        while True:
            scheduler = self.scheduler.statistics()
            app = self.app.statistics()
            register(SetGauge("scheduler_checks", scheduler.checks))
            register(SetGauge("scheduler_in_flight", scheduler.in_flight))
            register(SetGauge("scheduler_overruns", scheduler.overruns))
            register(SetGauge("store_pending_results", app.staged + app.in_flight))
            register(SetGauge("store_results_dropped", app.results_dropped))
            register(SetGauge("store_write_failures", app.write_failures))
            register(SetGauge("notify_outbox_backlog", self.notifier.statistics().pending))
            await anyio.sleep(1.0)

    def _report(self, updates: Sequence[OutboxUpdate]) -> None:
        """Delivery outcomes, from the notifier to the application (loop thread)."""
        self.dispatcher.submit(self.app.handle, RecordDeliveries(tuple(updates)))

    # -- other threads ------------------------------------------------------------------------
    def _fail(self, why: str) -> None:
        if self._failure is None:
            self._failure = why
            log.critical("agent failure: %s", why)
            self._failed.set()

    def _flush(self, deadline: float) -> int:
        """Write everything staged; return how many rows could not be written."""
        if self.dispatcher.statistics().state != "running":
            return self.app.statistics().staged
        while True:
            try:
                idle = self.dispatcher.submit(self._flush_step).wait(
                    max(0.1, deadline - time.monotonic())
                )
            except Exception:
                break
            if idle or time.monotonic() >= deadline:
                break
            time.sleep(0.01)
        left = self.app.statistics()
        return left.staged + left.in_flight

    def _flush_step(self) -> bool:
        self.app.end_of_batch()
        return self.app.idle

    def _restore_pushes(self, checks: Sequence[Check]) -> None:
        """Push checks resume from their newest stored ping (or missed deadline): one read
        here, before the deadline timer runs, instead of a store read on the dispatcher."""
        ids = [check.id for check in checks if check.type == PUSH_TYPE]
        if ids:
            latest = self.store.latest_results(ids)
            self.control.command(
                RestorePushes({cid: stored.result for cid, stored in latest.items()})
            )

    def _forget_checks_of_the_file(self) -> None:
        """Keep the file's settings, not a second copy of every check: once applied, the store's
        checks are the ones that run (5,000 checks are ~5 MB of duplicates)."""
        self.config = replace(
            self.config,
            services=(),
            checks=(),
            check_lines=MappingProxyType({}),
            policies=MappingProxyType({}),
        )


def _describe(exc: BaseException) -> str:
    """``Type: message`` of the exception that really happened, out of any task-group wrapping."""
    while isinstance(exc, BaseExceptionGroup) and len(exc.exceptions) == 1:
        exc = exc.exceptions[0]
    if isinstance(exc, BaseExceptionGroup):
        return "; ".join(_describe(inner) for inner in exc.exceptions)
    return f"{type(exc).__name__}: {exc}"
