"""The libcurl bridge the HTTP and JSON probes share: a CurlMulti per event loop, driven by it.

Why libcurl: aiohttp cost 215-250 us of CPU per request on the reference machine, which left
no room for the agent's own work at thousands of probes a second; libcurl does the HTTP work in
C (about half the CPU) and times every phase itself (``CURLINFO_*_TIME_T``), so the probes need
no timing hooks of their own.

How it runs on asyncio: libcurl's multi-socket API says which sockets to watch and when to wake
it up. :class:`CurlLoop` turns the first into ``loop.add_reader``/``add_writer`` and the second
into ``loop.call_later``; when a socket is ready or the timer fires it calls ``socket_action``
and collects the finished transfers with ``info_read``. libcurl never blocks the loop (names
are resolved in its resolver threads) and nothing polls.

Connections are fresh per run unless a check asks for keep-alive: ``FRESH_CONNECT`` and
``FORBID_REUSE``, no DNS cache and no TLS session resumption, so every probe pays, and measures,
DNS, connect and a full TLS handshake. Such a socket closes with RST (``SO_LINGER`` 0): at
thousands of connections a second, normal closes leave tens of thousands of TIME_WAIT sockets,
and Linux's connect() then spends milliseconds (measured: up to 300 ms) hunting for a free
port, blocking the loop. The probe closes only after reading what it wanted, so nothing is lost.
Keep-alive checks share the multi's connection cache instead.

Easy handles are pooled by the options that stay the same between runs (a check's method,
headers, TLS settings...): a handle taken from the pool already has them, so a run sets only its
URL, timeouts and callbacks: 1.3 us, where resetting a handle and setting everything again
measured 13 us a run.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import struct
from collections.abc import Callable
from typing import Any

import pycurl

import nyxmon

__all__ = [
    "CLIENT_CLOSED",
    "USER_AGENT",
    "CurlLoop",
    "HttpClients",
    "Options",
    "system_ca_bundle",
    "user_agent_at",
]

logger = logging.getLogger(__name__)

USER_AGENT = f"NyxMon/{nyxmon.__version__}"


def user_agent_at(location: str) -> str:
    """The User-Agent of the HTTP probes of an agent at ``location``: ``NyxMon/1.0
    (location eu)``, so a target's logs (or a test target) can tell where a probe came from;
    plain ``NyxMon/1.0`` at the default location."""
    return USER_AGENT if location == "default" else f"{USER_AGENT} (location {location})"


#: The result code of a transfer cut short because its :class:`CurlLoop` closed (libcurl's
#: own codes are all positive).
CLIENT_CLOSED = -1

#: Where distributions keep the system's CA bundle. The libcurl in pycurl's wheel was built on
#: a RHEL-like system and looks for ``/etc/pki/tls/certs/ca-bundle.crt`` only, which Debian and
#: Alpine do not have: left to its default, every verified HTTPS probe would fail there.
_CA_BUNDLES = (
    "/etc/ssl/certs/ca-certificates.crt",  # Debian, Ubuntu, Alpine, Arch
    "/etc/pki/tls/certs/ca-bundle.crt",  # RHEL, Fedora
    "/etc/ssl/ca-bundle.pem",  # openSUSE
    "/etc/ssl/cert.pem",  # macOS, the BSDs
)

#: libcurl options as (option, value) pairs; a tuple value is set as a list (HTTPHEADER).
Options = tuple[tuple[int, Any], ...]

_IDLE_HANDLES = 256  # ~15 KB each once used: enough for the default concurrency (100)
_PEER_CERTS = 4096
_LINGER_ZERO = struct.pack("ii", 1, 0)
_WATCH = pycurl.POLL_INOUT  # the two bits of interest: POLL_IN | POLL_OUT
_READ = pycurl.POLL_IN
_WRITE = pycurl.POLL_OUT


def system_ca_bundle() -> str | None:
    """The CA bundle verified HTTPS probes trust when the check names no ``ca_file``: the
    system's, else certifi's when installed, else None (libcurl's built-in default)."""
    for path in _CA_BUNDLES:
        if os.path.isfile(path):
            return path
    try:
        import certifi
    except ImportError:
        return None
    return str(certifi.where())


def abortive_close(fd: int, purpose: int) -> int:
    """libcurl's ``SOCKOPTFUNCTION`` for fresh connections: close with RST, not FIN, so that
    no TIME_WAIT socket is left behind (see the module docstring)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, 0, fd)  # no syscall: fd given
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_ZERO)
    finally:
        sock.detach()  # the descriptor stays libcurl's
    return pycurl.SOCKOPT_OK  # type: ignore[no-any-return]


class CurlLoop:
    """One ``CurlMulti`` driven by one asyncio event loop; see the module docstring.

    ``peer_certs`` remembers the certificate expiry of kept-alive TLS connections by libcurl's
    connection id: libcurl reports a certificate only for the handshake that received it, and a
    run over a reused connection must still see when its certificate expires.

    ``connecting`` maps a socket libcurl is connecting to what to call when the loop first sees
    it writable, the moment its TCP connection is up. libcurl reports its own connect time only
    once the whole connection, TLS included, is up (or has failed), so this is the only way to
    know how long TCP took for a run cancelled in the middle of a TLS handshake.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.peer_certs: dict[int, float] = {}
        self.connecting: dict[int, Callable[[], object]] = {}
        self._multi = pycurl.CurlMulti()
        self._multi.setopt(pycurl.M_SOCKETFUNCTION, self._on_socket)
        self._multi.setopt(pycurl.M_TIMERFUNCTION, self._on_timer)
        self._watched: dict[int, int] = {}  # fd -> the POLL_IN/POLL_OUT bits registered
        self._transfers: dict[Any, asyncio.Future[tuple[int, str]]] = {}
        self._timer: asyncio.Handle | None = None
        self._timer_due = 0.0  # loop.time() when _timer fires
        self.closed = False

    def transfers(self) -> int:
        """How many transfers are in the multi right now."""
        return len(self._transfers)

    def watched_sockets(self) -> tuple[int, ...]:
        """The file descriptors the loop watches for libcurl right now."""
        return tuple(self._watched)

    async def perform(self, curl: Any) -> tuple[int, str]:
        """Run the transfer set up on ``curl``: ``(0, "")``, or libcurl's error code and message.

        Cancelled (the check's timeout), the transfer leaves the multi at once, closing its
        connection, so ``curl`` can be read, reset and reused right away.
        """
        if self.closed:
            return CLIENT_CLOSED, "the HTTP client is closed"
        future: asyncio.Future[tuple[int, str]] = self.loop.create_future()
        self._multi.add_handle(curl)  # libcurl asks for a timeout of 0: it starts next tick
        self._transfers[curl] = future
        try:
            return await future
        finally:
            if self._transfers.pop(curl, None) is not None:  # not finished: cancelled
                self._multi.remove_handle(curl)

    def remember_certificate(self, connection_id: int, not_after: float) -> None:
        if len(self.peer_certs) >= _PEER_CERTS:
            self.peer_certs.clear()
        self.peer_certs[connection_id] = not_after

    def close(self) -> None:
        """End every transfer (each gets :data:`CLIENT_CLOSED`), close the cached connections
        and stop watching their sockets. Idempotent."""
        if self.closed:
            return
        self.closed = True
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        transfers, self._transfers = self._transfers, {}
        for curl, future in transfers.items():
            self._multi.remove_handle(curl)
            if not future.done():
                future.set_result((CLIENT_CLOSED, "the HTTP client closed during the request"))
        self._multi.close()
        for fd, bits in self._watched.items():
            self._unwatch(fd, bits)
        self._watched.clear()
        self.peer_certs.clear()
        self.connecting.clear()

    # -- libcurl's callbacks: they only touch the loop, never the multi ----------------------
    def _on_socket(self, what: int, fd: int, multi: Any, socketp: Any) -> None:
        old = self._watched.get(fd, 0)
        if what == pycurl.POLL_REMOVE:
            if fd in self._watched:
                del self._watched[fd]
                self._unwatch(fd, old)
            return
        if self.closed:
            return
        new = what & _WATCH
        if new == old and fd in self._watched:
            return
        loop = self.loop
        if new & _READ and not old & _READ:
            loop.add_reader(fd, self._action, fd, pycurl.CSELECT_IN)
        elif old & _READ and not new & _READ:
            loop.remove_reader(fd)
        if new & _WRITE and not old & _WRITE:
            loop.add_writer(fd, self._action, fd, pycurl.CSELECT_OUT)
        elif old & _WRITE and not new & _WRITE:
            loop.remove_writer(fd)
        self._watched[fd] = new

    def _unwatch(self, fd: int, bits: int) -> None:
        if self.loop.is_closed():  # closing after the loop (a registry closed late)
            return
        if bits & _READ:
            self.loop.remove_reader(fd)
        if bits & _WRITE:
            self.loop.remove_writer(fd)

    def _on_timer(self, timeout_ms: int) -> None:
        timer = self._timer
        if timeout_ms < 0 or self.closed:
            if timer is not None:
                timer.cancel()
                self._timer = None
            return
        due = self.loop.time() + timeout_ms / 1000
        if timer is not None:
            if self._timer_due <= due:
                # The timer set fires first. libcurl takes an early socket_action(TIMEOUT)
                # as "nothing due yet" and asks again, so leaving it saves replacing a timer
                # each time a transfer's deadline moves later (several times per request).
                return
            timer.cancel()
        self._timer_due = due
        # 0 means "now", but libcurl may be mid-call: the loop's next tick is soon enough and
        # gathers all the transfers added meanwhile into one socket_action.
        if timeout_ms == 0:
            self._timer = self.loop.call_soon(self._on_timeout)
        else:
            self._timer = self.loop.call_later(timeout_ms / 1000, self._on_timeout)

    def _on_timeout(self) -> None:
        self._timer = None
        self._action(pycurl.SOCKET_TIMEOUT, 0)

    def _action(self, fd: int, event: int) -> None:
        if self.closed:
            return
        if event == pycurl.CSELECT_OUT and self.connecting:
            connected = self.connecting.pop(fd, None)
            if connected is not None:
                connected()
        try:
            self._multi.socket_action(fd, event)
        except pycurl.error:  # the multi itself failed (out of memory): nothing will finish
            logger.exception("libcurl's multi handle failed; ending its transfers")
            for curl, future in list(self._transfers.items()):
                self._finish(curl, future, CLIENT_CLOSED, "libcurl's multi handle failed")
            return
        transfers = self._transfers
        while True:
            queued, succeeded, failed = self._multi.info_read()
            for curl in succeeded:
                if (pending := transfers.get(curl)) is not None:
                    self._finish(curl, pending, 0, "")
            for curl, code, message in failed:
                if (pending := transfers.get(curl)) is not None:
                    self._finish(curl, pending, code, message)
            if not queued:
                return

    def _finish(
        self, curl: Any, future: asyncio.Future[tuple[int, str]], code: int, message: str
    ) -> None:
        del self._transfers[curl]
        self._multi.remove_handle(curl)
        if not future.done():
            future.set_result((code, message))


def _discard(chunk: bytes) -> None:
    """The write callback of an idle handle, so that it keeps no run's body alive."""


class HttpClients:
    """The curl bridge of the HTTP-based probes: a :class:`CurlLoop` per event loop it is used
    on, and a pool of easy handles. Created by the probe registry on first use; close with
    :meth:`aclose`.
    """

    def __init__(self, *, ca_bundle: str | None = None, user_agent: str = USER_AGENT) -> None:
        self.ca_bundle = ca_bundle if ca_bundle is not None else system_ca_bundle()
        #: Sent unless a check sets its own User-Agent header; names the agent's location
        #: (:func:`user_agent_at`), for whoever reads the target's logs.
        self.user_agent = user_agent
        self._loops: dict[asyncio.AbstractEventLoop, CurlLoop] = {}
        self._idle: dict[Options, list[Any]] = {}
        self._idle_count = 0
        self._in_use = 0
        self.closed = False

    def curl_loop(self) -> CurlLoop:
        """The running loop's :class:`CurlLoop`, created on first use.

        Raises ``RuntimeError`` outside an asyncio event loop (libcurl's sockets are watched
        with asyncio's ``add_reader``; trio is not supported by the HTTP probes).
        """
        loop = asyncio.get_running_loop()
        curl_loop = self._loops.get(loop)
        if curl_loop is None:
            if self.closed:
                raise RuntimeError("the HTTP client is closed")
            curl_loop = self._loops[loop] = CurlLoop(loop)
        return curl_loop

    def curl_loops(self) -> tuple[CurlLoop, ...]:
        """The loops' bridges opened so far (for introspection and tests)."""
        return tuple(self._loops.values())

    def acquire(self, options: Options) -> Any:
        """An easy handle with ``options`` set and libcurl's defaults otherwise; give it back
        with :meth:`release` and the same ``options``.

        Every run must set the options that are not in ``options`` and that it uses at all
        (URL, timeouts, callbacks): a pooled handle still has the previous run's.
        """
        self._in_use += 1
        idle = self._idle.get(options)
        if idle:
            self._idle_count -= 1
            return idle.pop()
        curl = pycurl.Curl()
        for option, value in options:
            curl.setopt(option, list(value) if isinstance(value, tuple) else value)
        return curl

    def release(self, curl: Any, options: Options) -> None:
        """Pool ``curl`` for the next run with the same ``options`` (or close it)."""
        self._in_use -= 1
        if self.closed or self._idle_count >= _IDLE_HANDLES:
            curl.close()
            return
        curl.setopt(pycurl.WRITEFUNCTION, _discard)  # let go of the run's body now
        self._idle.setdefault(options, []).append(curl)
        self._idle_count += 1

    def handles(self) -> tuple[int, int]:
        """(handles lent out, handles idle in the pool), for tests and introspection."""
        return self._in_use, self._idle_count

    async def aclose(self) -> None:
        self.closed = True
        loops, self._loops = self._loops, {}
        for curl_loop in loops.values():
            curl_loop.close()
        idle, self._idle, self._idle_count = self._idle, {}, 0
        for handles in idle.values():
            for curl in handles:
                curl.close()
