"""The ping endpoints of push checks: ``/ping/{key}``, ``/start``, ``/fail``, ``/log`` and
``/{exit_status}``, by GET, POST or HEAD, without login (the key is the credential).

A plain ASGI app that :func:`nyxmon.web.app.create_app`'s app hands every ``/ping/...``
request to before its own stack (behind :class:`~nyxmon.web.forwarded.ForwardedHeaders` only,
so the source address is the client's, not a trusted proxy's): a ping never waits on the
dashboard's CPU budget or on a page being rendered, passes no session, CSRF, telemetry or
error middleware (each took its share of a ping's CPU in the web process, measured with
``bench/push.py``), and costs the web plane one body read and one request to the agent. It
answers ``200 OK`` only once the agent reports the ping durable (see
:mod:`nyxmon.service_layer.push` for why the agent's writer stores it); an unknown key, or a
path that is no ping, gets the same bare ``404`` whatever the reason, so a caller learns
nothing about which keys exist. When several agents share a database, a ping for a check
another agent holds is answered ``503`` with ``Retry-After: 1``: the key is right (a 404
would tell the job to give up), and a retry through a load balancer reaches the holder.

The body (a job's output; ``POST``) is read up to :data:`~nyxmon.domain.push.MAX_BODY`
bytes and the rest discarded; the check keeps its ``body_limit``. ``?rid=...`` pairs a start
with its end (up to 128 characters).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any
from urllib.parse import parse_qs

from nyxmon.domain.push import MAX_BODY, Ping, parse_ping_path
from nyxmon.errors import PingHeldElsewhereError, PingKeyNotFoundError

__all__ = ["PING_PREFIX", "PingEndpoint", "is_ping"]

log = logging.getLogger(__name__)

PING_PREFIX = "/ping/"
_RID_MAX = 128
_METHODS = frozenset({"GET", "POST", "HEAD"})
_UA_MAX = 512
_HELD_ELSEWHERE = b"another agent holds this check: ping again (through any agent)\n"

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
PingSink = Callable[[Ping, float], Awaitable[str]]


def is_ping(scope: Mapping[str, Any]) -> bool:
    """Whether the request is one for :class:`PingEndpoint`."""
    return scope["type"] == "http" and str(scope["path"]).startswith(PING_PREFIX)


class PingEndpoint:
    """``PingEndpoint(ping=context.ping)``: answers the requests :func:`is_ping` picks."""

    def __init__(self, *, ping: PingSink, timeout: float = 10.0) -> None:
        self._ping = ping
        self._timeout = timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        at = time.time()
        method = scope["method"]
        head = method == "HEAD"
        if method not in _METHODS:
            await _answer(send, 405, b"method not allowed\n", head, allow=True)
            return
        parsed = parse_ping_path(scope["path"][len(PING_PREFIX) :])
        query_string = scope.get("query_string", b"")
        rid = None
        if query_string:  # most pings have none
            rid = (parse_qs(query_string.decode("latin-1")).get("rid") or [None])[0]
        if parsed is None or (rid is not None and len(rid) > _RID_MAX):
            await _drain(receive)
            await _answer(send, 404, b"not found\n", head)
            return
        key, kind, exit_status = parsed
        body = await _read_body(receive) if method == "POST" else b""
        if method != "POST":
            await _drain(receive)
        client = scope.get("client")
        user_agent = ""
        for name, value in scope.get("headers", ()):
            if name == b"user-agent":
                user_agent = value[:_UA_MAX].decode("latin-1")
                break
        ping = Ping(
            key=key,
            kind=kind,
            at=at,
            exit_status=exit_status,
            body=body,
            rid=rid or None,
            remote_addr=client[0] if client else "",
            user_agent=user_agent,
            method=method,
        )
        try:
            await self._ping(ping, self._timeout)
        except PingKeyNotFoundError:
            await _answer(send, 404, b"not found\n", head)
            return
        except PingHeldElsewhereError:  # several agents: another one holds the check
            await _answer(send, 503, _HELD_ELSEWHERE, head, retry=True)
            return
        except Exception as exc:  # the agent is away or slow: the job should try again
            log.warning("a ping could not be recorded: %s", exc)
            await _answer(send, 503, b"the monitor cannot record pings right now\n", head)
            return
        await _answer(send, 200, b"OK\n", head)


async def _read_body(receive: Receive) -> bytes:
    """Up to MAX_BODY bytes of the request body; the rest is read and dropped."""
    parts: list[bytes] = []
    size = 0
    more = True
    while more:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        if size < MAX_BODY and chunk:
            take = chunk[: MAX_BODY - size]
            parts.append(take)
            size += len(take)
        more = message.get("more_body", False)
    return b"".join(parts)


async def _drain(receive: Receive) -> None:
    more = True
    while more:
        message = await receive()
        if message["type"] != "http.request":
            return
        more = message.get("more_body", False)


_HEADERS = [
    (b"content-type", b"text/plain; charset=utf-8"),
    (b"cache-control", b"no-store"),
    (b"x-content-type-options", b"nosniff"),
]
_ALLOW = (b"allow", b"GET, POST, HEAD")
_RETRY = (b"retry-after", b"1")


async def _answer(
    send: Send, status: int, text: bytes, head: bool, *, allow: bool = False, retry: bool = False
) -> None:
    headers = [*_HEADERS, (b"content-length", b"%d" % len(text))]
    if allow:
        headers.append(_ALLOW)
    if retry:
        headers.append(_RETRY)
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": b"" if head else text})
