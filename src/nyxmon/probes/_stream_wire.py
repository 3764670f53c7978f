"""The receiving end of a :class:`~nyxmon.probes.stream_session.StreamSession`'s connection: an
``asyncio.Protocol`` that keeps what arrived in one buffer and wakes one waiter."""

from __future__ import annotations

import asyncio
from typing import Any

__all__ = ["LINE_LIMIT", "Wire"]

#: The longest line a session reads; the transport pauses past twice this much unread.
LINE_LIMIT = 65_536


class Wire(asyncio.Protocol):
    """The receiving end of a session's connection: what arrived, in one buffer, and one
    waiter to wake.

    asyncio's streams put a ``StreamReaderProtocol``, a ``StreamReader`` and a
    ``StreamWriter`` (and a weak reference) on every connection and wake a reader through
    two more coroutines; a probe reads a line or two, so that was a good part of its CPU.
    This keeps what they do for a probe: the buffer, EOF and the connection's error,
    pausing the transport past twice the line limit, and flow control for sending.
    """

    __slots__ = (
        "buffer",
        "drain_waiter",
        "eof",
        "error",
        "loop",
        "lost",
        "over_ssl",
        "reading_paused",
        "transport",
        "waiter",
        "writing_paused",
    )

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.buffer = bytearray()
        self.transport: Any = None
        self.waiter: asyncio.Future[None] | None = None
        self.drain_waiter: asyncio.Future[None] | None = None
        self.eof = False
        self.lost = False
        #: The exception the connection ended with; reads raise it, as a StreamReader does.
        self.error: BaseException | None = None
        self.over_ssl = False
        self.reading_paused = False
        self.writing_paused = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        buffer = self.buffer
        buffer += data
        waiter = self.waiter
        if waiter is not None:
            self.waiter = None
            if not waiter.done():
                waiter.set_result(None)
        if len(buffer) > 2 * LINE_LIMIT and not self.reading_paused:
            try:
                self.transport.pause_reading()
            except NotImplementedError:  # an SSL transport that cannot: the limit still holds
                return
            self.reading_paused = True

    def consumed(self) -> None:
        """Resume a paused transport once the buffer is back under the limit."""
        if self.reading_paused and len(self.buffer) <= LINE_LIMIT:
            self.reading_paused = False
            self.transport.resume_reading()

    def eof_received(self) -> bool:
        self.eof = True
        self._wake()
        # Half-open as with streams (a write after the peer's EOF still goes out); over
        # TLS the return value does not count.
        return not self.over_ssl

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        self.eof = True
        if exc is not None:
            self.error = exc
        self._wake()
        waiter, self.drain_waiter = self.drain_waiter, None
        if waiter is not None and not waiter.done():
            if exc is None:
                waiter.set_result(None)
            else:
                waiter.set_exception(exc)

    def pause_writing(self) -> None:
        self.writing_paused = True

    def resume_writing(self) -> None:
        self.writing_paused = False
        waiter, self.drain_waiter = self.drain_waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _wake(self) -> None:
        waiter, self.waiter = self.waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def broken(self) -> BaseException | None:
        """The exception the connection ended with (it may have come during an ``await``)."""
        return self.error

    def wait(self) -> asyncio.Future[None]:
        """A future done when more data, EOF or the connection's end arrives."""
        if self.reading_paused:
            self.reading_paused = False
            self.transport.resume_reading()
        waiter = self.waiter = self.loop.create_future()
        return waiter

    async def drain(self) -> None:
        """Wait until the transport's buffer empties (what ``StreamWriter.drain`` does)."""
        if self.error is not None:
            raise self.error
        if self.transport.is_closing():
            await asyncio.sleep(0)  # let connection_lost run first
        if self.lost:
            raise ConnectionResetError("Connection lost")
        if not self.writing_paused:
            return
        waiter = self.drain_waiter = self.loop.create_future()
        await waiter
