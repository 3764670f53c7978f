"""One TCP connection of a probe: connect, optional TLS (at once or upgraded later), reads with
limits, each phase timed and each failure worded the same way for every type that dials a port.

Used by ``tcp``, ``tls`` and the protocol probes (``smtp``, ``imap``, ``pop3``, ``ftp``,
``ssh``): plain asyncio streams, so a probe costs one socket and a few callbacks on the running
loop, no thread. TLS client contexts are built once per (verify, CA file) and reused: loading
the system's CA bundle takes milliseconds, far more than a handshake's CPU on loopback.
"""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import socket
import ssl
import time
from collections.abc import Callable
from typing import Any

from nyxmon.domain.model import Outcome
from nyxmon.probes._stream_wire import LINE_LIMIT as _LINE_LIMIT
from nyxmon.probes._stream_wire import Wire as _Wire
from nyxmon.probes._tls import certificate_not_after
from nyxmon.probes.base import os_error_reason

__all__ = ["SessionFailure", "StreamSession", "client_context", "show_target"]

_CONTEXTS: dict[tuple[bool, str | None], ssl.SSLContext] = {}


class SessionFailure(Exception):
    """The connection did not give what the probe needed: an outcome and a one-line reason."""

    def __init__(self, outcome: Outcome, message: str, *, rejected: str | None = None) -> None:
        super().__init__(message)
        self.outcome = outcome
        self.message = message
        #: Why certificate verification rejected the peer, when that is what failed.
        self.rejected = rejected


@functools.lru_cache(maxsize=4096)
def _literal_ip(host: str) -> str | None:
    """``host`` written as the kernel reports a peer when it is an IP address, else None."""
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        return None


def show_target(host: str, port: int) -> str:
    """``host:port``, with brackets around an IPv6 address."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def client_context(verify: bool, ca_file: str | None) -> ssl.SSLContext:
    """A client TLS context (cached): verifying against ``ca_file`` or the system's CAs, or not
    verifying at all (then the certificate is still read, for its expiry)."""
    key = (verify, ca_file)
    context = _CONTEXTS.get(key)
    if context is None:
        if verify:
            try:
                context = ssl.create_default_context(cafile=ca_file)
            except (OSError, ssl.SSLError) as exc:
                reason = getattr(exc, "strerror", None) or str(exc)
                raise SessionFailure(
                    Outcome.ERROR, f"cannot load ca_file {ca_file!r}: {reason}"
                ) from None
        else:
            context = ssl.create_default_context()
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        _CONTEXTS[key] = context
    return context


class StreamSession:
    """An open connection to ``host:port``; ``stage`` says what it is doing (for timeouts)."""

    __slots__ = (
        "_reading",
        "_stage",
        "_wire",
        "encrypted",
        "ip",
        "received",
        "target",
        "timings",
        "transport",
    )

    def __init__(
        self,
        host: str,
        port: int,
        timings: dict[str, float],
        transport: asyncio.Transport,
        wire: _Wire,
    ) -> None:
        self.target = show_target(host, port)
        self.timings = timings
        self.transport = transport
        self._wire = wire
        self._stage = "connected"
        #: What the last line read was (the stage is worded from it only when asked).
        self._reading: str | None = None
        #: Whether TLS is on (set by :meth:`start_tls`): a plain session
        #: need not ask the transport for an SSL object on every run.
        self.encrypted = False
        #: What :meth:`read_until` has read so far (a timeout message quotes it).
        self.received = b""
        self.ip: str | None = _literal_ip(host)
        if self.ip is None:  # a name: ask where it went (a syscall on a fresh connection)
            peer = transport.get_extra_info("peername")
            self.ip = str(peer[0]) if peer else None

    @classmethod
    async def connect(cls, host: str, port: int, timings: dict[str, float]) -> StreamSession:
        """Connect to ``host:port``; the time goes to ``timings["connect"]``."""
        started = time.perf_counter()
        loop = asyncio.get_running_loop()
        wire = _Wire(loop)
        try:
            transport, _ = await loop.create_connection(lambda: wire, host, port)
        except socket.gaierror:
            raise SessionFailure(Outcome.ERROR, f"cannot resolve {host}") from None
        except OSError as exc:
            raise SessionFailure(
                Outcome.ERROR,
                f"cannot connect to {show_target(host, port)}: {os_error_reason(exc)}",
            ) from None
        timings["connect"] = time.perf_counter() - started
        return cls(host, port, timings, transport, wire)

    async def start_tls(self, context: ssl.SSLContext, server_name: str) -> None:
        """Upgrade to TLS (``timings["tls"]``); certificate problems say what was wrong."""
        self.stage = "in the TLS handshake"
        started = time.perf_counter()
        wire = self._wire
        try:
            await wire.drain()
            transport = await wire.loop.start_tls(
                self.transport, wire, context, server_hostname=server_name
            )
        except ssl.SSLCertVerificationError as exc:
            reason = exc.verify_message or exc.reason or str(exc)
            raise SessionFailure(
                Outcome.ERROR,
                f"TLS certificate of {self.target} rejected: {reason}",
                rejected=reason,
            ) from None
        except ssl.SSLError as exc:
            raise SessionFailure(
                Outcome.ERROR, f"TLS handshake with {self.target} failed: {exc.reason or exc}"
            ) from None
        except (OSError, EOFError) as exc:
            raise SessionFailure(
                Outcome.ERROR, f"{self.target} closed the connection in the TLS handshake: {exc}"
            ) from None
        if transport is None:  # the connection closed during the handshake
            raise SessionFailure(
                Outcome.ERROR, f"{self.target} closed the connection in the TLS handshake"
            )
        self.transport = transport
        wire.transport = transport
        wire.over_ssl = True
        self.timings["tls"] = time.perf_counter() - started
        self.encrypted = True

    @property
    def stage(self) -> str:
        """What the session is doing, for a timeout's message ("reading the banner")."""
        reading = self._reading
        return self._stage if reading is None else f"reading {reading}"

    @stage.setter
    def stage(self, stage: str) -> None:
        self._stage = stage
        self._reading = None

    @property
    def ssl_object(self) -> ssl.SSLObject | None:
        if not self.encrypted:
            return None
        obj: Any = self.transport.get_extra_info("ssl_object")
        return obj if isinstance(obj, ssl.SSLObject) else None

    def certificate_der(self) -> bytes | None:
        if not self.encrypted:
            return None
        obj = self.ssl_object
        return None if obj is None else obj.getpeercert(binary_form=True)

    def certificate_not_after(self) -> float | None:
        """When the peer's certificate expires (POSIX time), if there is one to read."""
        if not self.encrypted:
            return None
        der = self.certificate_der()
        if der is None:
            return None
        try:
            return certificate_not_after(der)
        except ValueError:
            return None

    async def send(self, data: bytes) -> None:
        transport = self.transport
        try:
            transport.write(data)
            # A probe's few bytes leave at once on a healthy connection: only a buffered
            # write or a closed connection needs draining (which also reports the breakage).
            if transport.get_write_buffer_size() or transport.is_closing():
                await self._wire.drain()
        except OSError as exc:
            raise SessionFailure(
                Outcome.ERROR, f"connection to {self.target} broken while sending: {exc}"
            ) from None

    def send_nowait(self, data: bytes) -> None:
        """Write ``data`` and go on without waiting for it to leave (the goodbye before
        dropping the connection); a broken connection raises OSError."""
        self.transport.write(data)

    def line_nowait(self, what: str) -> bytes | None:
        """The next line (as :meth:`read_line` gives it) when a whole one is here already (a
        multi-line reply's next), else None: then await :meth:`read_line`. No coroutine."""
        self._reading = what
        wire = self._wire
        buffer = wire.buffer
        end = buffer.find(b"\n")
        if end < 0 or end > _LINE_LIMIT or wire.error is not None:
            return None
        line = bytes(buffer[:end])
        del buffer[: end + 1]
        if wire.reading_paused:
            wire.consumed()
        return line.rstrip(b"\r\n")

    async def read_line(self, what: str) -> bytes:
        """One line (without its line break); ``what`` names it in errors ("the banner")."""
        line = self.line_nowait(what)
        if line is not None:
            return line
        wire = self._wire
        buffer = wire.buffer
        # The line has yet to arrive: ``StreamReader.readuntil``'s rules (the connection's
        # error first, then the line, the limit, EOF), in this coroutine (one fewer per wait).
        offset = 0
        try:
            if wire.error is not None:
                raise wire.error
            while True:
                end = buffer.find(b"\n", offset)
                if end >= 0:
                    break
                offset = len(buffer)
                if offset > _LINE_LIMIT:
                    raise SessionFailure(
                        Outcome.FAIL,
                        f"{what} from {self.target} is longer than {_LINE_LIMIT} bytes",
                    )
                error = wire.broken()
                if error is not None:  # broken mid-line
                    raise error
                if wire.eof:
                    partial = bytes(buffer)
                    buffer.clear()
                    if partial:
                        return partial.rstrip(b"\r\n")
                    raise SessionFailure(
                        Outcome.ERROR, f"{self.target} closed the connection before {what}"
                    )
                await wire.wait()
        except (OSError, ssl.SSLError) as exc:
            raise SessionFailure(
                Outcome.ERROR, f"connection to {self.target} broken while reading {what}: {exc}"
            ) from None
        if end > _LINE_LIMIT:
            raise SessionFailure(
                Outcome.FAIL, f"{what} from {self.target} is longer than {_LINE_LIMIT} bytes"
            )
        line = bytes(buffer[:end])
        del buffer[: end + 1]
        wire.consumed()
        return line.rstrip(b"\r\n")

    async def _read(self, size: int) -> bytes:
        """Up to ``size`` bytes as soon as any are here; empty at EOF (``StreamReader.read``)."""
        wire = self._wire
        if wire.error is not None:
            raise wire.error
        if size == 0:
            return b""
        buffer = wire.buffer
        if not buffer and not wire.eof:
            await wire.wait()
            error = wire.broken()
            if error is not None and not buffer:
                raise error
        data = bytes(buffer[:size])
        del buffer[:size]
        wire.consumed()
        return data

    async def read_until(self, limit: int, enough: Callable[[bytes], bool]) -> bytes:
        """Bytes until ``enough(data)`` holds, ``limit`` bytes came, or the peer closed."""
        self.stage = "reading the answer"
        data = b""
        while len(data) < limit and not enough(data):
            try:
                chunk = await self._read(limit - len(data))
            except (OSError, ssl.SSLError) as exc:
                raise SessionFailure(
                    Outcome.ERROR, f"connection to {self.target} broken while reading: {exc}"
                ) from None
            if not chunk:
                break
            data += chunk
            self.received = data
        return data

    def close(self) -> None:
        """Drop the connection at once: a probe never waits for a polite close."""
        transport = self.transport
        if not transport.is_closing():
            transport.abort()
