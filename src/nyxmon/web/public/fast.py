"""Public answers (status pages, badges) served from memory, ahead of the whole app.

During an outage the status page is what everyone reloads. Each request going through routing,
dependencies and rendering costs milliseconds; bare bytes cost microseconds. So this pure ASGI
layer sits outside the app: it keeps the last complete answer (status, headers, body, ETag) of
each public GET it has seen, and answers from it while it is younger than ``fresh`` seconds,
with a ``304`` for a client that already holds it. A miss, or an answer that aged past
``fresh``, is produced by the app itself (one request at a time per path, the others wait for
it), so the answer is exactly what the app would have said, security headers included.

Only ``200`` answers are kept, at most ``max_entries`` of them (the least recently used go):
an unknown badge id costs a full request each time, as a private one does, so the two are
indistinguishable, and nobody can fill the memory with made-up paths. The data behind an
answer is itself at most the app's own cache period old, so what a client sees is at most
that plus ``fresh`` seconds old.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["PublicFastPath"]

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

_CONDITIONAL = frozenset({b"etag", b"cache-control", b"vary"})


@dataclass(frozen=True, slots=True)
class _Answer:
    made: float
    headers: list[tuple[bytes, bytes]]
    body: bytes
    etag: bytes | None


class PublicFastPath:
    """Wraps ``app``; paths starting with one of ``prefixes`` are served from memory."""

    def __init__(
        self,
        app: ASGIApp,
        prefixes: tuple[str, ...],
        *,
        fresh: float = 1.0,
        max_entries: int = 2_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.app = app
        self._prefixes = prefixes
        self._fresh = fresh
        self._max = max_entries
        self._clock = clock
        self._answers: OrderedDict[bytes, _Answer] = OrderedDict()
        self._making: dict[bytes, asyncio.Future[_Answer | None]] = {}
        self.hits = self.misses = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] not in ("GET", "HEAD")
            or not scope["path"].startswith(self._prefixes)
        ):
            await self.app(scope, receive, send)
            return
        key = scope["raw_path"] + b"?" + scope["query_string"]
        answer = self._answers.get(key)
        if answer is None or self._clock() - answer.made > self._fresh:
            self.misses += 1
            answer = await self._make(key, scope, receive)
            if answer is None:  # not a 200: the app answers this request itself
                await self.app(scope, receive, send)
                return
        else:
            self.hits += 1
            self._answers.move_to_end(key)
        await self._send(answer, scope, send)

    async def _make(self, key: bytes, scope: Scope, receive: Receive) -> _Answer | None:
        pending = self._making.get(key)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[_Answer | None] = asyncio.get_running_loop().create_future()
        self._making[key] = future
        try:
            answer = await self._ask_app(scope, receive)
            future.set_result(answer)
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: waiters get it, nobody logs it as lost
            raise
        finally:
            del self._making[key]
        if answer is not None:
            self._answers[key] = answer
            self._answers.move_to_end(key)
            while len(self._answers) > self._max:
                self._answers.popitem(last=False)
        return answer

    async def _ask_app(self, scope: Scope, receive: Receive) -> _Answer | None:
        """The app's own answer to a plain GET of the path (no conditional headers)."""
        plain = dict(scope)
        plain["method"] = "GET"
        plain["headers"] = [
            (name, value)
            for name, value in scope["headers"]
            if name not in (b"if-none-match", b"if-modified-since")
        ]
        status = 0
        headers: list[tuple[bytes, bytes]] = []
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            nonlocal status, headers
            if message["type"] == "http.response.start":
                status = int(message["status"])
                headers = list(message.get("headers", []))
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        async def no_body() -> Message:
            return {"type": "http.request", "body": b"", "more_body": False}

        await self.app(plain, no_body, capture)
        if status != 200:
            return None
        etag = next((value for name, value in headers if name.lower() == b"etag"), None)
        body = b"".join(chunks)
        headers = [(n, v) for n, v in headers if n.lower() != b"content-length"]
        headers.append((b"content-length", str(len(body)).encode()))
        return _Answer(self._clock(), headers, body, etag)

    @staticmethod
    async def _send(answer: _Answer, scope: Scope, send: Send) -> None:
        if answer.etag is not None:
            for name, value in scope["headers"]:
                if name == b"if-none-match" and answer.etag in {
                    tag.strip() for tag in value.split(b",")
                }:
                    kept = [(n, v) for n, v in answer.headers if n.lower() in _CONDITIONAL]
                    await send({"type": "http.response.start", "status": 304, "headers": kept})
                    await send({"type": "http.response.body", "body": b""})
                    return
        await send({"type": "http.response.start", "status": 200, "headers": answer.headers})
        body = b"" if scope["method"] == "HEAD" else answer.body
        await send({"type": "http.response.body", "body": body})
