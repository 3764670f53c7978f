"""The web plane on a PostgreSQL database shared by several agents, with no agent to talk to.

Several agents on several machines share one database, each running the checks it holds a
lease on; no single agent's status feed covers every check. So this context follows the
database instead of an agent (``nyxmon web -c FILE`` picks it whenever ``agent.database`` is
PostgreSQL; see :mod:`nyxmon.cli.web` for the rule):

- **statuses** are built from the store as the CLI builds them (alert state row + latest
  result, :func:`nyxmon.cli.check_state.stored_status`), kept current by PostgreSQL's
  LISTEN/NOTIFY: each agent's writer notifies the checks a committed batch changed
  (:mod:`nyxmon.store.postgres.change_notices`), :class:`~nyxmon.web.change_listener.
  ChangeListener` hears it, and the checks named are re-read (coalesced over ``coalesce``
  seconds) and published to subscribers (the live pages' event stream). LISTEN/NOTIFY rather
  than polling: a change reaches the pages within a round trip instead of a poll period, and
  an idle dashboard costs the database nothing. A full re-read every ``full_refresh`` seconds
  and after every reconnect is the safety net for a notice lost with a connection;
- **writes** (check add/edit/pause/delete, services) run the service layer's catalog commands
  straight against the store in one transaction (:mod:`nyxmon.service_layer.direct`, as the
  CLI does); every agent notices them within its watch period, as it notices the CLI's;
- **run-now and push pings** need an agent to probe or to advance a push check's deadline: they
  are answered 503 saying so.

Beside an agent, ``agent`` is that agent's context: a :class:`~nyxmon.web.remote.RemoteContext`
(``nyxmon run`` starts its web process with ``--control``) or a
:class:`~nyxmon.web.context.LocalContext` (``web.separate_process: false``). Statuses still
come from the database (the agent's own feed covers only the checks it holds a lease on), while
writes, run-now, pings, the agent's figures and metric snapshots go to it, as on SQLite.

``health()``: ready while it listens and has re-read everything since it last (re)connected
(and, beside an agent, while that agent is ready); ``/healthz`` answers 503 while PostgreSQL
is away.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from types import MappingProxyType
from typing import Any

import anyio
import anyio.to_thread

from nyxmon.config import LoadedConfig
from nyxmon.domain.model import Result
from nyxmon.domain.push import Ping
from nyxmon.domain.status import CheckStatus
from nyxmon.metrics import Recorder, RecorderSnapshot
from nyxmon.service_layer import direct
from nyxmon.service_layer.messages import Command
from nyxmon.service_layer.records.alerts import StateRow
from nyxmon.service_layer.records.health import Health
from nyxmon.service_layer.records.results import StoredResult
from nyxmon.service_layer.storage import Store
from nyxmon.service_layer.stored_status import stored_status
from nyxmon.store.postgres import PostgresStore
from nyxmon.web.change_listener import ChangeListener
from nyxmon.web.config_view import ConfigView
from nyxmon.web.context import WebContext
from nyxmon.web.problems import Problem
from nyxmon.web.remote import RemoteContext

__all__ = ["SharedStoreContext"]

log = logging.getLogger(__name__)

StatusCallback = Callable[[CheckStatus], None]

_NO_AGENT = (
    "no agent to {what}: this web plane follows the shared PostgreSQL database alone; "
    "use an agent's own web plane (nyxmon run), or start `nyxmon web` with --control"
)


class SharedStoreContext(ConfigView):
    """A :class:`~nyxmon.web.context.WebContext` fed by the database, not by an agent."""

    def __init__(
        self,
        config: LoadedConfig,
        store: PostgresStore,
        *,
        coalesce: float = 0.1,
        full_refresh: float = 30.0,
        backoff: float = 0.5,
        backoff_max: float = 15.0,
        agent: WebContext | None = None,
    ) -> None:
        self._config = config
        self._store = store
        #: The agent beside this web plane, if any (over its control socket, or in this process).
        self.agent = agent
        self._coalesce = coalesce
        self._full_period = full_refresh
        self._statuses: dict[str, CheckStatus] = {}
        self._subscribers: tuple[StatusCallback, ...] = ()
        self._pending: set[str] = set()
        self._want_full = True
        self._wake: asyncio.Event | None = None
        self._loaded: asyncio.Event | None = None
        self._synced_generation = -1
        self._tasks: list[asyncio.Task[None]] = []
        self._limiter: anyio.CapacityLimiter | None = None
        self.listener = ChangeListener(
            store.dsn,
            self._on_change,
            self._on_listening,
            backoff=backoff,
            backoff_max=backoff_max,
        )
        self.refreshes = 0
        self.full_refreshes = 0
        self.published = 0
        self.read_failures = 0

    # -- what the config says ------------------------------------------------------------------
    @property
    def store(self) -> Store:
        return self._store

    @property
    def recorder(self) -> Recorder | None:
        # The agents' recorders live in their processes, but for one beside it in this one.
        return self.agent.recorder if self.agent is not None else None

    def reload(self, config: LoadedConfig) -> None:
        super().reload(config)
        if isinstance(self.agent, RemoteContext):
            self.agent.reload(config)

    # -- lifecycle (web loop) ------------------------------------------------------------------
    async def start(self) -> None:
        if self.agent is not None:
            await self.agent.start()
        self._wake = asyncio.Event()
        self._loaded = asyncio.Event()
        self._limiter = anyio.CapacityLimiter(1)
        self._tasks = [
            asyncio.create_task(self.listener.run(), name="nyxmon-web-listen"),
            asyncio.create_task(self._refresher(), name="nyxmon-web-refresh"),
            asyncio.create_task(self._safety_net(), name="nyxmon-web-full-refresh"),
        ]
        # Serve at once if the database is slow to answer: health says why meanwhile.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(10.0):
                await self._loaded.wait()

    async def aclose(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        if self.agent is not None:
            await self.agent.aclose()

    # -- what the web plane reads --------------------------------------------------------------
    def health(self) -> Health:
        """The web plane's own link to the database's changes, with the agent beside it (if
        any): both sets of problems and figures, so one /healthz says every reason at once."""
        listener = self.listener
        figures: dict[str, Any] = {"listening": listener.listening, "notices": listener.notices}
        own: tuple[str, ...] = ()
        if not listener.listening:
            why = listener.last_error or "not connected"
            own = (f"not following the database's changes ({why}); reconnecting",)
        elif self._synced_generation != listener.generation:
            own = ("reading every check's status again",)
        if self.agent is None:
            return Health("failing" if own else "ok", True, not own, own, figures)
        beside = self.agent.health()
        return Health(
            "failing" if own else beside.status,
            beside.live,
            beside.ready and not own,
            (*beside.problems, *own),
            {**beside.figures, **figures},
        )

    async def statuses(self, timeout: float = 5.0) -> Mapping[str, CheckStatus]:  # noqa: ASYNC109
        if self._loaded is not None:
            async with asyncio.timeout(timeout):
                await self._loaded.wait()
        return MappingProxyType(dict(self._statuses))

    def statuses_blocking(self, timeout: float = 5.0) -> Mapping[str, CheckStatus]:
        return MappingProxyType(dict(self._statuses))

    def metric_snapshots(self, timeout: float = 2.0) -> list[RecorderSnapshot]:
        if self.agent is not None:
            return self.agent.metric_snapshots(timeout)
        return []  # each agent serves its own /metrics

    async def statistics(self, timeout: float = 5.0) -> Mapping[str, Any]:  # noqa: ASYNC109
        beside = await self.agent.statistics(timeout) if self.agent is not None else {}
        return {
            **beside,
            "shared_store": {
                "listener": dataclasses.asdict(self.listener.statistics()),
                "checks": len(self._statuses),
                "refreshes": self.refreshes,
                "full_refreshes": self.full_refreshes,
                "published": self.published,
                "read_failures": self.read_failures,
            },
        }

    # -- what the web plane asks for -----------------------------------------------------------
    async def command(self, command: Command, timeout: float) -> Any:  # noqa: ASYNC109
        if self.agent is not None:
            return await self.agent.command(command, timeout)
        try:
            return await anyio.to_thread.run_sync(direct.execute, self._store, command)
        except LookupError:
            raise Problem(
                503, _NO_AGENT.format(what=f"run {type(command).__name__}"), kind="no-agent"
            ) from None

    async def run_now(self, check_id: str, timeout: float) -> Result:  # noqa: ASYNC109
        if self.agent is not None:
            return await self.agent.run_now(check_id, timeout)
        raise Problem(503, _NO_AGENT.format(what="run a check now"), kind="no-agent")

    async def ping(self, ping: Ping, timeout: float) -> str:  # noqa: ASYNC109
        if self.agent is not None:
            return await self.agent.ping(ping, timeout)
        raise Problem(503, _NO_AGENT.format(what="record a ping"), kind="no-agent")

    def subscribe(self, callback: StatusCallback) -> Callable[[], None]:
        self._subscribers = (*self._subscribers, callback)

        def unsubscribe() -> None:
            self._subscribers = tuple(s for s in self._subscribers if s is not callback)

        return unsubscribe

    # -- following the database (web loop) -------------------------------------------------------
    def _on_change(self, check_ids: frozenset[str] | None) -> None:
        if check_ids is None:
            self._want_full = True
        else:
            self._pending |= check_ids
        if self._wake is not None:
            self._wake.set()

    def _on_listening(self) -> None:
        self._on_change(None)  # whatever changed while it was not listening

    async def _safety_net(self) -> None:
        while True:
            await asyncio.sleep(self._full_period)
            self._on_change(None)

    async def _refresher(self) -> None:
        """Re-reads what the notices named, one read at a time, each after ``coalesce``
        seconds of gathering."""
        assert self._wake is not None
        while True:
            await self._wake.wait()
            await asyncio.sleep(self._coalesce)
            self._wake.clear()
            full, ids = self._want_full, self._pending
            self._want_full, self._pending = False, set()
            generation = self.listener.generation
            try:
                if full:
                    read = await anyio.to_thread.run_sync(self._read_all, limiter=self._limiter)
                else:
                    read = await anyio.to_thread.run_sync(
                        self._read_some, sorted(ids), limiter=self._limiter
                    )
            except Exception as exc:  # the database is away: the listener says so too
                self.read_failures += 1
                log.warning("reading check statuses failed (%s); trying again", exc)
                self._want_full = self._want_full or full
                self._pending |= ids
                await asyncio.sleep(1.0)
                self._wake.set()
                continue
            self._apply(read, None if full else ids)
            if full:
                self.full_refreshes += 1
                self._synced_generation = generation
                if self._loaded is not None:
                    self._loaded.set()
            else:
                self.refreshes += 1

    def _read_all(self) -> dict[str, CheckStatus]:
        rows = self._store.load_states()
        latest = self._store.latest_results(None)
        return _statuses(set(rows) | set(latest), rows, latest)

    def _read_some(self, check_ids: Sequence[str]) -> dict[str, CheckStatus]:
        rows = self._store.states_of(check_ids)
        latest = self._store.latest_results(check_ids)
        return _statuses(check_ids, rows, latest)

    def _apply(self, read: dict[str, CheckStatus], scope: set[str] | None) -> None:
        """Take what was read (for ``scope``, or every check when None) and publish what
        differs from what subscribers last got."""
        changed = [status for key, status in read.items() if self._statuses.get(key) != status]
        if scope is None:
            self._statuses = read
        else:
            # A new dict, swapped in whole: worker threads copy it meanwhile (a /metrics scrape).
            statuses = dict(self._statuses)
            for check_id in scope:
                status = read.get(check_id)
                if status is None:
                    statuses.pop(check_id, None)
                else:
                    statuses[check_id] = status
            self._statuses = statuses
        for status in changed:
            self.published += 1
            for callback in self._subscribers:
                callback(status)


def _statuses(
    check_ids: Iterable[str], rows: Mapping[str, StateRow], latest: Mapping[str, StoredResult]
) -> dict[str, CheckStatus]:
    out: dict[str, CheckStatus] = {}
    for check_id in check_ids:
        stored = latest.get(check_id)
        status = stored_status(
            check_id, rows.get(check_id), stored.result if stored is not None else None
        )
        if status is not None:
            out[check_id] = status
    return out
