"""A fake Telegram Bot API on 127.0.0.1: ``sendMessage`` answered as the real one answers.

``with FakeBotApi(token=..., chats={"42"}) as api:`` serves it on a loop in a thread of its own
(usable by async tests, sync tests and subprocesses alike); ``api.url`` is the ``api_url`` to
configure. Answers follow the Bot API: ``{"ok": true, "result": {...}}``; a token other than
``token`` gets 401 ``Unauthorized``; a chat not in ``chats`` 400 ``Bad Request: chat not
found``; with ``throttle`` set to N seconds, the next request gets 429 with
``parameters.retry_after = N`` (once). Every request is kept in ``requests`` (path and JSON).
"""

from __future__ import annotations

import asyncio
import socket
import threading
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

__all__ = ["BotRequest", "FakeBotApi"]


@dataclass(frozen=True)
class BotRequest:
    """One call as it arrived."""

    token: str
    method: str
    body: dict[str, Any]
    status: int


@dataclass
class _State:
    token: str
    chats: set[str]
    throttle: int | None = None
    requests: list[BotRequest] = field(default_factory=list)


class FakeBotApi:
    """The fake Bot API on a loop in a thread of its own; a context manager."""

    def __init__(self, *, token: str, chats: set[str]) -> None:
        self.state = _State(token=token, chats=set(chats))
        self._lock = threading.Lock()
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread: threading.Thread | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def requests(self) -> list[BotRequest]:
        with self._lock:
            return list(self.state.requests)

    def throttle_next(self, seconds: int) -> None:
        with self._lock:
            self.state.throttle = seconds

    async def _handle(self, request: web.Request) -> web.Response:
        token, method = request.match_info["token"], request.match_info["method"]
        try:
            body = await request.json()
        except ValueError:
            body = {}
        with self._lock:
            status, answer = self._answer(token, method, body)
            self.state.requests.append(BotRequest(token, method, body, status))
        return web.json_response(answer, status=status)

    def _answer(self, token: str, method: str, body: dict[str, Any]) -> tuple[int, Any]:
        state = self.state
        if token != state.token:
            return 401, {"ok": False, "error_code": 401, "description": "Unauthorized"}
        if state.throttle is not None:
            wait, state.throttle = state.throttle, None
            return 429, {
                "ok": False,
                "error_code": 429,
                "description": f"Too Many Requests: retry after {wait}",
                "parameters": {"retry_after": wait},
            }
        if method != "sendMessage":
            return 404, {"ok": False, "error_code": 404, "description": "Not Found"}
        if str(body.get("chat_id")) not in state.chats:
            return 400, {
                "ok": False,
                "error_code": 400,
                "description": "Bad Request: chat not found",
            }
        if not body.get("text"):
            return 400, {
                "ok": False,
                "error_code": 400,
                "description": "Bad Request: message text is empty",
            }
        message = {"message_id": len(state.requests) + 1, "text": body["text"]}
        return 200, {"ok": True, "result": message}

    def __enter__(self) -> FakeBotApi:
        self._thread = threading.Thread(target=asyncio.run, args=(self._main(),), daemon=True)
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the fake Bot API did not start")
        return self

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        app = web.Application()
        app.router.add_post("/bot{token}/{method}", self._handle)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        site = web.SockSite(runner, sock)
        await site.start()
        self._ready.set()
        try:
            await self._stop.wait()
        finally:
            await runner.cleanup()

    def __exit__(self, *exc: object) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread is not None:
            self._thread.join(10)
