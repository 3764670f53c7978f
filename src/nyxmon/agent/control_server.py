"""The agent's control channel: the web plane's way in when it runs as its own process.

A Unix socket next to the database (mode 0600: only the agent's user can connect, and that
user can read the database anyway). It serves, on a thread and event loop of its own so the
probe loop never formats a frame:

- ``subscribe``: every check's status at once, then the statuses that changed, coalesced per
  check every ``flush_every`` seconds, plus the agent's health each second;
- ``command``: a catalog command (add, change, pause, remove a check or service) handed to
  the application, answered when it committed or was refused;
- ``run_now``: run a check now and answer with its result;
- ``ping``: a push check's ping, answered with the check's id once it is durable (the pings
  of one read go to the application together: :mod:`nyxmon.agent.ping_relay`);
- ``metrics``: the agent's recorder snapshots, for ``/metrics``.

Frames are :mod:`nyxmon.control.wire`'s. A request is answered under its ``id``; requests of
one connection run concurrently, and frames to it are written in order.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import anyio.to_thread

from nyxmon.agent.control import AgentControl
from nyxmon.agent.feed import StatusFeed
from nyxmon.agent.ping_relay import PingRelay
from nyxmon.control.wire import (
    MAX_FRAME,
    ProtocolError,
    answer_frame,
    command_from_wire,
    decode_frame,
    encode_frame,
    error_to_wire,
    ping_from_wire,
    result_to_wire,
    status_to_wire,
)
from nyxmon.domain.status import CheckStatus
from nyxmon.metrics import MetricsRuntime
from nyxmon.metrics.exposition import collect_snapshots
from nyxmon.runtime import Runtime

__all__ = ["ControlServer"]

log = logging.getLogger(__name__)

_HEALTH_EVERY = 1.0


class _Peer:
    """One connected client: frames are queued and written in order by one task."""

    def __init__(self, writer: asyncio.StreamWriter) -> None:
        self.writer = writer
        self.subscribed = False
        self.queue: asyncio.Queue[bytes | None] = asyncio.Queue()

    def send(self, frame: bytes) -> None:
        self.queue.put_nowait(frame)

    async def write_all(self) -> None:
        """Write queued frames in order, all those waiting in one write (one syscall for a
        burst of answers instead of one each)."""
        queue = self.queue
        while (frame := await queue.get()) is not None:
            frames = [frame]
            while not queue.empty():
                more = queue.get_nowait()
                if more is None:
                    self.writer.write(b"".join(frames))
                    return
                frames.append(more)
            self.writer.write(b"".join(frames) if len(frames) > 1 else frame)
            await self.writer.drain()


class ControlServer:
    """``ControlServer(...).start()`` before the web process starts; ``stop()`` after it ended."""

    def __init__(
        self,
        path: Path,
        control: AgentControl,
        feed: StatusFeed,
        metrics: MetricsRuntime,
        health: Callable[[], Mapping[str, Any]],
        statistics: Callable[[], Mapping[str, Any]],
        *,
        flush_every: float = 0.1,
        command_timeout: float = 30.0,
    ) -> None:
        self.path = path
        self._control = control
        self._feed = feed
        self._metrics = metrics
        self._health = health
        self._statistics = statistics
        self._flush_every = flush_every
        self._command_timeout = command_timeout
        self._runtime = Runtime(name="nyxmon-control")
        self._server: asyncio.Server | None = None
        self._peers: set[_Peer] = set()
        self._lock = threading.Lock()
        self._pending: dict[str, CheckStatus] = {}
        self._flush_scheduled = False
        self._unsubscribe: Callable[[], None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pings: PingRelay | None = None
        self._tasks: set[asyncio.Task[Any]] = set()

    # -- lifecycle (any thread) ---------------------------------------------------------------
    def start(self) -> ControlServer:
        self._runtime.start()
        self._runtime.call(self._open)
        return self

    def stop(self, timeout: float = 5.0) -> None:
        if self._runtime.running:
            with contextlib.suppress(Exception):
                self._runtime.call(self._close, timeout=timeout)
            self._runtime.shutdown(timeout=timeout, drain=False)
        try:
            self.path.unlink()
        except FileNotFoundError:
            pass
        except OSError as exc:  # a read-only or failing disk must not stop the agent's stop
            log.warning("could not remove the control socket %s: %s", self.path, exc.strerror)

    # -- the server's loop ------------------------------------------------------------------
    async def _open(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._pings = PingRelay(self._loop, self._control.record_pings)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()  # a socket left by a killed agent
        old_umask = os.umask(0o177)
        try:
            self._server = await asyncio.start_unix_server(
                self._serve, path=str(self.path), limit=MAX_FRAME
            )
        finally:
            os.umask(old_umask)
        self._unsubscribe = self._feed.subscribe(self._on_status)
        self._spawn(self._health_loop())

    async def _close(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
        if self._server is not None:
            self._server.close()
        for peer in list(self._peers):
            peer.queue.put_nowait(None)
            peer.writer.close()
        for task in list(self._tasks):
            task.cancel()

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = _Peer(writer)
        self._peers.add(peer)
        writing = asyncio.get_running_loop().create_task(peer.write_all())
        try:
            while line := await reader.readline():
                try:
                    frame = decode_frame(line)
                except ProtocolError as exc:
                    peer.send(encode_frame({"op": "error", "error": error_to_wire(exc)}))
                    break
                if frame.get("op") == "ping":
                    self._ping(peer, frame)
                else:
                    self._spawn(self._answer(peer, frame))
        except (ConnectionError, asyncio.LimitOverrunError, ValueError) as exc:
            log.warning("control connection dropped: %s", exc)
        finally:
            self._peers.discard(peer)
            peer.queue.put_nowait(None)
            with contextlib.suppress(Exception):
                await writing
            writer.close()

    async def _answer(self, peer: _Peer, frame: dict[str, Any]) -> None:
        op = frame.get("op")
        request_id = frame.get("id")
        try:
            if op == "subscribe":
                peer.subscribed = True
                statuses = await self._control.statuses_async()
                peer.send(self._statuses_frame(statuses.values(), full=True))
                peer.send(self._health_frame())
                return
            if op == "command":
                command = command_from_wire(frame.get("command") or {})
                timeout = float(frame.get("timeout_s", self._command_timeout))
                await self._control.command_async(command, timeout)
                value: Any = None
            elif op == "run_now":
                result = await self._control.run_check_now(
                    str(frame["check_id"]), float(frame.get("timeout_s", 30.0))
                )
                value = result_to_wire(result)
            elif op == "statistics":
                value = _plain(self._statistics())
            elif op == "metrics":
                snapshots = await anyio.to_thread.run_sync(
                    collect_snapshots, [self._metrics], float(frame.get("timeout", 2.0))
                )
                value = [snapshot.to_dict() for snapshot in snapshots]
            else:
                raise ProtocolError(f"unknown control op {op!r}")
        except Exception as exc:
            peer.send(encode_frame({"id": request_id, "error": error_to_wire(exc)}))
            return
        peer.send(answer_frame(request_id, value))

    def _ping(self, peer: _Peer, frame: dict[str, Any]) -> None:
        """A ping joins the others of this loop turn (no task of its own); the relay answers
        it once it is durable or refused."""
        assert self._pings is not None
        request_id = frame.get("id")
        try:
            ping = ping_from_wire(frame.get("ping"))
        except Exception as exc:  # a malformed ping is refused, the connection stays
            peer.send(encode_frame({"id": request_id, "error": error_to_wire(exc)}))
            return
        self._pings.add(peer.send, request_id, ping)

    # -- pushes -----------------------------------------------------------------------------
    def _on_status(self, status: CheckStatus) -> None:  # dispatcher thread: one dict write
        with self._lock:
            self._pending[status.check_id] = status
            if self._flush_scheduled or self._loop is None:
                return
            self._flush_scheduled = True
        with contextlib.suppress(RuntimeError):  # the loop is closed: we are stopping
            self._loop.call_soon_threadsafe(self._arm)

    def _arm(self) -> None:
        assert self._loop is not None
        self._loop.call_later(self._flush_every, self._flush)

    def _flush(self) -> None:
        with self._lock:
            pending, self._pending = self._pending, {}
            self._flush_scheduled = False
        if not pending:
            return
        frame = self._statuses_frame(pending.values(), full=False)
        for peer in self._peers:
            if peer.subscribed:
                peer.send(frame)

    async def _health_loop(self) -> None:
        while True:
            await asyncio.sleep(_HEALTH_EVERY)
            frame = self._health_frame()
            for peer in self._peers:
                if peer.subscribed:
                    peer.send(frame)

    def _health_frame(self) -> bytes:
        return encode_frame({"op": "health", "health": self._health(), "at": time.time()})

    @staticmethod
    def _statuses_frame(statuses: Any, *, full: bool) -> bytes:
        items = [status_to_wire(status) for status in statuses]
        return encode_frame({"op": "statuses", "full": full, "items": items})


def _plain(value: Any) -> Any:
    """JSON-safe copy: mappings, sequences, non-finite floats as None, other values as text."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, float):
        return value if value == value and abs(value) != float("inf") else None
    if value is None or isinstance(value, str | int | bool):
        return value
    return str(value)
