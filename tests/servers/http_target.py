"""A real HTTP(S) server to probe: healthy, slow, flaky, redirecting, JSON, auth-protected.

Start it in a test with ``async with serve_http_target() as target`` (on the test's own loop),
or in a thread of its own with ``ThreadedHttpTarget`` (for sync tests, the demo, end-to-end
runs). It listens on 127.0.0.1 on an ephemeral port; pass ``ssl_context`` for HTTPS.

Routes (all GET unless said otherwise):

- ``/`` and ``/health``: 200, ``ok``
- ``/slow?delay=S``: waits S seconds (default 1), then 200 ``ok``
- ``/flaky``: alternates 200 ``ok`` and 503, starting with 200
- ``/gate``: waits until ``state.gate`` is set (``POST /gate/open``), then 200 ``ok``
- ``/switch``: 200 or 503 following ``state.healthy`` (``POST /switch/up`` / ``/switch/down``)
- ``/status/{code}``: that status, body ``status {code}``
- ``/named/{name}``: 200, or 503 while ``name`` is in ``state.down`` (hits counted per name)
- ``/located``: 200, or 503 when the User-Agent's ``(location X)`` names a location in
  ``state.down_from`` (hits counted per location in ``state.located_hits``)
- ``/redirect/{n}``: a chain of n 302 redirects ending at ``/``
- ``/redirect-loop``: redirects to itself forever
- ``/json``: a nested document, ``/json/down`` one whose status is DOWN, ``/json/invalid``
  a broken body labelled application/json
- ``/keyword``: a page containing ``Welcome`` and ``status: green``
- ``/big?size=N``: N bytes of ``x``
- ``/chunked?size=N&chunk=C``: N bytes of ``y`` sent chunked (no Content-Length), C at a time
- ``/to?path=P&linger=S``: a 302 redirect to P (``/to?path=/slow`` makes a redirect to a slow
  page); with ``linger`` its body follows its headers S seconds later
- ``/headers``: the request headers as JSON; ``/echo`` (any method): method and body as JSON
- ``/basic-auth``: needs basic auth ``state.username`` / ``state.password``
- ``/api-key``: needs ``state.api_key`` in the ``X-Api-Key`` header or the ``apikey`` query
- ``/bearer``: needs ``Authorization: Bearer <state.token>``
"""

from __future__ import annotations

import asyncio
import base64
import json
import re
import socket
import ssl
import threading
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

from aiohttp import hdrs, web

from tests.servers.ws_routes import add_ws_routes

__all__ = [
    "JSON_DOCUMENT",
    "HttpTarget",
    "TargetState",
    "ThreadedHttpTarget",
    "make_app",
    "serve_http_target",
]

JSON_DOCUMENT: dict[str, Any] = {
    "status": "UP",
    "version": "1.4.2",
    "uptime_seconds": 86_400,
    "data": [
        {"id": 1, "name": "alpha", "healthy": True, "tags": ["db", "primary"]},
        {"id": 2, "name": "beta", "healthy": False, "tags": []},
    ],
    "meta": {"region": "eu-west", "replicas": {"ready": 3, "desired": 3}},
    "errors": [],
}


@dataclass
class TargetState:
    """Knobs and counters shared by the routes; tests read and flip them directly.

    ``in_flight`` / ``max_in_flight`` count requests being handled, to observe a client's
    concurrency. ``gate`` must only be touched from the server's event loop.
    """

    healthy: bool = True
    username: str = "nyx"
    password: str = "mon"
    token: str = "s3cret-token"
    api_key: str = "k3y"
    hits: Counter[str] = field(default_factory=Counter)
    flaky_calls: int = 0
    in_flight: int = 0
    max_in_flight: int = 0
    gate: asyncio.Event = field(default_factory=asyncio.Event)
    down: set[str] = field(default_factory=set)
    down_from: set[str] = field(default_factory=set)
    located_hits: Counter[str] = field(default_factory=Counter)


STATE_KEY = web.AppKey("state", TargetState)


def _state(request: web.Request) -> TargetState:
    return request.app[STATE_KEY]


async def _ok(request: web.Request) -> web.Response:
    return web.Response(text="ok")


async def _slow(request: web.Request) -> web.Response:
    delay = float(request.query.get("delay", "1"))
    await asyncio.sleep(delay)
    return web.Response(text="ok")


async def _flaky(request: web.Request) -> web.Response:
    state = _state(request)
    state.flaky_calls += 1
    if state.flaky_calls % 2 == 1:
        return web.Response(text="ok")
    return web.Response(status=503, text="flaked")


async def _switch(request: web.Request) -> web.Response:
    if _state(request).healthy:
        return web.Response(text="ok")
    return web.Response(status=503, text="down")


async def _switch_set(request: web.Request) -> web.Response:
    _state(request).healthy = request.match_info["to"] == "up"
    return web.Response(text="switched")


async def _named(request: web.Request) -> web.Response:
    if request.match_info["name"] in _state(request).down:
        return web.Response(status=503, text="down")
    return web.Response(text="ok")


_LOCATION_RE = re.compile(r"\(location ([^)]+)\)")


async def _located(request: web.Request) -> web.Response:
    state = _state(request)
    found = _LOCATION_RE.search(request.headers.get("User-Agent", ""))
    location = found.group(1) if found else ""
    state.located_hits[location] += 1
    if location in state.down_from:
        return web.Response(status=503, text=f"down from {location}")
    return web.Response(text="ok")


async def _status(request: web.Request) -> web.Response:
    code = int(request.match_info["code"])
    return web.Response(status=code, text=f"status {code}")


async def _redirect(request: web.Request) -> web.Response:
    remaining = int(request.match_info["n"])
    location = "/" if remaining <= 1 else f"/redirect/{remaining - 1}"
    raise web.HTTPFound(location)


async def _redirect_loop(request: web.Request) -> web.Response:
    raise web.HTTPFound("/redirect-loop")


async def _json(request: web.Request) -> web.Response:
    return web.json_response(JSON_DOCUMENT)


async def _json_down(request: web.Request) -> web.Response:
    return web.json_response({**JSON_DOCUMENT, "status": "DOWN", "errors": ["disk full"]})


async def _json_invalid(request: web.Request) -> web.Response:
    return web.Response(text='{"status": "UP",', content_type="application/json")


async def _keyword(request: web.Request) -> web.Response:
    page = "<html><body><h1>Welcome</h1><p>status: green</p></body></html>"
    return web.Response(text=page, content_type="text/html")


async def _big(request: web.Request) -> web.Response:
    return web.Response(body=b"x" * int(request.query.get("size", "1000000")))


async def _chunked(request: web.Request) -> web.StreamResponse:
    size = int(request.query.get("size", "100000"))
    chunk = int(request.query.get("chunk", "4096"))
    response = web.StreamResponse()
    response.enable_chunked_encoding()
    await response.prepare(request)
    for start in range(0, size, chunk):
        await response.write(b"y" * min(chunk, size - start))
    await response.write_eof()
    return response


async def _to(request: web.Request) -> web.StreamResponse:
    linger = float(request.query.get("linger", "0"))
    if not linger:
        raise web.HTTPFound(request.query["path"])
    response = web.StreamResponse(status=302, headers={"Location": request.query["path"]})
    response.content_length = 5
    await response.prepare(request)  # the headers go now, the body after the linger
    await asyncio.sleep(linger)
    await response.write(b"moved")
    await response.write_eof()
    return response


async def _headers(request: web.Request) -> web.Response:
    return web.json_response(dict(request.headers))


async def _echo(request: web.Request) -> web.Response:
    body = await request.text()
    return web.json_response({"method": request.method, "body": body})


async def _basic_auth(request: web.Request) -> web.Response:
    state = _state(request)
    scheme, _, token = request.headers.get(hdrs.AUTHORIZATION, "").partition(" ")
    try:
        login, _, password = base64.b64decode(token, validate=True).decode().partition(":")
    except ValueError:
        login = password = ""
    if scheme != "Basic" or (login, password) != (state.username, state.password):
        return web.Response(
            status=401, text="who are you?", headers={"WWW-Authenticate": 'Basic realm="nyx"'}
        )
    return web.Response(text=f"hello {login}")


async def _bearer(request: web.Request) -> web.Response:
    if request.headers.get(hdrs.AUTHORIZATION) != f"Bearer {_state(request).token}":
        return web.Response(status=401, text="bad token")
    return web.Response(text="token ok")


async def _api_key(request: web.Request) -> web.Response:
    key = _state(request).api_key
    if key not in (request.headers.get("X-Api-Key"), request.query.get("apikey")):
        return web.Response(status=401, text="bad api key")
    return web.Response(text="key ok")


async def _gate(request: web.Request) -> web.Response:
    await _state(request).gate.wait()
    return web.Response(text="ok")


async def _gate_open(request: web.Request) -> web.Response:
    _state(request).gate.set()
    return web.Response(text="opened")


@web.middleware
async def _count_hits(request: web.Request, handler: Any) -> web.StreamResponse:
    state = _state(request)
    state.hits[request.path] += 1
    state.in_flight += 1
    state.max_in_flight = max(state.max_in_flight, state.in_flight)
    try:
        response: web.StreamResponse = await handler(request)
    finally:
        state.in_flight -= 1
    return response


def make_app(state: TargetState | None = None) -> web.Application:
    """The target's aiohttp application, sharing ``state`` (a new one when omitted)."""
    app = web.Application(middlewares=[_count_hits])
    app[STATE_KEY] = state or TargetState()
    app.router.add_get("/", _ok)
    add_ws_routes(app)
    app.router.add_get("/health", _ok)
    app.router.add_get("/slow", _slow)
    app.router.add_get("/flaky", _flaky)
    app.router.add_get("/gate", _gate)
    app.router.add_post("/gate/open", _gate_open)
    app.router.add_get("/switch", _switch)
    app.router.add_post("/switch/{to:up|down}", _switch_set)
    app.router.add_get(r"/status/{code:\d{3}}", _status)
    app.router.add_get("/named/{name}", _named)
    app.router.add_get("/located", _located)
    app.router.add_get(r"/redirect/{n:\d+}", _redirect)
    app.router.add_get("/redirect-loop", _redirect_loop)
    app.router.add_get("/json", _json)
    app.router.add_get("/json/down", _json_down)
    app.router.add_get("/json/invalid", _json_invalid)
    app.router.add_get("/keyword", _keyword)
    app.router.add_get("/big", _big)
    app.router.add_get("/chunked", _chunked)
    app.router.add_get("/to", _to)
    app.router.add_get("/headers", _headers)
    app.router.add_route("*", "/echo", _echo)
    app.router.add_get("/basic-auth", _basic_auth)
    app.router.add_get("/bearer", _bearer)
    app.router.add_get("/api-key", _api_key)
    return app


@dataclass(frozen=True)
class HttpTarget:
    """A running target: where it listens and its shared state."""

    host: str
    port: int
    scheme: str
    state: TargetState

    @property
    def base_url(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port}"

    def url(self, path: str = "/") -> str:
        return f"{self.base_url}{path}"


def _listening_socket(host: str) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, 0))
    sock.listen(1024)
    sock.setblocking(False)
    return sock


@asynccontextmanager
async def serve_http_target(
    *,
    ssl_context: ssl.SSLContext | None = None,
    state: TargetState | None = None,
    host: str = "127.0.0.1",
) -> AsyncIterator[HttpTarget]:
    """Serve the target on the running loop for the duration of the ``async with``."""
    state = state or TargetState()
    runner = web.AppRunner(
        make_app(state), handler_cancellation=True, shutdown_timeout=0.5, access_log=None
    )
    await runner.setup()
    sock = _listening_socket(host)
    try:
        site = web.SockSite(runner, sock, ssl_context=ssl_context)
        await site.start()
        port = sock.getsockname()[1]
        yield HttpTarget(host, port, "https" if ssl_context else "http", state)
    finally:
        await runner.cleanup()
        sock.close()


class ThreadedHttpTarget:
    """The target on an event loop in a thread of its own; a context manager.

    For synchronous callers: ``with ThreadedHttpTarget() as target: ... target.url("/json")``.
    """

    def __init__(
        self, *, ssl_context: ssl.SSLContext | None = None, state: TargetState | None = None
    ) -> None:
        self._ssl_context = ssl_context
        self._state = state or TargetState()
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread: threading.Thread | None = None
        self._target: HttpTarget | None = None
        self._error: BaseException | None = None

    @property
    def target(self) -> HttpTarget:
        if self._target is None:
            raise RuntimeError("the target is not running")
        return self._target

    def url(self, path: str = "/") -> str:
        return self.target.url(path)

    @property
    def state(self) -> TargetState:
        return self._state

    def start(self) -> HttpTarget:
        self._thread = threading.Thread(target=self._run, name="http-target", daemon=True)
        self._thread.start()
        self._ready.wait(10)
        if self._error is not None:
            raise RuntimeError("the HTTP target failed to start") from self._error
        return self.target

    def _run(self) -> None:
        asyncio.run(self._main())

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        try:
            async with serve_http_target(ssl_context=self._ssl_context, state=self._state) as t:
                self._target = t
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
        self._target = None

    def __enter__(self) -> HttpTarget:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


if __name__ == "__main__":
    with ThreadedHttpTarget() as running:
        print(json.dumps({"url": running.base_url}), flush=True)
        threading.Event().wait()
