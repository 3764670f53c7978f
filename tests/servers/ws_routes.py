"""WebSocket endpoints of the test HTTP target (aiohttp's own WebSocket server).

``/ws/echo`` answers each text message with ``{"echo": <text>}``; ``/ws/greet`` says
``hello`` as soon as a client connects; ``/ws/silent`` accepts the upgrade and never says a
word; ``/ws/auth`` upgrades only with ``Authorization: Bearer letmein``.
"""

from __future__ import annotations

import asyncio
import json

from aiohttp import WSMsgType, web

__all__ = ["add_ws_routes"]


async def _echo(request: web.Request) -> web.WebSocketResponse:
    ws = web.WebSocketResponse()
    await ws.prepare(request)
    async for message in ws:
        if message.type is WSMsgType.TEXT:
            await ws.send_str(json.dumps({"echo": message.data}))
    return ws


async def _greet(request: web.Request) -> web.WebSocketResponse:
    ws = web.WebSocketResponse()
    await ws.prepare(request)
    await ws.send_str("hello")
    async for _ in ws:
        pass
    return ws


async def _silent(request: web.Request) -> web.WebSocketResponse:
    ws = web.WebSocketResponse()
    await ws.prepare(request)
    await asyncio.sleep(3600)
    return ws


async def _auth(request: web.Request) -> web.StreamResponse:
    if request.headers.get("Authorization") != "Bearer letmein":
        raise web.HTTPForbidden(text="no")
    return await _greet(request)


def add_ws_routes(app: web.Application) -> None:
    app.router.add_get("/ws/echo", _echo)
    app.router.add_get("/ws/greet", _greet)
    app.router.add_get("/ws/silent", _silent)
    app.router.add_get("/ws/auth", _auth)
