"""What the web plane needs from the agent, in one place: the seam between the two planes.

The web plane reads through the store's read-only connections and the agent's snapshots, and
changes things only as commands the agent's dispatcher runs, awaited with a timeout. It never
calls a blocking agent method from its loop: :class:`WebContext` offers the async twins.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from nyxmon.config import CheckDefaults
from nyxmon.domain.alerting.maintenance import MaintenanceWindow
from nyxmon.domain.alerting.types import Route
from nyxmon.domain.model import Result
from nyxmon.domain.status import CheckStatus
from nyxmon.service_layer.messages import Command
from nyxmon.service_layer.storage import Store

if TYPE_CHECKING:
    from nyxmon.agent.agent import Agent
    from nyxmon.metrics import MetricsRuntime, Recorder

__all__ = ["WebContext"]


class WebContext:
    """The agent seen from the web plane. Build it with :meth:`from_agent`."""

    def __init__(self, agent: Agent) -> None:
        self.agent = agent

    @classmethod
    def from_agent(cls, agent: Agent | WebContext) -> WebContext:
        return agent if isinstance(agent, WebContext) else cls(agent)

    @property
    def store(self) -> Store:
        return self.agent.store

    @property
    def metrics(self) -> MetricsRuntime:
        return self.agent.metrics

    @property
    def recorder(self) -> Recorder:
        return self.agent.recorder

    @property
    def defaults(self) -> CheckDefaults:
        """Interval and timeout for checks created through the API without their own."""
        return self.agent.config.agent.defaults

    @property
    def routes(self) -> tuple[Route, ...]:
        """Alert routes of the running config (it changes on reload)."""
        return self.agent.config.routes

    @property
    def maintenance(self) -> tuple[MaintenanceWindow, ...]:
        """Maintenance windows of the running config."""
        return self.agent.config.maintenance

    @property
    def public_url(self) -> str:
        return self.agent.config.agent.web.public_url

    def failure(self) -> str | None:
        return self.agent.failure()

    async def statuses(self, timeout: float = 5.0) -> Mapping[str, CheckStatus]:  # noqa: ASYNC109
        return await self.agent.control.statuses_async(timeout)

    def statuses_blocking(self, timeout: float = 5.0) -> Mapping[str, CheckStatus]:
        """For worker threads only (a /metrics scrape): waits for the dispatcher."""
        return self.agent.control.statuses(timeout)

    async def command(self, command: Command, timeout: float) -> Any:  # noqa: ASYNC109
        return await self.agent.control.command_async(command, timeout)

    async def run_now(self, check_id: str, timeout: float) -> Result:  # noqa: ASYNC109
        return await self.agent.control.run_check_now(check_id, timeout)

    def subscribe(self, callback: Callable[[CheckStatus], None]) -> Callable[[], None]:
        """``callback`` runs on the dispatcher thread for every status change."""
        return self.agent.feed.subscribe(callback)
