"""A local demo target, so ``nyxmon demo`` shows every state without internet.

HTTP (aiohttp) on 127.0.0.1:8090: ``/healthy``, ``/slow`` (answers after 0.8 s: degraded),
``/flaky`` (fails every third request), ``/fail`` (500), ``/json/health`` (``{"status": "UP"}``),
``/admin/break`` / ``/admin/fix`` to make ``/healthy`` fail on demand, and ``/webhook``: the
example config's notification route (POST receives, GET lists the last 100 received).
DNS (dnspython, UDP and TCP) on 127.0.0.1:8053 for the zone ``demo.nyxmon.test.``.
"""

from __future__ import annotations

import asyncio
import contextlib
import struct
from dataclasses import dataclass, field
from typing import cast

import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset
from aiohttp import web

__all__ = ["DEMO_ZONE", "DemoTarget"]

DEMO_ZONE = "demo.nyxmon.test."
_RECORDS: dict[tuple[str, str], list[str]] = {
    (DEMO_ZONE, "A"): ["127.0.0.1"],
    (DEMO_ZONE, "AAAA"): ["::1"],
    (DEMO_ZONE, "MX"): [f"10 mail.{DEMO_ZONE}"],
    (DEMO_ZONE, "TXT"): ['"v=spf1 -all"', '"nyxmon demo zone"'],
    (DEMO_ZONE, "NS"): [f"ns.{DEMO_ZONE}"],
    (f"www.{DEMO_ZONE}", "CNAME"): [DEMO_ZONE],
    (f"mail.{DEMO_ZONE}", "A"): ["127.0.0.2"],
    (f"ns.{DEMO_ZONE}", "A"): ["127.0.0.1"],
}


@dataclass
class DemoTarget:
    """The demo's HTTP and DNS servers on one event loop; ``await start()``, ``await stop()``."""

    host: str = "127.0.0.1"
    http_port: int = 8090
    dns_port: int = 8053
    slow_seconds: float = 0.8
    broken: bool = False
    _requests: dict[str, int] = field(default_factory=dict)
    notifications: list[dict[str, object]] = field(default_factory=list)
    _runner: web.AppRunner | None = None
    _udp: asyncio.DatagramTransport | None = None
    _tcp: asyncio.Server | None = None

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/", self._index)
        app.router.add_route("*", "/healthy", self._healthy)
        app.router.add_get("/slow", self._slow)
        app.router.add_get("/flaky", self._flaky)
        app.router.add_get("/fail", self._fail)
        app.router.add_get("/json/health", self._json_health)
        app.router.add_post("/admin/break", self._break)
        app.router.add_post("/admin/fix", self._fix)
        app.router.add_post("/webhook", self._webhook)
        app.router.add_get("/webhook", self._webhooks)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, self.host, self.http_port).start()
        loop = asyncio.get_running_loop()
        self._udp, _ = await loop.create_datagram_endpoint(
            lambda: _DnsUdp(), local_addr=(self.host, self.dns_port)
        )
        self._tcp = await asyncio.start_server(_dns_tcp, self.host, self.dns_port)

    async def stop(self) -> None:
        if self._udp is not None:
            self._udp.close()
        if self._tcp is not None:
            self._tcp.close()
            await self._tcp.wait_closed()
        if self._runner is not None:
            await self._runner.cleanup()

    # -- HTTP ---------------------------------------------------------------------------------
    async def _index(self, request: web.Request) -> web.Response:
        return web.Response(text=__doc__ or "")

    async def _healthy(self, request: web.Request) -> web.Response:
        if self.broken:
            return web.Response(status=503, text="broken on purpose (POST /admin/fix)")
        return web.Response(text="ok")

    async def _slow(self, request: web.Request) -> web.Response:
        await asyncio.sleep(self.slow_seconds)
        return web.Response(text="ok, eventually")

    async def _flaky(self, request: web.Request) -> web.Response:
        count = self._requests["flaky"] = self._requests.get("flaky", 0) + 1
        if count % 3 == 0:
            return web.Response(status=502, text="flaked")
        return web.Response(text="ok")

    async def _fail(self, request: web.Request) -> web.Response:
        return web.Response(status=500, text="always failing")

    async def _json_health(self, request: web.Request) -> web.Response:
        return web.json_response(
            {"status": "UP", "checks": [{"name": "db", "status": "UP"}], "version": "1.0"}
        )

    async def _webhook(self, request: web.Request) -> web.Response:
        try:
            document = await request.json()
        except ValueError:
            return web.Response(status=400, text="expected a JSON body")
        if isinstance(document, dict):
            self.notifications = [*self.notifications[-99:], document]
            print(f"demo webhook: {document.get('title', document.get('kind', '?'))}", flush=True)
        return web.Response(text="received")

    async def _webhooks(self, request: web.Request) -> web.Response:
        return web.json_response(self.notifications)

    async def _break(self, request: web.Request) -> web.Response:
        self.broken = True
        return web.Response(text="/healthy now fails")

    async def _fix(self, request: web.Request) -> web.Response:
        self.broken = False
        return web.Response(text="/healthy works again")


def answer(wire: bytes) -> bytes:
    """The demo zone's answer to one DNS query in wire format."""
    query = dns.message.from_wire(wire)
    response = dns.message.make_response(query)
    response.flags |= dns.flags.AA
    question = query.question[0]
    name = question.name.to_text().lower()
    kind = dns.rdatatype.to_text(question.rdtype)
    if not dns.name.from_text(name).is_subdomain(dns.name.from_text(DEMO_ZONE)):
        response.set_rcode(dns.rcode.REFUSED)
        return response.to_wire()
    values = _RECORDS.get((name, kind))
    if values:
        response.answer.append(dns.rrset.from_text_list(name, 300, dns.rdataclass.IN, kind, values))
    elif not any(owner == name for owner, _ in _RECORDS):
        response.set_rcode(dns.rcode.NXDOMAIN)
    return response.to_wire()


class _DnsUdp(asyncio.DatagramProtocol):
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's UDP transport is not a subclass of asyncio.DatagramTransport; trust the API.
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        with contextlib.suppress(Exception):  # a malformed query gets no answer, like a drop
            self.transport.sendto(answer(data), addr)


async def _dns_tcp(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while True:
            (length,) = struct.unpack("!H", await reader.readexactly(2))
            reply = answer(await reader.readexactly(length))
            writer.write(struct.pack("!H", len(reply)) + reply)
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError, ValueError):
        pass
    finally:
        writer.close()
