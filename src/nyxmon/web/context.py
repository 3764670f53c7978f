"""What the web plane needs from the agent, in one place: the seam between the two planes.

The web plane reads through the store and the agent's statuses, and changes agent-owned data
only as commands the agent runs, awaited with a timeout. Two implementations:

- :class:`LocalContext`: the agent in this process (tests, embedding, ``web.separate_process:
  false``); calls go straight to the agent's control surface;
- :class:`~nyxmon.web.remote.RemoteContext`: the agent in another process, over its control
  socket (``nyxmon run`` starts the web plane that way, so a hammered dashboard never takes
  the interpreter the probes need).

Neither is ever blocked on from the web loop: every call that waits has an async twin.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Protocol

from nyxmon.config import CheckDefaults
from nyxmon.domain.alerting.maintenance import MaintenanceWindow
from nyxmon.domain.alerting.types import Route
from nyxmon.domain.model import Result
from nyxmon.domain.push import Ping
from nyxmon.domain.status import CheckStatus
from nyxmon.metrics import RecorderSnapshot
from nyxmon.service_layer.messages import Command
from nyxmon.service_layer.records.health import Health
from nyxmon.service_layer.storage import Store

if TYPE_CHECKING:
    from nyxmon.agent.agent import Agent
    from nyxmon.metrics import Recorder

__all__ = ["LocalContext", "WebContext", "context_for"]


class WebContext(Protocol):
    """The agent as the web plane sees it."""

    @property
    def store(self) -> Store: ...

    @property
    def recorder(self) -> Recorder | None:
        """The agent's recorder when it runs in this process (instruments may be added)."""
        ...

    @property
    def defaults(self) -> CheckDefaults:
        """Interval and timeout for checks created through the API without their own."""
        ...

    @property
    def routes(self) -> tuple[Route, ...]: ...

    @property
    def lease_seconds(self) -> float:
        """The agents' lease period: part of how old a location's view may grow before it
        stops counting (:func:`nyxmon.domain.locations.stale_after`)."""
        ...

    @property
    def maintenance(self) -> tuple[MaintenanceWindow, ...]: ...

    @property
    def public_url(self) -> str: ...

    def health(self) -> Health:
        """Whether the agent does its job (live, ready, degraded) and why not; an agent that
        cannot be reached is failing."""
        ...

    async def statuses(self, timeout: float = 5.0) -> Mapping[str, CheckStatus]: ...  # noqa: ASYNC109

    def statuses_blocking(self, timeout: float = 5.0) -> Mapping[str, CheckStatus]:
        """For worker threads only (a /metrics scrape)."""
        ...

    def metric_snapshots(self, timeout: float = 2.0) -> list[RecorderSnapshot]:
        """The agent's recorder snapshots; worker threads only (it may wait ``timeout``)."""
        ...

    async def statistics(self, timeout: float = 5.0) -> Mapping[str, Any]:  # noqa: ASYNC109
        """The agent's own figures (threads, scheduler, write path), as plain data."""
        ...

    async def command(self, command: Command, timeout: float) -> Any: ...  # noqa: ASYNC109

    async def run_now(self, check_id: str, timeout: float) -> Result: ...  # noqa: ASYNC109

    async def ping(self, ping: Ping, timeout: float) -> str:  # noqa: ASYNC109
        """Record a push check's ping; returns the check's id once the ping is durable.
        Raises PingKeyNotFoundError for an unknown key."""
        ...

    def subscribe(self, callback: Callable[[CheckStatus], None]) -> Callable[[], None]:
        """``callback`` gets every status change (on another thread for a local agent);
        it must be cheap and thread-safe. Returns the unsubscribe function."""
        ...

    async def start(self) -> None:
        """Called on the web loop as the app starts."""
        ...

    async def aclose(self) -> None:
        """Called on the web loop as the app stops."""
        ...


class LocalContext:
    """The agent of this process, through its control surface."""

    def __init__(self, agent: Agent) -> None:
        self.agent = agent

    @property
    def store(self) -> Store:
        return self.agent.store

    @property
    def recorder(self) -> Recorder | None:
        return self.agent.recorder

    @property
    def defaults(self) -> CheckDefaults:
        return self.agent.config.agent.defaults

    @property
    def routes(self) -> tuple[Route, ...]:
        return self.agent.config.routes

    @property
    def lease_seconds(self) -> float:
        return self.agent.config.agent.lease_seconds

    @property
    def maintenance(self) -> tuple[MaintenanceWindow, ...]:
        return self.agent.config.maintenance

    @property
    def public_url(self) -> str:
        return self.agent.config.agent.web.public_url

    def health(self) -> Health:
        return self.agent.health()

    async def statuses(self, timeout: float = 5.0) -> Mapping[str, CheckStatus]:  # noqa: ASYNC109
        return await self.agent.control.statuses_async(timeout)

    def statuses_blocking(self, timeout: float = 5.0) -> Mapping[str, CheckStatus]:
        return self.agent.control.statuses(timeout)

    def metric_snapshots(self, timeout: float = 2.0) -> list[RecorderSnapshot]:
        return list(self.agent.metrics.snapshots(timeout).values())

    async def statistics(self, timeout: float = 5.0) -> Mapping[str, Any]:  # noqa: ASYNC109
        return dataclasses.asdict(self.agent.statistics())

    async def command(self, command: Command, timeout: float) -> Any:  # noqa: ASYNC109
        return await self.agent.control.command_async(command, timeout)

    async def run_now(self, check_id: str, timeout: float) -> Result:  # noqa: ASYNC109
        return await self.agent.control.run_check_now(check_id, timeout)

    async def ping(self, ping: Ping, timeout: float) -> str:  # noqa: ASYNC109
        return await self.agent.control.ping_async(ping, timeout)

    def subscribe(self, callback: Callable[[CheckStatus], None]) -> Callable[[], None]:
        return self.agent.feed.subscribe(callback)

    async def start(self) -> None:
        pass

    async def aclose(self) -> None:
        pass


def context_for(agent: Any) -> WebContext:
    """A context for an :class:`~nyxmon.agent.agent.Agent` (wrapped) or a context (as is)."""
    if hasattr(agent, "metric_snapshots") and hasattr(agent, "subscribe"):
        context: WebContext = agent
        return context
    return LocalContext(agent)
