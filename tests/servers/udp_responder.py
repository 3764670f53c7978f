"""A real UDP peer on 127.0.0.1: answers each datagram with ``reply`` (or echoes it), or stays
silent. ``async with UdpResponder()`` on the current loop, ``with ....in_thread()`` on its own."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

__all__ = ["UdpResponder"]


@dataclass
class UdpResponder:
    reply: bytes | None = None  # None: echo what came
    silent: bool = False
    host: str = "127.0.0.1"
    port: int = 0
    received: list[bytes] = field(default_factory=list)
    _transport: asyncio.DatagramTransport | None = None

    async def __aenter__(self) -> UdpResponder:
        responder = self

        class _Protocol(asyncio.DatagramProtocol):
            def connection_made(self, transport: Any) -> None:
                self.transport = transport

            def datagram_received(self, data: bytes, addr: Any) -> None:
                responder.received.append(data)
                if not responder.silent:
                    self.transport.sendto(
                        data if responder.reply is None else responder.reply, addr
                    )

        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(
            _Protocol, local_addr=(self.host, self.port)
        )
        self._transport = transport
        self.port = int(transport.get_extra_info("sockname")[1])
        return self

    async def __aexit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._transport is not None:
            self._transport.close()

    @contextlib.contextmanager
    def in_thread(self) -> Iterator[UdpResponder]:
        loop = asyncio.new_event_loop()
        ready = threading.Event()
        stop = asyncio.Event()

        async def main() -> None:
            async with self:
                ready.set()
                await stop.wait()

        thread = threading.Thread(target=loop.run_until_complete, args=(main(),), daemon=True)
        thread.start()
        ready.wait(10)
        try:
            yield self
        finally:
            loop.call_soon_threadsafe(stop.set)
            thread.join(10)
            loop.close()
