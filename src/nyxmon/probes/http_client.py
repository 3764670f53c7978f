"""The aiohttp sessions the HTTP and JSON probes share, and how they time each phase.

Two sessions at most, each created on first use: one whose connector closes every connection
after its request (the default, so every probe pays, and measures, DNS, connect and TLS) and one
that keeps connections alive for checks that ask for it. Sessions are cheap to share: per-request
settings (TLS verification, CA file, redirects) travel with each request.

Phases are stamped by the connector's own parts rather than by aiohttp's trace hooks: a trace
config makes aiohttp build a params object and await a signal for every request event, which
measured as 5-8% of a probe's CPU time at thousands of probes a second. Instead:

- ``dns``: a resolver that wraps aiohttp's default one (public API: ``TCPConnector(resolver=)``);
  an IP-literal host is never resolved, so it has no ``dns`` phase, as with the trace hooks;
- ``connect``: from the first socket the connector creates (``socket_factory``, public) to the
  moment its protocol factory is called, which is when the TCP connection is up;
- ``tls``: from then to the protocol's ``connection_made``, which asyncio calls once the TLS
  handshake is done (right away on plain TCP);
- ``first_byte``: from the request's start until aiohttp hands back the final response, whose
  headers it has read by then.

The protocol factory is the connector's private ``_factory`` attribute; if a future aiohttp drops
it, ``connect`` and ``tls`` are not reported rather than reported wrong.
"""

from __future__ import annotations

import contextvars
import functools
import socket
import ssl
import struct
import time
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.client_proto import ResponseHandler
from aiohttp.resolver import DefaultResolver

import nyxmon
from nyxmon.probes._tls import certificate_not_after

__all__ = ["USER_AGENT", "HttpClients", "RequestTimings"]

USER_AGENT = f"NyxMon/{nyxmon.__version__}"

_current_timings: contextvars.ContextVar[RequestTimings | None] = contextvars.ContextVar(
    "nyxmon_request_timings", default=None
)


@dataclass(slots=True)
class RequestTimings:
    """Timestamps (perf_counter seconds) and phase sums of one probe's request chain.

    Redirects add up: ``dns``, ``connect`` and ``tls`` are summed over every hop, and
    ``first_byte`` is from the first request's start to the final response's headers.
    ``stage`` names where the chain is, for a timeout message; ``connections`` counts the
    connections opened (fewer than the requests made means one was reused).
    """

    start: float = 0.0
    dns: float = 0.0
    connect: float = 0.0
    tls: float = 0.0
    first_byte: float | None = None
    connections: int = 0
    resolved: bool = False
    tcp_connected: bool = False
    peer_ip: str | None = None
    cert_not_after: float | None = None
    stage: str = "starting the request"
    _conn_start: float = 0.0
    _tcp_up: float = 0.0

    def phases(self) -> dict[str, float]:
        """The phases that happened, in seconds, for :attr:`Result.timings`."""
        phases: dict[str, float] = {}
        if self.resolved:
            phases["dns"] = self.dns
        if self.tcp_connected:
            phases["connect"] = self.connect
            if self.tls:
                phases["tls"] = self.tls
        if self.first_byte is not None:
            phases["first_byte"] = self.first_byte
        return phases

    def headers_received(self) -> None:
        self.first_byte = time.perf_counter() - self.start
        self.stage = "reading the body"

    def capture_peer(self, transport: Any) -> bool:
        """Note the peer address and certificate expiry of ``transport``.

        Returns whether the connection uses TLS.
        """
        if transport is None:
            return False
        peer = transport.get_extra_info("peername")
        if peer:
            self.peer_ip = str(peer[0])
        ssl_object = transport.get_extra_info("ssl_object")
        if ssl_object is None:
            return False
        der = ssl_object.getpeercert(binary_form=True)
        if der:
            try:
                self.cert_not_after = certificate_not_after(der)
            except ValueError:
                self.cert_not_after = None
        return True

    # -- stamps, called by the connector's parts -------------------------------------------
    def _resolving(self) -> float:
        self.stage = "resolving the host name"
        return time.perf_counter()

    def _resolved(self, began: float) -> None:
        self.dns += time.perf_counter() - began
        self.resolved = True
        self.stage = "connecting"

    def _socket_created(self) -> None:
        if not self._conn_start:  # happy eyeballs may try several addresses: the first counts
            self._conn_start = time.perf_counter()
            self.connections += 1
            self.stage = "connecting"

    def _connection_up(self) -> None:
        self._tcp_up = now = time.perf_counter()
        if self._conn_start:
            self.connect += now - self._conn_start
        self.tcp_connected = True
        self.stage = "the TLS handshake"

    def _connection_made(self, transport: Any) -> None:
        now = time.perf_counter()
        if self.capture_peer(transport) and self._tcp_up:
            self.tls += now - self._tcp_up
        self._conn_start = self._tcp_up = 0.0  # the next hop of a redirect starts afresh
        self.stage = "waiting for the response"


class _TimedResolver(AbstractResolver):
    """aiohttp's default resolver, timed for the request whose timings are current."""

    def __init__(self) -> None:
        self._inner = DefaultResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        timings = _current_timings.get()
        if timings is None:
            return await self._inner.resolve(host, port, family)
        began = timings._resolving()
        try:
            return await self._inner.resolve(host, port, family)
        finally:
            timings._resolved(began)

    async def close(self) -> None:
        await self._inner.close()


class _TimedHandler(ResponseHandler):
    """aiohttp's protocol, telling the request's timings when the connection is usable."""

    def __init__(self, loop: Any, timings: RequestTimings | None) -> None:
        super().__init__(loop)
        self._nyxmon_timings = timings

    def connection_made(self, transport: Any) -> None:
        super().connection_made(transport)
        timings = self._nyxmon_timings
        if timings is not None:
            self._nyxmon_timings = None  # a kept-alive connection serves later requests too
            timings._connection_made(transport)


def _timed_protocol(loop: Any) -> ResponseHandler:
    """The connector's protocol factory: called once the TCP connection is up."""
    timings = _current_timings.get()
    if timings is not None:
        timings._connection_up()
    return _TimedHandler(loop, timings)


_LINGER_ZERO = struct.pack("ii", 1, 0)


def abortive_close_socket(addr_info: tuple[Any, ...]) -> socket.socket:
    """A socket that closes with RST instead of FIN, so it leaves no TIME_WAIT behind.

    A fresh connection per probe means thousands of connects a second; closed normally, each
    leaves a socket in TIME_WAIT for 60 s, and with tens of thousands of them Linux's connect()
    spends milliseconds (measured: up to 300 ms) searching the ephemeral ports, blocking the
    event loop. The probe closes only after reading the whole answer, so nothing is lost.
    """
    sock = _timed_socket(addr_info)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_ZERO)
    return sock


def _timed_socket(addr_info: tuple[Any, ...]) -> socket.socket:
    """The socket the connector is about to connect; its creation starts ``connect``."""
    timings = _current_timings.get()
    if timings is not None:
        timings._socket_created()
    return socket.socket(family=addr_info[0], type=addr_info[1], proto=addr_info[2])


def _timed_connector(*, force_close: bool, resolver: AbstractResolver) -> aiohttp.TCPConnector:
    connector = aiohttp.TCPConnector(
        limit=0,
        force_close=force_close,
        use_dns_cache=not force_close,
        enable_cleanup_closed=False,
        resolver=resolver,
        socket_factory=abortive_close_socket if force_close else _timed_socket,
    )
    if hasattr(connector, "_factory"):
        connector._factory = functools.partial(_timed_protocol, connector._loop)
    return connector


class HttpClients:
    """The shared sessions and TLS contexts of the HTTP-based probes; close with :meth:`aclose`."""

    def __init__(self) -> None:
        self._fresh: aiohttp.ClientSession | None = None
        self._pooled: aiohttp.ClientSession | None = None
        self._ssl: dict[str | None, ssl.SSLContext] = {}
        self._resolvers: list[_TimedResolver] = []

    def session(self, *, keep_alive: bool) -> aiohttp.ClientSession:
        """The keep-alive session or the fresh-connection one, created on first use."""
        if keep_alive:
            if self._pooled is None:
                self._pooled = self._new_session(force_close=False)
            return self._pooled
        if self._fresh is None:
            self._fresh = self._new_session(force_close=True)
        return self._fresh

    def sessions(self) -> tuple[aiohttp.ClientSession, ...]:
        """The sessions opened so far (for introspection and tests)."""
        return tuple(s for s in (self._fresh, self._pooled) if s is not None)

    def _new_session(self, *, force_close: bool) -> aiohttp.ClientSession:
        # A resolver handed to a connector is not closed with it: aclose() does that.
        resolver = _TimedResolver()
        self._resolvers.append(resolver)
        return aiohttp.ClientSession(
            connector=_timed_connector(force_close=force_close, resolver=resolver),
            timeout=aiohttp.ClientTimeout(total=None, sock_connect=None, sock_read=None),
            cookie_jar=aiohttp.DummyCookieJar(),
            headers={"User-Agent": USER_AGENT},
        )

    def ssl_context(self, *, verify: bool, ca_file: str | None) -> ssl.SSLContext | bool:
        """What to pass as aiohttp's ``ssl=``: False, True (system CAs) or a context for a CA file.

        Raises ``OSError`` or ``ssl.SSLError`` when ``ca_file`` cannot be loaded.
        """
        if not verify:
            return False
        if ca_file is None:
            return True
        context = self._ssl.get(ca_file)
        if context is None:
            context = self._ssl[ca_file] = ssl.create_default_context(cafile=ca_file)
        return context

    @staticmethod
    def bind_timings(timings: RequestTimings) -> contextvars.Token[RequestTimings | None]:
        """Make ``timings`` the current request's, for the connect/TLS split; reset the token."""
        return _current_timings.set(timings)

    @staticmethod
    def unbind_timings(token: contextvars.Token[RequestTimings | None]) -> None:
        _current_timings.reset(token)

    async def aclose(self) -> None:
        sessions = [s for s in (self._fresh, self._pooled) if s is not None]
        resolvers, self._resolvers = self._resolvers, []
        self._fresh = self._pooled = None
        self._ssl.clear()
        for session in sessions:
            await session.close()
        for resolver in resolvers:
            await resolver.close()
