"""A Redis connection as a probe needs it: RESP2/RESP3 over asyncio streams, nothing more.

Like blackbox_exporter's redis prober, the ``redis`` check speaks the protocol itself: one
command out, one reply in. redis-py's package imports its cluster, sentinel, command and
observability modules (and through them OpenTelemetry, psutil and cryptography) whatever one
uses of it, about 17 MB of an agent's RSS; a probe needs ``HELLO``/``AUTH``, ``SELECT`` and one
command. Replies decode as redis-py decodes them (RESP3 maps to dicts, sets to lists, nulls to
None, simple and bulk strings to bytes), errors as :class:`RedisReplyError` without redis-py's
well-known code prefixes (``ERR``, ``WRONGPASS``, ...), as redis-py words them.
"""

from __future__ import annotations

import asyncio
from typing import Any

__all__ = ["RedisProtocolError", "RedisReplyError", "RespConnection", "command"]

#: Error codes redis-py drops from the front of the message; others (WRONGTYPE, ...) stay.
_DROPPED_CODES = frozenset(
    {"ERR", "WRONGPASS", "NOAUTH", "NOPERM", "EXECABORT", "LOADING", "NOSCRIPT", "READONLY"}
)
#: A bulk reply larger than this ends the run instead of filling the agent's memory.
MAX_BULK = 16 * 1024 * 1024


class RedisReplyError(Exception):
    """The server answered a command with an error reply; ``code`` is its first word."""

    def __init__(self, text: str) -> None:
        code = text.split(" ", 1)[0]
        shown = text[len(code) + 1 :] if code in _DROPPED_CODES else text
        super().__init__(shown)
        self.code = code
        self.text = shown


class RedisProtocolError(Exception):
    """What came back is not RESP, or the server closed the connection mid-reply."""


def command(*words: str | int) -> bytes:
    """``words`` as one RESP array of bulk strings."""
    parts = [b"*%d\r\n" % len(words)]
    for word in words:
        data = str(word).encode()
        parts.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(parts)


class RespConnection:
    """One connection: :meth:`call` sends a command and reads its reply."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer

    @classmethod
    async def open(cls, host: str, port: int) -> RespConnection:
        reader, writer = await asyncio.open_connection(host, port)
        return cls(reader, writer)

    async def call(self, *words: str | int) -> Any:
        """Send ``words`` as a command and return its reply; :class:`RedisReplyError` if the
        server answered with an error."""
        self._writer.write(command(*words))
        return await self.reply()

    async def reply(self) -> Any:
        """The next reply (push messages skipped)."""
        while True:
            line = await self._line()
            kind, rest = line[:1], line[1:]
            if kind != b">":
                return await self._value(kind, rest, line)
            for _ in range(self._count(rest, line)):
                await self.reply()

    async def _line(self) -> bytes:
        try:
            line = await self._reader.readuntil(b"\r\n")
        except asyncio.IncompleteReadError:
            raise RedisProtocolError("the server closed the connection") from None
        except asyncio.LimitOverrunError:
            raise RedisProtocolError("a reply line longer than 64 KiB") from None
        return line[:-2]

    async def _bulk(self, rest: bytes, line: bytes) -> bytes:
        size = self._count(rest, line)
        if size > MAX_BULK:
            raise RedisProtocolError(f"a reply of {size} bytes, more than {MAX_BULK}")
        try:
            return (await self._reader.readexactly(size + 2))[:-2]
        except asyncio.IncompleteReadError:
            raise RedisProtocolError("the server closed the connection") from None

    @staticmethod
    def _count(rest: bytes, line: bytes) -> int:
        try:
            return int(rest)
        except ValueError:
            raise RedisProtocolError(f"not a Redis reply: {line[:60]!r}") from None

    async def _value(self, kind: bytes, rest: bytes, line: bytes) -> Any:
        if kind == b"+":
            return rest
        if kind in (b"$", b"=", b"!"):
            if rest == b"-1":
                return None
            data = await self._bulk(rest, line)
            if kind == b"!":
                raise RedisReplyError(data.decode("utf-8", "replace"))
            return data[4:] if kind == b"=" else data  # "=": verbatim, after "txt:"
        if kind in (b":", b"("):
            return self._count(rest, line)
        if kind in (b"*", b"~"):
            if rest == b"-1":
                return None
            return [await self.reply() for _ in range(self._count(rest, line))]
        if kind == b"%":
            answer: dict[Any, Any] = {}
            for _ in range(self._count(rest, line)):
                key = await self.reply()
                answer[key if not isinstance(key, list) else tuple(key)] = await self.reply()
            return answer
        if kind == b"-":
            raise RedisReplyError(rest.decode("utf-8", "replace"))
        if kind == b"_":
            return None
        if kind == b",":
            try:
                return float(rest)
            except ValueError:
                raise RedisProtocolError(f"not a Redis reply: {line[:60]!r}") from None
        if kind == b"#":
            return rest == b"t"
        raise RedisProtocolError(f"not a Redis reply: {line[:60]!r}")

    def close(self) -> None:
        self._writer.close()
