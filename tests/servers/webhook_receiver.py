"""A real webhook receiver on 127.0.0.1 that records, deduplicates and fails on demand.

``async with serve_webhook_receiver(secret="s") as hook`` serves it on the test's loop;
``ThreadedWebhookReceiver`` runs it on a loop of its own (for subprocesses and sync tests).
Every POST path is accepted; JSON bodies (NyxMon's webhook, Apprise's ``json://``) and form
bodies (Apprise's ``form://``) are recorded.

A notification is *accepted* once per ``X-NyxMon-Idempotency-Key``; repeats are counted in
``state.duplicates`` and answered 200, as a real receiver that dedupes would. With a ``secret``
the signature is verified (bad or missing: 401, counted in ``state.bad_signatures``).

Knobs (set from the server's loop, or through ``ThreadedWebhookReceiver.call``):
``state.fail_status`` answers every request with that status (500, 503, 400, ...) until set back
to ``None``; ``state.fail_next`` fails only the next N requests; ``state.retry_after`` adds a
``Retry-After`` header to failures; ``state.lose_answers`` accepts the next N notifications and
then answers 500 anyway (the answer "got lost", so the sender retries and the receiver sees a
duplicate); ``state.hold`` makes requests wait until ``state.release``
is set (a slow receiver), and ``state.held`` counts those waiting.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, TypeVar
from urllib.parse import parse_qsl

from aiohttp import web

from nyxmon.notify.signature import (
    IDEMPOTENCY_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    verify_signature,
)

__all__ = [
    "ReceivedRequest",
    "ReceiverState",
    "ThreadedWebhookReceiver",
    "WebhookReceiver",
    "serve_webhook_receiver",
]

T = TypeVar("T")


@dataclass(frozen=True)
class ReceivedRequest:
    """One request as it arrived, with its answer."""

    path: str
    headers: dict[str, str]
    body: bytes
    status: int

    @property
    def key(self) -> str | None:
        return self.headers.get(IDEMPOTENCY_HEADER)

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class ReceiverState:
    """What the receiver saw and how it behaves; see the module docstring."""

    secret: str | None = None
    fail_status: int | None = None
    fail_next: int = 0
    lose_answers: int = 0
    retry_after: str | None = None
    hold: bool = False
    requests: list[ReceivedRequest] = field(default_factory=list)
    accepted: list[dict[str, Any]] = field(default_factory=list)
    accepted_keys: set[str] = field(default_factory=set)
    duplicates: Counter[str] = field(default_factory=Counter)
    bad_signatures: int = 0
    held: int = 0
    release: asyncio.Event = field(default_factory=asyncio.Event)
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    def accepted_for(self, check_id: str) -> list[dict[str, Any]]:
        """Accepted NyxMon notifications about ``check_id``, in arrival order."""
        return [
            doc
            for doc in self.accepted
            if isinstance(doc.get("check"), dict) and doc["check"].get("id") == check_id
        ]

    async def wait_for(self, predicate: Callable[[ReceiverState], bool]) -> None:
        """Wait (on the server's loop) until ``predicate(state)`` holds."""
        while not predicate(self):
            self.changed.clear()
            await self.changed.wait()

    def _touch(self) -> None:
        self.changed.set()


STATE_KEY = web.AppKey("state", ReceiverState)


def _parse(request: web.Request, body: bytes) -> dict[str, Any]:
    if request.content_type == "application/json":
        doc = json.loads(body or b"{}")
        return doc if isinstance(doc, dict) else {"value": doc}
    if request.content_type == "application/x-www-form-urlencoded":
        return dict(parse_qsl(body.decode()))
    return {"raw": body.decode(errors="replace")}


async def _receive(request: web.Request) -> web.StreamResponse:
    state = request.app[STATE_KEY]
    body = await request.read()
    headers = dict(request.headers)
    status = 200
    try:
        if state.hold:
            state.held += 1
            state._touch()
            try:
                await state.release.wait()
            finally:
                state.held -= 1
        if state.fail_next > 0:
            state.fail_next -= 1
            status = state.fail_status or 500
        elif state.fail_status is not None:
            status = state.fail_status
        elif state.secret is not None and not verify_signature(
            state.secret,
            body,
            request.headers.get(TIMESTAMP_HEADER),
            request.headers.get(SIGNATURE_HEADER),
        ):
            state.bad_signatures += 1
            status = 401
        else:
            key = request.headers.get(IDEMPOTENCY_HEADER)
            if key is not None and key in state.accepted_keys:
                state.duplicates[key] += 1
            else:
                if key is not None:
                    state.accepted_keys.add(key)
                state.accepted.append(_parse(request, body))
            if state.lose_answers > 0:
                state.lose_answers -= 1
                status = 500
    finally:
        state.requests.append(ReceivedRequest(request.path, headers, body, status))
        state._touch()
    if status == 200:
        return web.json_response({"ok": True})
    extra = {"Retry-After": state.retry_after} if state.retry_after and status != 401 else {}
    return web.Response(status=status, text=f"receiver says {status}", headers=extra)


def make_app(state: ReceiverState) -> web.Application:
    app = web.Application()
    app[STATE_KEY] = state
    app.router.add_route("POST", "/{tail:.*}", _receive)
    return app


@dataclass(frozen=True)
class WebhookReceiver:
    host: str
    port: int
    state: ReceiverState

    def url(self, path: str = "/hook") -> str:
        return f"http://{self.host}:{self.port}{path}"


def _listening_socket(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    sock.setblocking(False)
    return sock


@asynccontextmanager
async def serve_webhook_receiver(
    *, secret: str | None = None, state: ReceiverState | None = None, port: int = 0
) -> AsyncIterator[WebhookReceiver]:
    """Serve a receiver on the running asyncio loop; ``port`` reuses a port (restarts)."""
    state = state or ReceiverState(secret=secret)
    runner = web.AppRunner(make_app(state), shutdown_timeout=0.2, access_log=None)
    await runner.setup()
    sock = _listening_socket("127.0.0.1", port)
    try:
        await web.SockSite(runner, sock).start()
        yield WebhookReceiver("127.0.0.1", sock.getsockname()[1], state)
    finally:
        state.release.set()  # let held requests end so the runner can stop
        await runner.cleanup()
        sock.close()


class ThreadedWebhookReceiver:
    """The receiver on an event loop in a thread of its own; a context manager."""

    def __init__(self, *, secret: str | None = None) -> None:
        self._secret = secret
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread: threading.Thread | None = None
        self._receiver: WebhookReceiver | None = None
        self._error: BaseException | None = None

    @property
    def receiver(self) -> WebhookReceiver:
        if self._receiver is None:
            raise RuntimeError("the receiver is not running")
        return self._receiver

    @property
    def state(self) -> ReceiverState:
        return self.receiver.state

    def url(self, path: str = "/hook") -> str:
        return self.receiver.url(path)

    def call(self, fn: Callable[[ReceiverState], T]) -> T:
        """Run ``fn(state)`` on the receiver's loop (to flip knobs safely) and return its value."""
        assert self._loop is not None
        return asyncio.run_coroutine_threadsafe(self._apply(fn), self._loop).result(10)

    async def _apply(self, fn: Callable[[ReceiverState], T]) -> T:
        result = fn(self.state)
        self.state._touch()
        return result

    def start(self) -> WebhookReceiver:
        self._thread = threading.Thread(target=self._run, name="webhook-receiver", daemon=True)
        self._thread.start()
        self._ready.wait(10)
        if self._error is not None:
            raise RuntimeError("the webhook receiver failed to start") from self._error
        return self.receiver

    def _run(self) -> None:
        asyncio.run(self._main())

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        try:
            async with serve_webhook_receiver(secret=self._secret) as receiver:
                self._receiver = receiver
                self._ready.set()
                await self._stop.wait()
        except BaseException as exc:
            self._error = exc
            self._ready.set()
            raise

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread is not None:
            self._thread.join(10)

    def __enter__(self) -> WebhookReceiver:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
