"""The agent: the execution plane wired together (DESIGN.md's threads table).

- runtime loop thread: the scheduler and its probe tasks, the cleaner timer, the check watcher;
- dispatcher thread: the message bus and every check's session, the single writer of live state;
- store writer thread: batched transactions (one per dispatcher batch) and maintenance steps.

A result travels: probe task -> ``dispatcher.post`` -> the check's session -> ``RecordResult`` on
the bus -> staged in the unit of work -> written when the dispatcher batch ends. Nothing waits
for a batch of probes, and no thread does another's kind of work.

Failures are never silent: a plane that dies marks the agent failed (``failure()``), which the
``run`` command turns into a non-zero exit after a best-effort flush.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import Any

import anyio
import anyio.to_thread

from nyxmon.agent.alerting import AlertContext, AlertSettings
from nyxmon.agent.cleaner import Cleaner, CleanerStatistics
from nyxmon.agent.feed import StatusFeed
from nyxmon.agent.notifier import Notifier
from nyxmon.agent.runner import ProbeRunner
from nyxmon.agent.scheduler import Scheduler, SchedulerStatistics
from nyxmon.agent.sessions import CheckSessions
from nyxmon.agent.telemetry import agent_metrics
from nyxmon.agent.watcher import CheckWatcher
from nyxmon.agent.writer import StoreWriter, WriterStatistics
from nyxmon.config import LoadedConfig
from nyxmon.domain.model import Check, Result
from nyxmon.domain.status import CheckStatus
from nyxmon.errors import CheckNotFoundError, ConflictError
from nyxmon.metrics import MetricsRuntime, Observe, SetGauge, register_runtime_metrics
from nyxmon.notify import RetryPolicy, notify_metrics
from nyxmon.probes.registry import ExecutorRegistry, default_registry
from nyxmon.runtime import (
    Backend,
    Dispatcher,
    DispatcherStatistics,
    Event,
    OneShot,
    Runtime,
    RuntimeStatistics,
    SpawnedTask,
)
from nyxmon.service_layer.handlers import COMMAND_HANDLERS, EVENT_HANDLERS, live_checks
from nyxmon.service_layer.messagebus import MessageBus
from nyxmon.service_layer.messages import (
    ApplyConfig,
    ChecksChanged,
    Command,
    ConfigApplied,
    RecordDelivery,
)
from nyxmon.service_layer.records.upkeep import Retention
from nyxmon.service_layer.storage import Store
from nyxmon.service_layer.unit_of_work import AgentUnitOfWork

__all__ = ["Agent", "AgentStatistics", "StopReport"]

log = logging.getLogger(__name__)

DAY = 86400.0
# Results reach the dispatcher (live status, alerting, the writer) at most this much later.
# Every hand-off wakes the dispatcher, and through it the store writer, and each wake-up makes
# the probe loop give up the GIL; measured flat out (per-thread CPU and context switches),
# 25 ms instead of 5 ms cut the dispatcher's and writer's CPU per result by 10-20% and their
# wake-ups by two thirds. A second-level monitor does not see 25 ms.
_HANDOFF_DELAY = 0.025
# Likewise for the metrics thread: events wait up to 100 ms (a scrape is seconds apart).
_METRICS_LINGER = 0.1


@dataclass(frozen=True, slots=True)
class AgentStatistics:
    runtime: RuntimeStatistics
    dispatcher: DispatcherStatistics
    scheduler: SchedulerStatistics
    writer: WriterStatistics
    cleaner: CleanerStatistics


@dataclass(frozen=True, slots=True)
class StopReport:
    """How a stop went: results still unwritten are counted, never silently lost."""

    probes_cancelled: bool
    results_unwritten: int
    seconds: float

    @property
    def clean(self) -> bool:
        return not self.probes_cancelled and not self.results_unwritten


class Agent:
    """One NyxMon agent on one store. ``start()``, then ``stop()``; ``reload()`` in between."""

    def __init__(
        self,
        config: LoadedConfig,
        store: Store,
        *,
        registry: ExecutorRegistry | None = None,
        backend: Backend | None = None,
        watch_period: float = 2.0,
        cleaner_period: float = 60.0,
        notify_retry: RetryPolicy | None = None,
    ) -> None:
        self.config = config
        self.store = store
        settings = config.agent
        # Metrics first: every plane below reports into the agent's recorder.
        self.metrics = MetricsRuntime("nyxmon").start()
        self.recorder = self.metrics.create_recorder("agent", linger=_METRICS_LINGER)
        register_runtime_metrics(self.recorder)
        for metric in agent_metrics():
            self.recorder.register_metric(metric)
        self.runtime = Runtime(backend, name="nyxmon-loop", recorder=self.recorder)
        self.dispatcher = Dispatcher("nyxmon-dispatcher", recorder=self.recorder)
        self.writer = StoreWriter(
            store,
            self.dispatcher.submit,
            recorder=self.recorder,
            on_batch_seconds=lambda s: self.recorder.register_event(
                Observe("store_batch_seconds", s)
            ),
        )
        self.uow = AgentUnitOfWork(self.writer)
        self.bus = MessageBus(self.uow, COMMAND_HANDLERS, EVENT_HANDLERS)
        self.writer.on_event = self.bus.handle
        self.feed = StatusFeed()
        self.alerts = AlertContext(self.bus, _alert_settings(config), retry=self._retry)
        self.sessions = CheckSessions(self.dispatcher, self.bus, self.feed, self.alerts)
        for metric in notify_metrics():
            self.recorder.register_metric(metric)
        self.notifier = Notifier(
            config.routes,
            public_url=settings.web.public_url,
            record=lambda update: self.dispatcher.submit(self.bus.handle, RecordDelivery(update)),
            recorder=self.recorder,
            policy=notify_retry,
        )
        self.writer.on_outbox_committed = self.notifier.committed
        self.bus.subscribe(ChecksChanged, lambda event, _: self._follow(event.checks))
        self.dispatcher.add_batch_listener(self.writer.flush)
        self.runner = ProbeRunner(registry or default_registry())
        self.scheduler = Scheduler(
            self.runner.run,
            self._deliver,
            concurrency=settings.concurrency,
            per_host=settings.per_host_concurrency,
        )
        retention = settings.retention
        self.cleaner = Cleaner(
            self.writer,
            Retention(retention.raw / DAY, retention.hourly / DAY, retention.daily / DAY),
            period=cleaner_period,
        )
        self.watcher = CheckWatcher(
            store.checks_fingerprint,
            lambda: live_checks(store),
            self._checks_edited_elsewhere,
            period=watch_period,
        )
        self._tasks: dict[str, SpawnedTask] = {}
        self._outgoing: list[Event] = []
        self._handoff_scheduled = False
        self._stopping = False
        self._failure: str | None = None
        self._failed = threading.Event()

    # -- lifecycle ------------------------------------------------------------------------------
    def start(self) -> ConfigApplied:
        """Start every plane, reconcile the config into the store and begin scheduling."""
        self.alerts.saved = self.store.load_states()  # before any session starts
        self.runtime.start()
        self.dispatcher.start()
        applied: ConfigApplied = self.command(ApplyConfig(self.config.services, self.config.checks))
        self._forget_checks_of_the_file()
        self.watcher.prime(self.store.checks_fingerprint())
        for name, fn in (
            ("scheduler", self.scheduler.run),
            ("cleaner", self.cleaner.run),
            ("watcher", self.watcher.run),
            ("gauge sampler", self._sample_gauges),
            ("notifier", self.notifier.run),
            ("alert timer", self._tick_alerts),
        ):
            self._tasks[name] = self.runtime.spawn(self._supervise, name, fn, name=name)
        self._wait_until_scheduling()
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
        for field in ("database", "concurrency", "per_host_concurrency"):
            if getattr(config.agent, field) != getattr(self.config.agent, field):
                log.warning("agent.%s changed; it takes effect after a restart", field)
        applied: ConfigApplied = self.command(ApplyConfig(config.services, config.checks))
        settings = _alert_settings(config)

        def take_alert_settings() -> None:
            self.alerts.settings = settings
            self.sessions.refresh_policies()

        self.call_on_dispatcher(take_alert_settings)
        self.runtime.call(self.notifier.set_routes, config.routes, timeout=30.0)
        self.config = config
        self._forget_checks_of_the_file()
        return applied

    def stop(self, grace: float | None = None) -> StopReport:
        """Stop scheduling, let running probes finish within ``grace``, write every result."""
        began = time.monotonic()
        grace = self.config.agent.shutdown_grace if grace is None else grace
        self._stopping = True
        cancelled = False
        if self.runtime.running:
            for name in ("watcher", "cleaner", "gauge sampler", "alert timer"):
                task = self._tasks.get(name)
                if task is not None:
                    task.cancel()
            scheduler = self._tasks.get("scheduler")
            if scheduler is not None:
                self.runtime.run_sync_soon(self.scheduler.stop)
                try:
                    scheduler.wait(grace)
                except TimeoutError:
                    cancelled = True
                    log.warning("probes still running after %.1f s were cancelled", grace)
                    scheduler.cancel()
                    self._wait_quietly(scheduler, 5.0)
                except Exception:
                    pass  # already reported by the supervisor
            with contextlib.suppress(Exception):
                self.runtime.call(self._hand_over, timeout=5.0)  # the last partial batch
            with contextlib.suppress(Exception):  # outcomes still come back while it winds down
                self.runtime.call(self.notifier.stop, min(grace, 5.0), timeout=grace + 10)
        deadline = time.monotonic() + max(5.0, grace)
        with contextlib.suppress(Exception):  # machines that changed quietly since their save
            # One slice written before the next is built: thousands of snapshots staged at
            # once cost ~10 MB at the very end of the agent's life.
            while self.call_on_dispatcher(self.sessions.save_quiet):
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
        self.metrics.shutdown(timeout=5.0)
        return StopReport(cancelled, unwritten, time.monotonic() - began)

    # -- while running --------------------------------------------------------------------------
    def command(self, command: Command, timeout: float = 30.0) -> Any:
        """Handle ``command`` on the dispatcher thread and wait for its outcome."""
        reply = self.dispatcher.submit(self.bus.handle, command).wait(timeout)
        if isinstance(reply, OneShot):
            return reply.wait(timeout)
        return reply

    async def command_async(self, command: Command, timeout: float = 30.0) -> Any:  # noqa: ASYNC109
        """:meth:`command` for async callers on any loop (the web plane): never blocks it."""
        with anyio.fail_after(timeout):
            reply = await self.dispatcher.submit(self.bus.handle, command)
            if isinstance(reply, OneShot):
                return await reply.wait_async()
            return reply

    def call_on_dispatcher(self, fn: Callable[..., Any], *args: Any, timeout: float = 5.0) -> Any:
        return self.dispatcher.submit(fn, *args).wait(timeout)

    def statuses(self, timeout: float = 5.0) -> Mapping[str, CheckStatus]:
        """Every check's live status (a copy taken on the dispatcher thread)."""
        snapshot: Mapping[str, CheckStatus] = self.call_on_dispatcher(
            self.sessions.snapshot, timeout=timeout
        )
        return snapshot

    async def statuses_async(self, timeout: float = 5.0) -> Mapping[str, CheckStatus]:  # noqa: ASYNC109
        with anyio.fail_after(timeout):
            snapshot: Mapping[str, CheckStatus] = await self.dispatcher.submit(
                self.sessions.snapshot
            )
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
            # Answer only once the check's session has applied the result (dispatcher FIFO),
            # so a status read right after run-now already shows it.
            self._hand_over()
            self.dispatcher.submit(cell.set_result, result)

        def start() -> None:  # on the runtime loop: no store reads here
            if not self.scheduler.run_now(check_id, answer):
                cell.set_exception(LookupError(check_id))

        with anyio.fail_after(timeout):
            self.runtime.run_sync_soon(start)
            try:
                result = await cell.wait_async()
            except LookupError:
                raise await anyio.to_thread.run_sync(self._why_not_scheduled, check_id) from None
        if result is None:
            raise ConflictError(f"check {check_id!r} was removed or the agent is stopping")
        return result

    def failure(self) -> str | None:
        """Why the agent can no longer work, or ``None`` while it is healthy."""
        if self._failure is None and self.dispatcher.statistics().state == "crashed":
            self._fail("the dispatcher thread crashed")
        return self._failure

    def wait_failed(self, timeout: float) -> bool:
        return self._failed.wait(timeout)

    def statistics(self) -> AgentStatistics:
        return AgentStatistics(
            runtime=self.runtime.statistics(),
            dispatcher=self.dispatcher.statistics(),
            scheduler=self.scheduler.statistics(),
            writer=self.writer.statistics(),
            cleaner=self.cleaner.statistics(),
        )

    # -- internals ------------------------------------------------------------------------------
    def _wait_until_scheduling(self, timeout: float = 10.0) -> None:
        """Return once the scheduler runs, so ``run_check_now`` works as soon as start() did."""
        deadline = time.monotonic() + timeout
        while not self.runtime.call(lambda: self.scheduler.running):
            if time.monotonic() > deadline or self._failure is not None:
                raise RuntimeError(f"the scheduler did not start: {self._failure or 'timeout'}")
            time.sleep(0.002)

    def _why_not_scheduled(self, check_id: str) -> Exception:
        check = self.store.get_check(check_id)
        if check is None:
            return CheckNotFoundError(check_id)
        if not check.active:
            return ConflictError(f"check {check_id!r} is paused or disabled; resume it to run it")
        return ConflictError(f"check {check_id!r} is not scheduled yet; try again in a moment")

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

    def _deliver(self, result: Result) -> None:
        """Scheduler sink (loop thread): queue the result for its check's session.

        Results are handed over in small batches: posting each one on its own would wake the
        dispatcher thread (and hand the GIL over) once per probe, which measured as the largest
        single cost of a busy agent. A batch leaves at most ``_HANDOFF_DELAY`` later.
        """
        self.recorder.register_event(result)
        self._outgoing.append(Event(result.check_id, "result", result))
        if not self._handoff_scheduled:
            self._handoff_scheduled = True
            asyncio.get_running_loop().call_later(_HANDOFF_DELAY, self._hand_over)

    def _hand_over(self) -> None:
        self._handoff_scheduled = False
        events, self._outgoing = self._outgoing, []
        try:
            self.dispatcher.post_many(events)
        except Exception:
            log.exception("handing %d results to the dispatcher failed", len(events))

    def _follow(self, checks: tuple[Check, ...]) -> None:
        """Dispatcher thread: sessions and scheduler follow the live check set."""
        self.sessions.sync(checks)
        if self.runtime.running:
            self.runtime.run_sync_soon(self.scheduler.set_checks, checks)

    def _checks_edited_elsewhere(self, checks: tuple[Check, ...]) -> None:
        from nyxmon.service_layer.messages import SyncChecks

        self.dispatcher.submit(self.bus.handle, SyncChecks(checks))

    def _retry(self, check_id: str, delay: float) -> None:
        """A machine wants a failed check re-run soon (its retries); dispatcher thread."""
        if self.runtime.running:
            self.runtime.run_sync_soon(self.scheduler.run_after, check_id, delay)

    async def _tick_alerts(self) -> None:
        """Wake state machines for reminders, escalation and maintenance, once a second."""
        while True:
            await anyio.sleep(1.0)
            await self.dispatcher.submit(self.sessions.tick)

    async def _sample_gauges(self) -> None:
        register = self.recorder.register_event
        while True:
            scheduler = self.scheduler.statistics()
            writer = self.writer.statistics()
            register(SetGauge("scheduler_checks", scheduler.checks))
            register(SetGauge("scheduler_in_flight", scheduler.in_flight))
            register(SetGauge("scheduler_overruns", scheduler.overruns))
            register(SetGauge("store_pending_results", writer.pending))
            register(SetGauge("store_results_dropped", writer.dropped))
            register(SetGauge("store_write_failures", writer.write_failures))
            register(SetGauge("notify_outbox_backlog", self.notifier.statistics().pending))
            await anyio.sleep(1.0)

    async def _supervise(self, name: str, fn: Callable[[], Awaitable[None]]) -> None:
        try:
            await fn()
        except anyio.get_cancelled_exc_class():
            raise
        except BaseException as exc:
            self._fail(f"the {name} crashed: {_describe(exc)}")
            raise
        if not self._stopping:
            self._fail(f"the {name} stopped unexpectedly")

    def _fail(self, why: str) -> None:
        if self._failure is None:
            self._failure = why
            log.critical("agent failure: %s", why)
            self._failed.set()

    def _flush(self, deadline: float) -> int:
        """Write every result that reached the dispatcher; return how many could not be."""
        if self.dispatcher.statistics().state != "running":
            return self.writer.statistics().pending
        while True:
            try:
                idle = self.dispatcher.submit(self._flush_step).wait(
                    max(0.1, deadline - time.monotonic())
                )
            except Exception:
                return self.writer.statistics().pending
            if idle or time.monotonic() >= deadline:
                break
            time.sleep(0.01)
        left = self.writer.statistics()
        return left.pending + left.in_flight

    def _flush_step(self) -> bool:
        self.writer.flush()
        return self.writer.idle

    @staticmethod
    def _wait_quietly(task: SpawnedTask, timeout: float) -> None:
        with contextlib.suppress(BaseException):  # its outcome was reported by _supervise
            task.wait(timeout)


def _alert_settings(config: LoadedConfig) -> AlertSettings:
    return AlertSettings(
        routes=config.routes,
        windows=config.maintenance,
        default_policy=config.agent.defaults.alert,
    )


def _describe(exc: BaseException) -> str:
    """``Type: message`` of the exception that really happened, out of any task-group wrapping."""
    while isinstance(exc, BaseExceptionGroup) and len(exc.exceptions) == 1:
        exc = exc.exceptions[0]
    if isinstance(exc, BaseExceptionGroup):
        return "; ".join(_describe(inner) for inner in exc.exceptions)
    return f"{type(exc).__name__}: {exc}"
