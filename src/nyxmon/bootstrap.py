"""Builds NyxMon's object graphs: the only module that knows every concrete class.

Every part receives its dependencies through its constructor, in an order without cycles:
the threads first, then the adapters (store writer, scheduler, notifier, status feed), then
the application bound to them, then what feeds the application (the result intake, the check
watcher) and the control surface the web plane and the CLI use. Nothing is patched after
construction; what flows back up (results, delivery outcomes) is given to a task when it is
started (``scheduler.run(sink)``, ``notifier.run(report)``).
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import hashlib
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from nyxmon.agent.agent import Agent, alert_settings
from nyxmon.agent.cleaner import Cleaner
from nyxmon.agent.control import AgentControl
from nyxmon.agent.control_server import ControlServer
from nyxmon.agent.deadlines import DeadlineTimers
from nyxmon.agent.feed import StatusFeed
from nyxmon.agent.health import HealthMonitor, HealthThresholds
from nyxmon.agent.intake import ResultIntake
from nyxmon.agent.notifier import Notifier
from nyxmon.agent.probe_control import SchedulerControl
from nyxmon.agent.scheduler import Scheduler
from nyxmon.agent.telemetry import agent_metrics
from nyxmon.agent.watcher import CheckWatcher
from nyxmon.agent.writer import StoreWriter
from nyxmon.config import AgentConfig, LoadedConfig
from nyxmon.domain.model import Check
from nyxmon.metrics import MetricsRuntime, Observe, register_runtime_metrics
from nyxmon.notify import RetryPolicy, notify_metrics
from nyxmon.probes.rdap import RdapLookup
from nyxmon.probes.registry import ExecutorRegistry, builtin_registry
from nyxmon.probes.runner import AsyncCheckRunner, ProbeRunner, SyncCheckRunner
from nyxmon.runtime import Backend, Dispatcher, Runtime
from nyxmon.service_layer.application import Application
from nyxmon.service_layer.messages import PushDeadline, SyncChecks
from nyxmon.service_layer.records.catalog import CheckQuery
from nyxmon.service_layer.records.upkeep import Retention
from nyxmon.service_layer.storage import Store
from nyxmon.web.public.check_metrics import install_check_metrics

__all__ = [
    "build_agent",
    "build_control_server",
    "build_remote_web",
    "build_shared_web",
    "build_web",
    "check_runner",
    "control_socket_path",
    "open_store",
]

if TYPE_CHECKING:
    from nyxmon.probes.http_client import HttpClients
    from nyxmon.web import WebServer
    from nyxmon.web.context import WebContext
    from nyxmon.web.remote import RemoteContext
    from nyxmon.web.shared_store import SharedStoreContext

DAY = 86400.0
# Metric events wait up to 100 ms on the metrics thread's queue: a scrape is seconds apart,
# and fewer wake-ups of that thread leave the probe loop the GIL.
_METRICS_LINGER = 0.1


def open_store(
    settings: AgentConfig | str, *, readonly: bool = False, checkpoints: bool = True
) -> Store:
    """Open the store named by ``agent.database`` (or a path): a ``postgresql://`` URL opens
    the PostgreSQL store, anything else a SQLite file (creating its folder). ``checkpoints``
    (SQLite): whether this process checkpoints the WAL; not beside an agent, which does."""
    database = settings if isinstance(settings, str) else settings.database
    if database.startswith(("postgresql://", "postgres://")):
        from nyxmon.store.postgres import PostgresStore

        return PostgresStore(database, readonly=readonly)
    from nyxmon.store.sqlite import SqliteStore

    if database != ":memory:" and not readonly:
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    return SqliteStore(
        database, readonly=readonly, checkpoint_interval=0.25 if checkpoints else None
    )


def shown_database(database: str) -> str:
    """``agent.database`` as messages may show it: a PostgreSQL URL without its password."""
    if database.startswith(("postgresql://", "postgres://")):
        from nyxmon.store.postgres.connections import redact_dsn

        return redact_dsn(database)
    return database


def build_agent(
    config: LoadedConfig,
    *,
    store: Store | None = None,
    registry: ExecutorRegistry | None = None,
    backend: Backend | None = None,
    watch_period: float = 2.0,
    cleaner_period: float = 60.0,
    notify_retry: RetryPolicy | None = None,
    health: HealthThresholds | None = None,
) -> Agent:
    """An agent for ``config`` on its configured store (or the one given), not started."""
    settings = config.agent
    store = store if store is not None else open_store(settings)
    # Metrics first: every part below reports into the agent's recorder.
    metrics = MetricsRuntime("nyxmon").start()
    recorder = metrics.create_recorder("agent", linger=_METRICS_LINGER)
    register_runtime_metrics(recorder)
    for metric in (*agent_metrics(), *notify_metrics()):
        recorder.register_metric(metric)
    install_check_metrics(recorder)  # per-check series for /metrics, wherever the web runs
    # Threads.
    runtime = Runtime(backend, name="nyxmon-loop", recorder=recorder)
    dispatcher = Dispatcher("nyxmon-dispatcher", recorder=recorder)
    # Adapters the application drives.
    writer = StoreWriter(
        store,
        dispatcher.submit,
        recorder=recorder,
        on_batch_seconds=lambda s: recorder.register_event(Observe("store_batch_seconds", s)),
    )
    registry = registry if registry is not None else builtin_registry()
    registry.provide("rdap", lambda: RdapLookup(settings.rdap_url, settings.rdap_bootstrap_url))
    registry.provide("http", functools.partial(_http_clients, settings.location))
    runner = ProbeRunner(registry)
    scheduler = Scheduler(
        runner.run, concurrency=settings.concurrency, per_host=settings.per_host_concurrency
    )
    notifier = Notifier(
        config.routes, public_url=settings.web.public_url, recorder=recorder, policy=notify_retry
    )
    feed = StatusFeed()

    def push_deadline(command: PushDeadline) -> None:  # loop thread
        dispatcher.submit(app.handle, command)

    deadlines = DeadlineTimers(runtime, push_deadline)
    # The application, bound to them.
    app = Application(
        writer=writer,
        deliveries=notifier,
        probes=SchedulerControl(runtime, scheduler),
        publish=feed.publish,
        settings=alert_settings(config),
        deadlines=deadlines,
    )
    dispatcher.add_batch_listener(app.end_of_batch)
    # What feeds it, and what drives it from outside.
    intake = ResultIntake(dispatcher, app.handle, recorder=recorder)

    def checks_edited_elsewhere(checks: tuple[Check, ...]) -> None:
        dispatcher.submit(app.handle, SyncChecks(checks))

    watcher = CheckWatcher(
        store.checks_fingerprint,
        lambda: store.list_checks(CheckQuery()).items,
        checks_edited_elsewhere,
        period=watch_period,
    )
    retention = settings.retention
    cleaner = Cleaner(
        writer,
        Retention(retention.raw / DAY, retention.hourly / DAY, retention.daily / DAY),
        period=cleaner_period,
    )
    control = AgentControl(app, dispatcher, runtime, scheduler, intake, store)
    monitor = HealthMonitor(app, runtime, dispatcher, notifier, thresholds=health)
    return Agent(
        config,
        store=store,
        metrics=metrics,
        recorder=recorder,
        runtime=runtime,
        dispatcher=dispatcher,
        app=app,
        writer=writer,
        scheduler=scheduler,
        runner=runner,
        intake=intake,
        notifier=notifier,
        cleaner=cleaner,
        watcher=watcher,
        feed=feed,
        control=control,
        health=monitor,
        deadlines=deadlines,
    )


def build_web(agent: Agent, config: LoadedConfig, *, announce: Callable[[str], None]) -> WebServer:
    """The web plane for a built agent, served on its own thread once ``start()``ed.

    Blocking (creates the session secret and, on the first start, the admin user, whose
    password line goes to ``announce``); raises ``WebServerError`` or ``NyxmonError``.
    """
    from nyxmon.web import WebServer, WebSettings, create_app

    settings = WebSettings.from_config(config.agent.web)
    app = create_app(_web_context(agent, config), settings, announce=announce)
    return WebServer(app, settings.host, settings.port)


def _web_context(agent: Agent, config: LoadedConfig) -> WebContext:
    """The agent's own context; on PostgreSQL, statuses from the database around it (other
    agents may run some of the checks: :mod:`nyxmon.web.shared_store`)."""
    from nyxmon.store.postgres import PostgresStore
    from nyxmon.web.context import LocalContext
    from nyxmon.web.shared_store import SharedStoreContext

    local = LocalContext(agent)
    if isinstance(agent.store, PostgresStore):
        return SharedStoreContext(config, agent.store, agent=local)
    return local


@contextlib.contextmanager
def check_runner(*, concurrency: int = 100) -> Iterator[SyncCheckRunner]:
    """Runs checks once from synchronous code (``nyxmon check run``) on a runtime of its own,
    with the same probe registry and runner as the agent."""
    with Runtime(name="nyxmon-checks") as runtime, runtime.portal() as portal:
        yield SyncCheckRunner(portal, AsyncCheckRunner(builtin_registry, limit=concurrency))


def control_socket_path(settings: AgentConfig) -> Path:
    """Where the agent's control socket lives: beside its SQLite file, else in the temp folder
    (an in-memory database, a path too long for a Unix socket, or PostgreSQL, where several
    agents share the database: each has its own socket, told apart by its web address)."""
    database = settings.database
    if database != ":memory:" and not settings.uses_postgres:
        path = Path(database).resolve().with_suffix(".sock")
        if len(str(path)) < 100:  # sun_path holds 108 bytes
            return path
    key = database
    if settings.uses_postgres:
        key += f" {settings.web.host}:{settings.web.port}"
    digest = hashlib.blake2b(key.encode(), digest_size=6).hexdigest()
    return Path(tempfile.gettempdir()) / f"nyxmon-{os.getuid()}-{digest}.sock"


def build_control_server(agent: Agent, path: Path) -> ControlServer:
    """The control socket a web plane in another process talks to (not started)."""
    return ControlServer(
        path,
        agent.control,
        agent.feed,
        agent.metrics,
        lambda: agent.health().to_dict(),
        lambda: dataclasses.asdict(agent.statistics()),
    )


def build_remote_web(
    config: LoadedConfig, control: Path, *, announce: Callable[[str], None]
) -> tuple[WebServer, RemoteContext]:
    """The web plane as a process of its own: the store (for reads, and for its own users,
    sessions and tokens) plus the agent's control socket. Blocking, like :func:`build_web`."""
    from nyxmon.web import WebServer, WebSettings, create_app
    from nyxmon.web.remote import RemoteContext

    # The agent checkpoints the file; a second checkpointer here copied the agent's WAL frames
    # again (a tenth of this process's CPU under a burst of pings, measured: bench/push.py).
    store = open_store(config.agent, checkpoints=False)
    context = RemoteContext(config, store, control)
    # Its own process shares no interpreter with the probes: no CPU budget (the budget only
    # exists to give the GIL back); the process runs at a lower OS priority instead.
    settings = WebSettings.from_config(config.agent.web, cpu_share=1.0, cpu_burst=0.25)
    app = create_app(context, settings, announce=announce)
    return WebServer(app, settings.host, settings.port, bind_retry=10.0), context


def build_shared_web(
    config: LoadedConfig, control: Path | None, *, announce: Callable[[str], None]
) -> tuple[WebServer, SharedStoreContext]:
    """The web plane as a process of its own on a PostgreSQL database shared by agents:
    statuses follow the database's change notices (:mod:`nyxmon.web.shared_store`); writes,
    run-now and pings go to the agent on ``control`` if given, else to the store (writes) or
    nowhere (503). Blocking, like :func:`build_web`."""
    from nyxmon.store.postgres import PostgresStore
    from nyxmon.web import WebServer, WebSettings, create_app
    from nyxmon.web.remote import RemoteContext
    from nyxmon.web.shared_store import SharedStoreContext

    store = open_store(config.agent)
    assert isinstance(store, PostgresStore)
    beside = RemoteContext(config, store, control) if control is not None else None
    context = SharedStoreContext(config, store, agent=beside)
    settings = WebSettings.from_config(config.agent.web, cpu_share=1.0, cpu_burst=0.25)
    try:
        app = create_app(context, settings, announce=announce)
    except BaseException:
        store.close()
        raise
    return WebServer(app, settings.host, settings.port, bind_retry=10.0), context


def _http_clients(location: str) -> HttpClients:
    """The HTTP probes' curl bridge, its User-Agent naming the agent's location (imported
    when the first HTTP check runs: pycurl is not loaded by an agent without one)."""
    from nyxmon.probes.http_client import HttpClients, user_agent_at

    return HttpClients(user_agent=user_agent_at(location))
