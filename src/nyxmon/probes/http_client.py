"""The aiohttp sessions the HTTP and JSON probes share, and how they time each phase.

Two sessions at most, each created on first use: one whose connector closes every connection
after its request (the default, so every probe pays, and measures, DNS, connect and TLS) and one
that keeps connections alive for checks that ask for it. Sessions are cheap to share: per-request
settings (TLS verification, CA file, redirects) travel with each request.

Phases come from aiohttp's public trace hooks (DNS, connection, response headers), plus one
private hook: the connector's protocol factory is called when the TCP connection is up and
before the TLS handshake starts, which is what separates ``connect`` from ``tls``. If a future
aiohttp drops that attribute, ``tls`` is simply folded into ``connect``.
"""

from __future__ import annotations

import contextvars
import functools
import socket
import ssl
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import aiohttp

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
    """

    start: float = 0.0
    dns: float = 0.0
    connect: float = 0.0
    tls: float = 0.0
    first_byte: float | None = None
    redirects: int = 0
    reused: bool = False
    resolved: bool = False
    connected: bool = False
    peer_ip: str | None = None
    cert_not_after: float | None = None
    protocol: Any = None
    _dns_start: float = 0.0
    _dns_end: float = 0.0
    _conn_start: float = 0.0
    _tcp_up: float = 0.0

    def phases(self) -> dict[str, float]:
        """The phases that happened, in seconds, for :attr:`Result.timings`."""
        phases: dict[str, float] = {}
        if self.resolved:
            phases["dns"] = self.dns
        if self.connected:
            phases["connect"] = self.connect
            if self.tls:
                phases["tls"] = self.tls
        elif self._tcp_up:
            phases["connect"] = self.connect + self._tcp_up - (self._dns_end or self._conn_start)
        if self.first_byte is not None:
            phases["first_byte"] = self.first_byte
        return phases

    def capture_peer(self) -> bool:
        """Note the peer address and certificate expiry of the current connection.

        Returns whether the connection uses TLS.
        """
        transport = getattr(self.protocol, "transport", None)
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

    def stage(self) -> str:
        """Where the chain got to, for a timeout message."""
        if self.first_byte is not None:
            return "reading the body"
        if self._tcp_up and not self.connected:
            return "the TLS handshake"
        if self.connected or self.reused:
            return "waiting for the response"
        if self._conn_start and (self._dns_end or not self._dns_start):
            return "connecting"
        if self._dns_start:
            return "resolving the host name"
        return "starting the request"


def _timings(params: SimpleNamespace) -> RequestTimings | None:
    timings = params.trace_request_ctx
    return timings if isinstance(timings, RequestTimings) else None


async def _on_request_start(session: Any, context: SimpleNamespace, params: Any) -> None:
    timings = _timings(context)
    if timings is not None and not timings.start:
        timings.start = time.perf_counter()


async def _on_dns_start(session: Any, context: SimpleNamespace, params: Any) -> None:
    timings = _timings(context)
    if timings is not None:
        timings._dns_start = time.perf_counter()


async def _on_dns_end(session: Any, context: SimpleNamespace, params: Any) -> None:
    timings = _timings(context)
    if timings is not None:
        timings._dns_end = now = time.perf_counter()
        timings.dns += now - timings._dns_start
        timings.resolved = True


async def _on_connection_start(session: Any, context: SimpleNamespace, params: Any) -> None:
    timings = _timings(context)
    if timings is not None:
        timings._conn_start = time.perf_counter()
        timings._dns_end = timings._dns_start = timings._tcp_up = 0.0


async def _on_connection_end(session: Any, context: SimpleNamespace, params: Any) -> None:
    timings = _timings(context)
    if timings is None:
        return
    now = time.perf_counter()
    began = timings._dns_end or timings._conn_start
    uses_tls = timings.capture_peer()
    if timings._tcp_up and uses_tls:
        timings.connect += timings._tcp_up - began
        timings.tls += now - timings._tcp_up
    else:
        timings.connect += now - began
    timings.connected = True


async def _on_reuse(session: Any, context: SimpleNamespace, params: Any) -> None:
    timings = _timings(context)
    if timings is not None:
        timings.reused = True


async def _on_request_end(session: Any, context: SimpleNamespace, params: Any) -> None:
    timings = _timings(context)
    if timings is not None:
        timings.first_byte = time.perf_counter() - timings.start


async def _on_redirect(session: Any, context: SimpleNamespace, params: Any) -> None:
    timings = _timings(context)
    if timings is not None:
        timings.redirects += 1


def _trace_config() -> aiohttp.TraceConfig:
    config = aiohttp.TraceConfig()
    config.on_request_start.append(_on_request_start)
    config.on_dns_resolvehost_start.append(_on_dns_start)
    config.on_dns_resolvehost_end.append(_on_dns_end)
    config.on_connection_create_start.append(_on_connection_start)
    config.on_connection_create_end.append(_on_connection_end)
    config.on_connection_reuseconn.append(_on_reuse)
    config.on_request_end.append(_on_request_end)
    config.on_request_redirect.append(_on_redirect)
    return config


def _stamp_tcp_up(factory: Callable[[], Any]) -> Any:
    protocol = factory()
    timings = _current_timings.get()
    if timings is not None:
        timings._tcp_up = time.perf_counter()
        timings.protocol = protocol
    return protocol


_LINGER_ZERO = struct.pack("ii", 1, 0)


def abortive_close_socket(addr_info: tuple[Any, ...]) -> socket.socket:
    """A socket that closes with RST instead of FIN, so it leaves no TIME_WAIT behind.

    A fresh connection per probe means thousands of connects a second; closed normally, each
    leaves a socket in TIME_WAIT for 60 s, and with tens of thousands of them Linux's connect()
    spends milliseconds (measured: up to 300 ms) searching the ephemeral ports, blocking the
    event loop. The probe closes only after reading the whole answer, so nothing is lost.
    """
    family, type_, proto = addr_info[0], addr_info[1], addr_info[2]
    sock = socket.socket(family=family, type=type_, proto=proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_ZERO)
    return sock


def _timed_connector(**kwargs: Any) -> aiohttp.TCPConnector:
    connector = aiohttp.TCPConnector(**kwargs)
    factory = getattr(connector, "_factory", None)
    if callable(factory):
        connector._factory = functools.partial(_stamp_tcp_up, factory)
    return connector


class HttpClients:
    """The shared sessions and TLS contexts of the HTTP-based probes; close with :meth:`aclose`."""

    def __init__(self) -> None:
        self._fresh: aiohttp.ClientSession | None = None
        self._pooled: aiohttp.ClientSession | None = None
        self._ssl: dict[str | None, ssl.SSLContext] = {}
        self._trace = _trace_config()

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
        connector = _timed_connector(
            limit=0,
            force_close=force_close,
            use_dns_cache=not force_close,
            enable_cleanup_closed=False,
            socket_factory=abortive_close_socket if force_close else None,
        )
        return aiohttp.ClientSession(
            connector=connector,
            trace_configs=[self._trace],
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
        self._fresh = self._pooled = None
        self._ssl.clear()
        for session in sessions:
            await session.close()
