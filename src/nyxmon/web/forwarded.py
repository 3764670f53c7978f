"""Who the client is behind a reverse proxy, believed only from proxies we were told to trust.

``X-Forwarded-For``, ``X-Forwarded-Proto`` and ``Forwarded`` (RFC 7239) are just request
headers: anyone can send them. Believed from any local client, they let a caller pick the
address the login limiter counts against, and so guess passwords without limit. So this pure
ASGI layer, outermost in the app, rewrites the request's client address and scheme only when
the peer is one of ``web.trusted_proxies``; then the client is the right-most address of the
forwarded chain that is not itself a trusted proxy (the addresses left of it were written by
whoever sent the request, and prove nothing). Uvicorn's own proxy handling is switched off
(:mod:`nyxmon.web.server`), so the thread and the process web plane see the same address,
and the login limiter, logs and everything else read ``request.client`` as this layer left it.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

__all__ = ["ForwardedHeaders", "TrustedProxies", "parse_forwarded"]

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

_Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class TrustedProxies:
    """A set of addresses and networks (``"10.0.0.0/8"``, ``"::1"``); validated by the config."""

    def __init__(self, entries: Iterable[str]) -> None:
        self.networks: tuple[_Network, ...] = tuple(
            ipaddress.ip_network(entry, strict=False) for entry in entries
        )

    def __bool__(self) -> bool:
        return bool(self.networks)

    def __contains__(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        return any(ip in network for network in self.networks)

    def client(self, peer: str, chain: list[str]) -> str:
        """The client: ``peer`` unless it is trusted, then the right-most untrusted hop of
        ``chain`` (oldest first), or its left-most if every hop is a trusted proxy."""
        if peer not in self:
            return peer
        for hop in reversed(chain):
            if hop not in self:
                return hop
        return chain[0] if chain else peer


def _unquote(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] == '"':
        value = value[1:-1]
    return value


def _node(value: str) -> str:
    """An address out of a ``for=`` node or an X-Forwarded-For entry: ``[v6]:port``,
    ``v4:port`` and bare addresses; anything else (``unknown``, ``_hidden``) as it is."""
    value = _unquote(value)
    if value.startswith("["):
        return value[1 : value.find("]")] if "]" in value else value
    if value.count(":") == 1:
        return value.split(":", 1)[0]
    return value


def parse_forwarded(header: str) -> list[tuple[str | None, str | None]]:
    """``(for, proto)`` of each element of a ``Forwarded`` header, oldest first."""
    elements: list[tuple[str | None, str | None]] = []
    for element in header.split(","):
        found: dict[str, str] = {}
        for pair in element.split(";"):
            name, sep, value = pair.partition("=")
            if sep:
                found[name.strip().lower()] = value
        if not found:
            continue
        client = _node(found["for"]) if "for" in found else None
        proto = _unquote(found["proto"]).lower() if "proto" in found else None
        elements.append((client, proto))
    return elements


class ForwardedHeaders:
    """Pure ASGI: rewrites ``scope["client"]`` and ``scope["scheme"]`` from the forwarded
    headers of trusted proxies; leaves both alone for anyone else."""

    def __init__(self, app: ASGIApp, trusted: TrustedProxies) -> None:
        self.app = app
        self.trusted = trusted

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket") and self.trusted:
            client = scope.get("client")
            if client and client[0] in self.trusted:
                scope = self._rewritten(scope, client[0])
        await self.app(scope, receive, send)

    def _rewritten(self, scope: Scope, peer: str) -> Scope:
        headers: dict[bytes, list[str]] = {}
        for name, value in scope.get("headers", ()):
            if name in (b"forwarded", b"x-forwarded-for", b"x-forwarded-proto"):
                headers.setdefault(name, []).append(value.decode("latin-1"))
        chain: list[str] = []
        protos: list[str] = []
        if b"forwarded" in headers:  # the standard one wins over the de-facto ones
            for hop, proto in parse_forwarded(",".join(headers[b"forwarded"])):
                chain.append(hop or "unknown")
                protos.append(proto or "")
        else:
            chain = [
                _node(hop)
                for hop in ",".join(headers.get(b"x-forwarded-for", [])).split(",")
                if hop.strip()
            ]
            protos = [
                p.strip().lower()
                for p in ",".join(headers.get(b"x-forwarded-proto", [])).split(",")
                if p.strip()
            ]
        if not chain and not protos:
            return scope
        scope = dict(scope)
        if chain:
            host = self.trusted.client(peer, chain)
            scope["client"] = (host[:100], 0)
        # The scheme the nearest proxy was asked in: what the browser used, when it is the only
        # proxy, and what the last trusted hop says otherwise.
        proto = protos[-1] if protos else ""
        if proto in ("http", "https"):
            ws = scope["type"] == "websocket"
            scope["scheme"] = {"http": "ws", "https": "wss"}[proto] if ws else proto
        return scope
