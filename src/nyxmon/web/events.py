"""Live status changes as Server-Sent Events (``GET /events``), coalesced.

The agent publishes every status change on its dispatcher thread. The hub subscribes only
while someone listens, and its callback does almost nothing there: it records the newest
status per check under a lock and, at most once per ``coalesce`` period, asks the web loop
(``call_soon_threadsafe``) to flush. The flush hands the batch to every client; a client
that reads slowly keeps only the newest status per check, so memory stays bounded by the
number of checks whatever the pace of changes. One event carries every change of a period::

    event: status
    data: {"checks": [{"id": "web.home", "state": "down", ...}, ...], "states_changed": true}

``states_changed`` says whether any check entered another state (or appeared) since the last
event, as the web plane's :class:`~nyxmon.web.live.StatusMirror` counts them: pages refresh
their counts and groups only then, not for every result. Checks added, changed or removed
anywhere (API, form, CLI, a config reload) are announced as ``event: catalog`` with
``{"version": n}`` (:mod:`nyxmon.web.catalog_watch` notices them).

A page is rendered from data a moment old and connects a moment later; what changed in
between would be lost. So it connects with the marks it was rendered with
(``?catalog=&states=``) and, if either moved since, the stream starts with the matching event
(an empty ``status`` event with ``states_changed``), and the page refreshes once.

A ``: keepalive`` comment goes out when nothing changed for a while, so proxies keep the
stream open; the stream ends when the client disconnects or the server stops.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
from collections.abc import AsyncGenerator, Callable
from typing import Any

from nyxmon.domain.status import CheckStatus
from nyxmon.web.context import WebContext
from nyxmon.web.live import StatusMirror

__all__ = ["StatusHub", "status_json"]


def status_json(status: CheckStatus) -> dict[str, Any]:
    """A status as the API and the event stream show it."""
    return {
        "id": status.check_id,
        "state": str(status.state),
        "since": status.alert_since,
        "last_outcome": status.last_outcome.value if status.last_outcome is not None else None,
        "last_degraded": status.last_degraded,
        "last_result_at": status.last_result_at,
        "last_duration": status.last_duration,
        "message": status.last_message,
        "consecutive_failures": status.consecutive_failures,
    }


class _Client:
    __slots__ = ("catalog", "pending", "states_changed", "wake")

    def __init__(self) -> None:
        self.pending: dict[str, CheckStatus] = {}
        self.states_changed = False
        self.catalog = False
        self.wake = asyncio.Event()


class StatusHub:
    """Fans the agent's status feed out to SSE clients on the web loop.

    ``mirror`` (the web plane's, subscribed at the first client) tells changes of state from
    mere results; without one every event says ``states_changed``.
    """

    def __init__(
        self,
        context: WebContext,
        *,
        coalesce: float = 0.3,
        keepalive: float = 15.0,
        mirror: StatusMirror | None = None,
    ) -> None:
        self._context = context
        self._mirror = mirror
        self._coalesce = coalesce
        self._keepalive = keepalive
        self._loop: asyncio.AbstractEventLoop | None = None
        self._clients: set[_Client] = set()
        self._unsubscribe: Callable[[], None] | None = None
        self._lock = threading.Lock()
        self._pending: dict[str, CheckStatus] = {}
        self._state_mark = -1
        self._scheduled = False
        self._closed = False
        self.events_sent = 0
        #: Bumped by :meth:`catalog_changed`; pages are rendered with it (``?catalog=``).
        self.catalog_version = 0

    @property
    def clients(self) -> int:
        return len(self._clients)

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def subscribed(self) -> bool:
        return self._unsubscribe is not None

    # -- dispatcher thread ----------------------------------------------------------------------
    def _on_status(self, status: CheckStatus) -> None:
        with self._lock:
            self._pending[status.check_id] = status
            if self._scheduled or self._loop is None:
                return
            self._scheduled = True
        with contextlib.suppress(RuntimeError):  # the web loop is closed: we are stopping
            self._loop.call_soon_threadsafe(self._arm)

    # -- web loop -------------------------------------------------------------------------------
    def _arm(self) -> None:
        assert self._loop is not None
        self._loop.call_later(self._coalesce, self._flush)

    def _flush(self) -> None:
        with self._lock:
            batch, self._pending = self._pending, {}
            self._scheduled = False
        if not batch:
            return
        changed = True
        if self._mirror is not None:
            mark = self._mirror.state_changes
            changed, self._state_mark = mark != self._state_mark, mark
        for client in self._clients:
            client.pending.update(batch)
            client.states_changed = client.states_changed or changed
            client.wake.set()

    def catalog_changed(self) -> None:
        """Tell every client that checks were added, changed or removed (web loop)."""
        self.catalog_version += 1
        for client in self._clients:
            client.catalog = True
            client.wake.set()

    def _attach(self) -> _Client:
        if self._loop is None:
            self._loop = asyncio.get_running_loop()
        client = _Client()
        self._clients.add(client)
        if self._unsubscribe is None:
            if self._mirror is not None:
                self._mirror.start()
                self._state_mark = self._mirror.state_changes
            self._unsubscribe = self._context.subscribe(self._on_status)
        return client

    def _detach(self, client: _Client) -> None:
        self._clients.discard(client)
        if not self._clients and self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
            with self._lock:
                self._pending.clear()

    def close(self) -> None:
        """End every stream (called on the web loop as the server stops)."""
        self._closed = True
        for client in self._clients:
            client.wake.set()

    async def stream(
        self,
        initial: list[CheckStatus] | None = None,
        catalog: int | None = None,
        states: int | None = None,
    ) -> AsyncGenerator[str, None]:
        """The text of one client's event stream, until it disconnects or the hub closes.

        ``catalog`` and ``states`` are the marks the client's page was rendered with
        (:attr:`catalog_version`, the mirror's ``state_changes``): when one moved since, the
        stream starts by saying so."""
        client = self._attach()
        if self._closed:
            client.wake.set()
        try:
            yield "retry: 3000\n\n"
            if initial:
                yield _event("snapshot", initial)
            if catalog is not None and catalog != self.catalog_version:
                yield _catalog_event(self.catalog_version)
            mirror = self._mirror
            if states is not None and mirror is not None and states != mirror.state_changes:
                yield _event("status", [], states_changed=True)
            while True:
                try:
                    await asyncio.wait_for(client.wake.wait(), self._keepalive)
                except TimeoutError:
                    yield ": keepalive\n\n"
                    continue
                client.wake.clear()
                if self.closed:
                    break
                if client.catalog:
                    client.catalog = False
                    yield _catalog_event(self.catalog_version)
                batch, client.pending = client.pending, {}
                changed, client.states_changed = client.states_changed, False
                if batch:
                    self.events_sent += 1
                    yield _event("status", list(batch.values()), states_changed=changed)
        finally:
            self._detach(client)


def _event(name: str, statuses: list[CheckStatus], *, states_changed: bool = True) -> str:
    document = {"checks": [status_json(s) for s in statuses], "states_changed": states_changed}
    data = json.dumps(document, separators=(",", ":"))
    return f"event: {name}\ndata: {data}\n\n"


def _catalog_event(version: int) -> str:
    return f'event: catalog\ndata: {{"version":{version}}}\n\n'
