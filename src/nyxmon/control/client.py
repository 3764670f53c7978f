"""The client end of the agent's control channel (:mod:`nyxmon.agent.control_server`).

Used by the web plane when it runs as its own process. One connection: requests are matched
to answers by id, and the pushed frames (every status that changed, the agent's health) go to
the handlers given at construction. Everything runs on the caller's event loop.

Requests time out by a sweep every :data:`SWEEP_EVERY` seconds over a heap of deadlines, not a
timer each: under a burst of pings, ``asyncio.timeout`` (a timer started and cancelled per
request) took 5-7% of the web process's profile samples (py-spy during bench/push.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import logging
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from nyxmon.control.wire import (
    MAX_FRAME,
    ProtocolError,
    decode_frame,
    encode_frame,
    error_from_wire,
    status_from_wire,
)
from nyxmon.domain.status import CheckStatus
from nyxmon.errors import NyxmonError

__all__ = ["SWEEP_EVERY", "AgentUnreachableError", "ControlClient"]

#: How often waiting requests are checked against their deadline (a request may wait up to
#: this much longer than its timeout before it fails).
SWEEP_EVERY = 0.05

log = logging.getLogger(__name__)

OnStatuses = Callable[[Sequence[CheckStatus], bool], None]
"""``(statuses, full)``: ``full`` marks the snapshot sent when the subscription starts."""

OnHealth = Callable[[Mapping[str, Any]], None]
"""The agent's health (``Health.to_dict()``), pushed each second."""


class AgentUnreachableError(NyxmonError):
    """The agent's control socket cannot be reached, or the connection to it closed."""


class ControlClient:
    """``await client.connect()``, ``client.start()``, then ``await client.request(...)``."""

    def __init__(self, path: Path, *, on_statuses: OnStatuses, on_health: OnHealth) -> None:
        self.path = path
        self._on_statuses = on_statuses
        self._on_health = on_health
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._ids = itertools.count(1)
        self._waiting: dict[int, asyncio.Future[Any]] = {}
        self._reading: asyncio.Task[None] | None = None
        self._outgoing: list[bytes] = []
        self._deadlines: list[tuple[float, int]] = []
        self._sweep: asyncio.TimerHandle | None = None
        self.closed = asyncio.Event()

    async def connect(self, timeout: float = 15.0) -> None:  # noqa: ASYNC109
        """Connect, trying again until ``timeout`` (the agent may still be starting)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            try:
                self._reader, self._writer = await asyncio.open_unix_connection(
                    str(self.path), limit=MAX_FRAME
                )
                return
            except OSError as exc:
                if loop.time() >= deadline:
                    raise AgentUnreachableError(
                        f"cannot reach the agent's control socket {self.path}: {exc}"
                    ) from None
                await asyncio.sleep(0.1)

    def start(self) -> None:
        """Read answers and pushes from now on, and subscribe to statuses and health."""
        self._reading = asyncio.get_running_loop().create_task(self._read())
        self._send({"op": "subscribe", "id": 0})

    async def request(self, op: str, *, timeout: float, **fields: Any) -> Any:  # noqa: ASYNC109
        """Send a request and wait for its answer; the agent's error is raised here."""
        if self.closed.is_set():
            raise AgentUnreachableError("the connection to the agent is closed")
        request_id = next(self._ids)
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        self._waiting[request_id] = future
        heapq.heappush(self._deadlines, (loop.time() + timeout, request_id))
        if self._sweep is None:
            self._sweep = loop.call_later(SWEEP_EVERY, self._expire)
        try:
            self._send({"op": op, "id": request_id, **fields})
            return await future
        finally:
            self._waiting.pop(request_id, None)

    def _expire(self) -> None:
        """Fail the requests whose deadline passed with TimeoutError; sweep again while any
        request waits."""
        loop = asyncio.get_running_loop()
        now = loop.time()
        deadlines = self._deadlines
        while deadlines and deadlines[0][0] <= now:
            _, request_id = heapq.heappop(deadlines)
            future = self._waiting.get(request_id)
            if future is not None and not future.done():
                future.set_exception(TimeoutError())
        # Answered requests leave their deadline behind: drop them once they are most.
        if len(deadlines) > 2 * len(self._waiting) + 64:
            self._deadlines = [d for d in deadlines if d[1] in self._waiting]
            heapq.heapify(self._deadlines)
        self._sweep = loop.call_later(SWEEP_EVERY, self._expire) if self._waiting else None
        if self._sweep is None:
            self._deadlines.clear()

    async def aclose(self) -> None:
        if self._writer is not None:
            self._writer.close()
            with contextlib.suppress(Exception):
                await self._writer.wait_closed()
        if self._sweep is not None:
            self._sweep.cancel()
            self._sweep = None
        if self._reading is not None:
            self._reading.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reading

    # -- internals ----------------------------------------------------------------------------
    def _send(self, frame: dict[str, Any]) -> None:
        """Queue ``frame``; the frames of one loop turn leave in one write. Under a burst of
        requests (pings from many jobs at once) one syscall per frame was most of the web
        plane's CPU (measured: bench/push.py)."""
        if self._writer is None:
            raise AgentUnreachableError("not connected to the agent")
        self._outgoing.append(encode_frame(frame))
        if len(self._outgoing) == 1:
            asyncio.get_running_loop().call_soon(self._flush)

    def _flush(self) -> None:
        frames, self._outgoing = self._outgoing, []
        if frames and self._writer is not None and not self._writer.is_closing():
            self._writer.write(b"".join(frames))

    async def _read(self) -> None:
        assert self._reader is not None
        try:
            while line := await self._reader.readline():
                self._dispatch(decode_frame(line))
        except (ConnectionError, ProtocolError, ValueError) as exc:
            log.error("the agent's control connection failed: %s", exc)
        finally:
            self.closed.set()
            for future in self._waiting.values():
                if not future.done():
                    future.set_exception(AgentUnreachableError("the agent closed the connection"))

    def _dispatch(self, frame: dict[str, Any]) -> None:
        op = frame.get("op")
        if op == "statuses":
            statuses = [status_from_wire(item) for item in frame.get("items", ())]
            self._on_statuses(statuses, bool(frame.get("full")))
            return
        if op == "health":
            self._on_health(frame.get("health") or {})
            return
        future = self._waiting.get(frame.get("id", -1))
        if future is None or future.done():
            if "error" in frame:
                log.error("the agent refused a control frame: %s", frame["error"])
            return
        if "error" in frame:
            future.set_exception(error_from_wire(frame["error"]))
        else:
            future.set_result(frame.get("value"))
