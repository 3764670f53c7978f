"""One probe's HTTP exchange over the curl bridge: the request, its redirects, each hop's timings.

Redirects are followed here rather than by libcurl. libcurl adds each phase up over the hops of
a chain (time to first byte included) and pycurl refuses to read a handle's figures from inside
its callbacks, so with libcurl following, the final response's first byte, the TLS time of an
http -> https chain and the phase a later hop was stuck in could only be guessed. With a
transfer per hop they are exact, and the rules stay those of the earlier aiohttp client: 303
turns any method but HEAD into GET, 301 and 302 turn POST into GET (both dropping the body), a
redirect to another origin drops ``Authorization``, and at most ``max_redirects`` are followed.

libcurl stamps "pretransfer" and "starttransfer" when a transfer fails, too, so "the request
was sent" and "the answer began" are taken from the transfer's own callbacks instead
(``PREREQFUNCTION``, the header lines); the DNS, connect and TLS stamps are only ever set when
that phase completed.
"""

from __future__ import annotations

import functools
import math
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from ipaddress import ip_address
from typing import Any
from urllib.parse import urlsplit

import pycurl

from nyxmon.probes._tls import certificate_not_after
from nyxmon.probes.http_client import USER_AGENT, CurlLoop, HttpClients, Options, abortive_close
from nyxmon.probes.http_failures import Failure, describe_failure, timeout_message

__all__ = ["Exchange", "Hop", "HttpRequest"]

_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_PROTOCOLS = pycurl.PROTO_HTTP | pycurl.PROTO_HTTPS
_END_OF_HEADERS = (b"\r\n", b"\n")
#: Methods sent with ``Content-Length: 0`` when the check gives no body, as aiohttp did.
_EMPTY_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


@dataclass(frozen=True, slots=True, eq=False)  # compared and hashed by identity: it is cached
class HttpRequest:
    """What a check sends, fixed between runs: built once per check by the executor.

    ``headers`` are libcurl header lines (``"Name: value"``, ``"Name;"`` for an empty value);
    ``body_type`` is the ``Content-Type`` sent with a body unless ``headers`` set one. Both go
    only with a body, so a redirect that drops the body drops them too.
    """

    url: str
    method: str = "GET"
    headers: tuple[str, ...] = ()
    body: bytes | None = None
    body_type: str = "text/plain; charset=utf-8"
    sets_content_type: bool = False
    keep_alive: bool = False
    verify_tls: bool = True
    ca_file: str | None = None
    max_body_bytes: int = 1_048_576
    follow_redirects: bool = True
    max_redirects: int = 10


@dataclass(slots=True)
class Hop:
    """One request of the chain and what libcurl measured of it (microseconds since its start;
    0 when the phase did not happen). ``lines`` are the response's header lines as received.

    ``socket_at`` and ``connected_at`` (``time.perf_counter``) are stamped by the hop itself:
    when its first socket was opened and when the loop first saw one writable (TCP is up).
    """

    url: str
    https: bool
    named_host: bool
    connecting: dict[int, Callable[[], object]]
    lines: list[bytes] = field(default_factory=list)
    sent: bool = False
    socket_at: float = 0.0
    connected_at: float = 0.0
    sockets: list[int] = field(default_factory=list)
    namelookup: int = 0
    connect: int = 0
    appconnect: int = 0
    starttransfer: int = 0
    total: int = 0
    connects: int = 0
    status: int = 0
    location: str | None = None
    os_errno: int = 0

    def request_sent(self, *_connection: object) -> int:
        """libcurl's ``PREREQFUNCTION``: the connection is up and the request about to go."""
        self.sent = True
        return pycurl.PREREQFUNC_OK  # type: ignore[no-any-return]

    def socket_opened(self, fd: int, purpose: int) -> int:
        """libcurl's ``SOCKOPTFUNCTION`` for kept-alive connections: stamp its connect."""
        if not self.socket_at:
            self.socket_at = time.perf_counter()
        self.sockets.append(fd)
        self.connecting[fd] = self.tcp_up
        return pycurl.SOCKOPT_OK  # type: ignore[no-any-return]

    def fresh_socket_opened(self, fd: int, purpose: int) -> int:
        """libcurl's ``SOCKOPTFUNCTION`` for fresh connections: RST on close, stamp its connect."""
        abortive_close(fd, purpose)
        return self.socket_opened(fd, purpose)

    def tcp_up(self) -> None:
        self.connected_at = time.perf_counter()

    def forget_sockets(self) -> None:
        """Stop waiting for this hop's sockets to connect (their numbers get reused)."""
        connecting = self.connecting
        for fd in self.sockets:
            if connecting.get(fd) == self.tcp_up:
                del connecting[fd]

    def status_line(self) -> int:
        """Index of the final response's status line in :attr:`lines`; -1 before it began."""
        lines = self.lines
        if lines and status_of(lines[0]) >= 200:  # the common case: no 1xx before the answer
            return 0
        for index in range(len(lines) - 1, -1, -1):
            if lines[index].startswith(b"HTTP/"):
                return index
        return -1

    def stage(self) -> str:
        """Where this hop is, for a timeout message."""
        start = self.status_line()
        if start >= 0 and not 100 <= status_of(self.lines[start]) < 200:  # 1xx: not the answer
            if self.lines[-1] in _END_OF_HEADERS:
                return "reading the body"
            return "reading the response headers"
        if self.sent:
            return "waiting for the response"
        if self.connect or self.connects:  # libcurl counts a connection once TCP is up
            return "the TLS handshake" if self.https else "waiting for the response"
        if self.namelookup or not self.named_host:
            return "connecting"
        return "resolving the host name"


class _Body:
    """The body sink: keeps at most ``limit`` bytes, then stops the transfer."""

    __slots__ = ("data", "limit", "truncated")

    def __init__(self, limit: int) -> None:
        self.data = bytearray()
        self.limit = limit
        self.truncated = False

    def write(self, chunk: bytes) -> int | None:
        room = self.limit - len(self.data)
        if len(chunk) <= room:
            self.data += chunk
            return None
        self.data += chunk[:room]
        self.truncated = True
        return 0  # fewer bytes taken than given: libcurl ends the transfer (CURLE_WRITE_ERROR)


class Exchange:
    """One run's request chain, the HTTP executor's ``run.context``.

    After :meth:`run` returns None, the last hop is the final response and :attr:`body` its
    body; after a failure or a timeout, :attr:`hops` still says which phases happened.
    """

    __slots__ = (
        "body",
        "cert_not_after",
        "content_length",
        "hops",
        "ip",
        "request",
        "timeout",
        "url",
    )

    def __init__(self, request: HttpRequest, timeout: float) -> None:
        self.request = request
        self.timeout = timeout
        self.hops: list[Hop] = []
        self.body = _Body(request.max_body_bytes)
        self.content_length = -1
        self.ip = ""
        self.url = request.url
        self.cert_not_after: float | None = None

    @property
    def redirects(self) -> int:
        return max(0, len(self.hops) - 1)

    def stage(self) -> str:
        """Where the chain is, for a timeout message."""
        if not self.hops:
            return "starting the request"
        stage = self.hops[-1].stage()
        if len(self.hops) > 1:
            plural = "s" if self.redirects > 1 else ""
            stage = f"{stage}, after {self.redirects} redirect{plural}"
        return stage

    def timeout_message(self) -> str:
        return timeout_message(self.timeout, self.stage())

    def phases(self) -> dict[str, float]:
        """Each phase that happened, in seconds, summed over the hops (for ``Result.timings``):
        ``dns`` only for a host name, ``tls`` only for HTTPS; ``first_byte`` runs from the first
        request's start to the final response's first byte. No ``total``: the caller knows."""
        sums: dict[str, int] = {}  # microseconds, added up exactly before converting
        before = 0  # microseconds the earlier hops took
        for hop in self.hops:
            if hop.namelookup and hop.named_host:
                sums["dns"] = sums.get("dns", 0) + hop.namelookup
            if hop.connect:
                sums["connect"] = sums.get("connect", 0) + hop.connect - hop.namelookup
            elif hop.connects and hop.connected_at > hop.socket_at > 0:  # cut off during TLS
                tcp = round((hop.connected_at - hop.socket_at) * 1e6)
                sums["connect"] = sums.get("connect", 0) + tcp
            if hop.appconnect:
                sums["tls"] = sums.get("tls", 0) + hop.appconnect - hop.connect
            last_before, before = before, before + hop.total
        if self.hops and self.hops[-1].lines and self.hops[-1].starttransfer:
            sums["first_byte"] = last_before + self.hops[-1].starttransfer
        return {phase: micros / 1e6 for phase, micros in sums.items()}

    def total(self) -> float:
        """Seconds the chain took by libcurl's clock (each hop's total, added up)."""
        return sum(hop.total for hop in self.hops) / 1e6

    def connections(self) -> int:
        """New connections the chain opened (fewer than its hops: one was reused)."""
        return sum(hop.connects for hop in self.hops)

    async def run(self, clients: HttpClients, deadline: float) -> Failure | None:
        """Send the request, following redirects; None once the final response is read.

        ``deadline`` (a ``time.perf_counter`` instant) bounds the whole chain: each hop gets
        what is left of it as libcurl's own timeouts.
        """
        request = self.request
        curl_loop = clients.curl_loop()
        url, method, body = request.url, request.method, request.body
        headers = request.headers
        while True:
            hop = Hop(url, url[:6].lower() == "https:", _is_named(url), curl_loop.connecting)
            self.hops.append(hop)
            left = deadline - time.perf_counter()
            code, message = await self._transfer(
                clients, curl_loop, hop, method, body, headers, left
            )
            if code and not (code == pycurl.E_WRITE_ERROR and self.body.truncated):
                return describe_failure(
                    code,
                    message,
                    url=url,
                    stage=self.stage(),
                    os_errno=hop.os_errno,
                    ca_file=request.ca_file,
                    timeout=self.timeout,
                )
            target = hop.location
            if target is None:
                return None
            if self.redirects >= request.max_redirects:
                limit = request.max_redirects
                return Failure.fail(f"more than {limit} redirect{'' if limit == 1 else 's'}")
            if urlsplit(target).scheme.lower() not in ("http", "https"):
                return Failure.error(f"redirected to {target}, which is not an http(s) URL")
            if (hop.status == 303 and method != "HEAD") or (
                hop.status in (301, 302) and method == "POST"
            ):
                method, body = "GET", None
            if _origin(target) != _origin(url):
                headers = tuple(h for h in headers if not h.lower().startswith("authorization:"))
            url = target
            self.body = _Body(request.max_body_bytes)

    async def _transfer(
        self,
        clients: HttpClients,
        curl_loop: CurlLoop,
        hop: Hop,
        method: str,
        body: bytes | None,
        headers: tuple[str, ...],
        seconds_left: float,
    ) -> tuple[int, str]:
        request = self.request
        if method is request.method and body is request.body and headers is request.headers:
            options = _first_hop_options(request, hop.https, clients.ca_bundle, clients.user_agent)
        else:  # a redirect changed the request
            options = _options(
                request, hop.https, clients.ca_bundle, method, body, headers, clients.user_agent
            )
        curl = clients.acquire(options)
        try:
            setopt = curl.setopt
            setopt(pycurl.URL, hop.url)
            timeout_ms = max(1, math.ceil(seconds_left * 1000))
            setopt(pycurl.TIMEOUT_MS, timeout_ms)
            setopt(pycurl.CONNECTTIMEOUT_MS, timeout_ms)
            setopt(pycurl.WRITEFUNCTION, self.body.write)
            setopt(pycurl.HEADERFUNCTION, hop.lines.append)
            setopt(pycurl.PREREQFUNCTION, hop.request_sent)
            if request.keep_alive:
                setopt(pycurl.SOCKOPTFUNCTION, hop.socket_opened)
            else:
                setopt(pycurl.SOCKOPTFUNCTION, hop.fresh_socket_opened)
            try:
                code, message = await curl_loop.perform(curl)
            finally:  # a timeout cancels the wait: what the hop did so far is still telling
                hop.forget_sockets()
                self._measure(curl, hop)
            if not code or code == pycurl.E_WRITE_ERROR:
                self._read_response(curl, curl_loop, hop)
            else:
                hop.os_errno = curl.getinfo(pycurl.OS_ERRNO)
            return code, message
        finally:
            clients.release(curl, options)

    def _measure(self, curl: Any, hop: Hop) -> None:
        info = curl.getinfo
        hop.namelookup = info(pycurl.NAMELOOKUP_TIME_T)
        hop.connect = info(pycurl.CONNECT_TIME_T)
        hop.appconnect = info(pycurl.APPCONNECT_TIME_T)
        hop.starttransfer = info(pycurl.STARTTRANSFER_TIME_T)
        hop.total = info(pycurl.TOTAL_TIME_T)
        hop.connects = info(pycurl.NUM_CONNECTS)

    def _read_response(self, curl: Any, curl_loop: CurlLoop, hop: Hop) -> None:
        info = curl.getinfo
        hop.status = info(pycurl.RESPONSE_CODE)
        self.ip = info(pycurl.PRIMARY_IP)
        self.url = info(pycurl.EFFECTIVE_URL)
        if hop.status in _REDIRECTS and self.request.follow_redirects:
            hop.location = info(pycurl.REDIRECT_URL)  # absolute; None without a Location
        if self.body.truncated:
            self.content_length = info(pycurl.CONTENT_LENGTH_DOWNLOAD_T)
        if hop.https:
            self.cert_not_after = None
            if hop.connects:
                self.cert_not_after = _peer_not_after(info(pycurl.INFO_CERTINFO))
                if self.request.keep_alive and self.cert_not_after is not None:
                    curl_loop.remember_certificate(info(pycurl.CONN_ID), self.cert_not_after)
            elif self.request.keep_alive:
                self.cert_not_after = curl_loop.peer_certs.get(info(pycurl.CONN_ID))


def status_of(line: bytes) -> int:
    """The status code of a status line such as ``HTTP/1.1 200 OK``; 0 if it has none."""
    parts = line.split(None, 2)
    return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0


def _options(
    request: HttpRequest,
    https: bool,
    ca_bundle: str | None,
    method: str,
    body: bytes | None,
    headers: tuple[str, ...],
    user_agent: str = USER_AGENT,
) -> Options:
    """The libcurl options of a hop that do not change between runs (see ``HttpClients``)."""
    options: list[tuple[int, Any]] = [
        (pycurl.NOSIGNAL, 1),
        (pycurl.PROTOCOLS, _PROTOCOLS),
        (pycurl.PROXY, ""),  # never http_proxy & co. from the environment, as before
        (pycurl.HTTP_VERSION, pycurl.CURL_HTTP_VERSION_1_1),
        (pycurl.USERAGENT, user_agent),
        (pycurl.ACCEPT_ENCODING, ""),  # whatever libcurl can decode, decoded
    ]
    if not request.keep_alive:
        options += [
            (pycurl.FRESH_CONNECT, 1),
            (pycurl.FORBID_REUSE, 1),
            (pycurl.DNS_CACHE_TIMEOUT, 0),
        ]
    if body is None and method in _EMPTY_BODY_METHODS:
        body = b""
        content_type = "Content-Type:"  # none, where libcurl would say a form follows
    else:
        content_type = f"Content-Type: {request.body_type}"
    if body is not None:
        # No "Expect: 100-continue" round trip before a large body, as with aiohttp.
        headers += ("Expect:",) if request.sets_content_type else ("Expect:", content_type)
    # The method and body the way libcurl wants them: a POST is a POST, any other method with
    # a body is a custom request carrying it (a HEAD's body is not sent).
    if method == "HEAD":
        options.append((pycurl.NOBODY, 1))
    elif method != "GET" or body is not None:
        if body is not None:
            options += [(pycurl.POSTFIELDSIZE, len(body)), (pycurl.POSTFIELDS, body)]
        if method != "POST":
            options.append((pycurl.CUSTOMREQUEST, method))
    if headers:
        options.append((pycurl.HTTPHEADER, headers))
    if https:
        options.append((pycurl.OPT_CERTINFO, 1))
        if not request.keep_alive:
            options.append((pycurl.SSL_SESSIONID_CACHE, 0))  # a full handshake per probe
        if not request.verify_tls:
            options += [(pycurl.SSL_VERIFYPEER, 0), (pycurl.SSL_VERIFYHOST, 0)]
        elif request.ca_file is not None:
            options.append((pycurl.CAINFO, request.ca_file))
        elif ca_bundle is not None:
            options.append((pycurl.CAINFO, ca_bundle))
    return tuple(options)


@functools.lru_cache(maxsize=8192)
def _first_hop_options(
    request: HttpRequest, https: bool, ca_bundle: str | None, user_agent: str
) -> Options:
    return _options(
        request, https, ca_bundle, request.method, request.body, request.headers, user_agent
    )


def _peer_not_after(chain: Any) -> float | None:
    """The server certificate's expiry from libcurl's ``CERTINFO`` (the leaf comes first)."""
    if not chain:
        return None
    for name, value in chain[0]:
        if name == "Cert":
            try:
                return certificate_not_after(ssl.PEM_cert_to_DER_cert(value))
            except ValueError:
                return None
    return None


@functools.lru_cache(maxsize=4096)
def _is_named(url: str) -> bool:
    """Whether ``url``'s host is a name (resolved, so it has a ``dns`` phase), not an address."""
    host = urlsplit(url).hostname or ""
    try:
        ip_address(host)
    except ValueError:
        return True
    return False


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    return scheme, (parts.hostname or ""), parts.port or (443 if scheme == "https" else 80)
