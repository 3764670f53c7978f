"""The agent seen from a web plane in its own process: its control socket plus the store.

Statuses are mirrored from the agent's push (a full snapshot when the subscription starts,
then what changed), so reading them costs no round trip; commands, run-now, the agent's
figures and its metric snapshots are requests. The config file gives what the web plane shows
of the config (defaults, routes, maintenance windows, the public URL); ``reload()`` reads it
again. If the agent goes away, :meth:`health` says so and writes fail with
:class:`~nyxmon.control.client.AgentUnreachableError`; ``/healthz`` answers 503.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import MappingProxyType
from typing import Any

from nyxmon.config import LoadedConfig
from nyxmon.control.client import AgentUnreachableError, ControlClient
from nyxmon.control.wire import command_to_wire, ping_to_wire, result_from_wire
from nyxmon.domain.model import Result
from nyxmon.domain.push import Ping
from nyxmon.domain.status import CheckStatus
from nyxmon.metrics import Recorder, RecorderSnapshot
from nyxmon.service_layer.messages import Command
from nyxmon.service_layer.records.health import Health
from nyxmon.service_layer.storage import Store
from nyxmon.web.config_view import ConfigView

__all__ = ["RemoteContext"]

StatusCallback = Callable[[CheckStatus], None]


class RemoteContext(ConfigView):
    """A :class:`~nyxmon.web.context.WebContext` for an agent in another process."""

    def __init__(self, config: LoadedConfig, store: Store, control_path: Path) -> None:
        self._config = config
        self._store = store
        self._statuses: dict[str, CheckStatus] = {}
        self._subscribers: tuple[StatusCallback, ...] = ()
        self._health = Health.unreachable("not connected to the agent yet")
        self._ready = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self.client = ControlClient(
            control_path, on_statuses=self._on_statuses, on_health=self._on_health
        )

    # -- what the config says ------------------------------------------------------------------
    @property
    def store(self) -> Store:
        return self._store

    @property
    def recorder(self) -> Recorder | None:
        return None  # the agent's recorder lives in the agent's process

    # -- lifecycle (web loop) ------------------------------------------------------------------
    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        await self.client.connect()
        self.client.start()
        async with asyncio.timeout(15.0):
            await self._ready.wait()

    async def aclose(self) -> None:
        await self.client.aclose()

    # -- the agent's state -----------------------------------------------------------------------
    def health(self) -> Health:
        if self.client.closed.is_set():
            return Health.unreachable("the agent is not reachable: its control connection closed")
        return self._health

    async def statuses(self, timeout: float = 5.0) -> Mapping[str, CheckStatus]:  # noqa: ASYNC109
        async with asyncio.timeout(timeout):
            await self._ready.wait()
        return MappingProxyType(dict(self._statuses))

    def statuses_blocking(self, timeout: float = 5.0) -> Mapping[str, CheckStatus]:
        return MappingProxyType(dict(self._statuses))

    def metric_snapshots(self, timeout: float = 2.0) -> list[RecorderSnapshot]:
        data = self._from_thread(self.client.request("metrics", timeout=timeout + 1.0), timeout)
        return [RecorderSnapshot.from_dict(item) for item in data]

    async def statistics(self, timeout: float = 5.0) -> Mapping[str, Any]:  # noqa: ASYNC109
        value: Mapping[str, Any] = await self.client.request("statistics", timeout=timeout)
        return value

    async def command(self, command: Command, timeout: float) -> Any:  # noqa: ASYNC109
        return await self.client.request(
            "command", timeout=timeout + 1.0, command=command_to_wire(command), timeout_s=timeout
        )

    async def run_now(self, check_id: str, timeout: float) -> Result:  # noqa: ASYNC109
        data = await self.client.request(
            "run_now", timeout=timeout + 1.0, check_id=check_id, timeout_s=timeout
        )
        return result_from_wire(data)

    async def ping(self, ping: Ping, timeout: float) -> str:  # noqa: ASYNC109
        # The agent answers once the ping is durable, however long that takes: this side
        # owns the timeout (agent/ping_relay.py).
        check_id: str = await self.client.request("ping", timeout=timeout, ping=ping_to_wire(ping))
        return check_id

    def subscribe(self, callback: StatusCallback) -> Callable[[], None]:
        self._subscribers = (*self._subscribers, callback)

        def unsubscribe() -> None:
            self._subscribers = tuple(s for s in self._subscribers if s is not callback)

        return unsubscribe

    # -- pushes (web loop) -------------------------------------------------------------------
    def _on_statuses(self, statuses: Sequence[CheckStatus], full: bool) -> None:
        if full:
            self._statuses = {status.check_id: status for status in statuses}
            self._ready.set()
        else:
            for status in statuses:
                self._statuses[status.check_id] = status
        for callback in self._subscribers:
            for status in statuses:
                callback(status)

    def _on_health(self, data: Mapping[str, Any]) -> None:
        self._health = Health.from_dict(data)

    def _from_thread(self, coro: Any, timeout: float) -> Any:
        """Run ``coro`` on the web loop from a worker thread and wait for it."""
        if self._loop is None:
            coro.close()
            raise AgentUnreachableError("the web plane has not connected to the agent")
        future = asyncio.run_coroutine_threadsafe(coro, self._loop)
        try:
            return future.result(timeout + 2.0)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise TimeoutError(f"the agent did not answer within {timeout:g} s") from None
