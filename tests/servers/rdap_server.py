"""A tiny RDAP server on 127.0.0.1 (RFC 9082/9083's ``/domain/NAME`` answers) and the IANA-style
bootstrap file that points at it, so ``[DOMAIN_EXPIRATION]`` is tested without the internet."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from aiohttp import web


@dataclass
class RdapServer:
    """Where it listens, the registrations it knows (domain -> expiration date text) and the
    requests it got, by path."""

    port: int
    domains: dict[str, str]
    hits: Counter[str] = field(default_factory=Counter)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/rdap"

    @property
    def bootstrap_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/dns.json"


@asynccontextmanager
async def serve_rdap(domains: dict[str, str], tlds: tuple[str, ...]) -> AsyncIterator[RdapServer]:
    """Serve ``domains``; the bootstrap file sends ``tlds`` to this server."""
    server = RdapServer(0, dict(domains))

    async def bootstrap(request: web.Request) -> web.Response:
        server.hits[request.path] += 1
        return web.json_response(
            {
                "version": "1.0",
                "services": [
                    [["nowhere"], ["https://rdap.invalid/"]],
                    [list(tlds), [f"{server.base_url}/"]],
                ],
            }
        )

    async def domain(request: web.Request) -> web.Response:
        server.hits[request.path] += 1
        name = request.match_info["name"].lower()
        expires = server.domains.get(name)
        if expires is None:
            return web.json_response({"errorCode": 404, "title": "not found"}, status=404)
        if expires == "broken":
            return web.Response(text="<html>oops</html>", content_type="text/html")
        events = [{"eventAction": "registration", "eventDate": "2001-01-01T00:00:00Z"}]
        if expires != "none":
            events.append({"eventAction": "expiration", "eventDate": expires})
        return web.json_response(
            {"objectClassName": "domain", "ldhName": name, "events": events},
            content_type="application/rdap+json",
        )

    app = web.Application()
    app.router.add_get("/dns.json", bootstrap)
    app.router.add_get("/rdap/domain/{name}", domain)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    server.port = runner.addresses[0][1]
    try:
        yield server
    finally:
        await runner.cleanup()
