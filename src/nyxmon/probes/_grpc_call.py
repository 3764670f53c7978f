"""One unary gRPC call over HTTP/2 on a fresh asyncio connection, framed by the pure-Python
``h2`` library (HPACK and frames from ``hpack`` and ``hyperframe``).

Why not grpcio: importing it costs the agent about 9 MB of RSS and starts grpc core's threads,
for what a health check needs, one small request and one small answer on a connection of its
own. Plaintext is HTTP/2 with prior knowledge (h2c), as grpcio's insecure channels speak it;
TLS offers ALPN ``h2``. The connection is dropped once the answer is in: nothing is pooled.
"""

from __future__ import annotations

import asyncio
import functools
import math
import ssl
import struct
import time
from dataclasses import dataclass
from urllib.parse import unquote

from h2.config import H2Configuration
from h2.connection import H2Connection
from h2.events import (
    ConnectionTerminated,
    DataReceived,
    RemoteSettingsChanged,
    ResponseReceived,
    StreamEnded,
    StreamReset,
    TrailersReceived,
)
from h2.exceptions import ProtocolError
from hpack.struct import Header

from nyxmon.domain.model import Outcome
from nyxmon.probes.base import ProbeRun

__all__ = ["CODES", "CallFailure", "Reply", "tls_context", "unary_call"]

#: gRPC status codes by number (grpc/doc/statuscodes.md).
CODES = (
    "OK",
    "CANCELLED",
    "UNKNOWN",
    "INVALID_ARGUMENT",
    "DEADLINE_EXCEEDED",
    "NOT_FOUND",
    "ALREADY_EXISTS",
    "PERMISSION_DENIED",
    "RESOURCE_EXHAUSTED",
    "FAILED_PRECONDITION",
    "ABORTED",
    "OUT_OF_RANGE",
    "UNIMPLEMENTED",
    "INTERNAL",
    "UNAVAILABLE",
    "DATA_LOSS",
    "UNAUTHENTICATED",
)
#: The status a proxy's HTTP error stands for when no grpc-status came (grpc/doc/http-grpc-
#: status-mapping.md); any other HTTP status is UNKNOWN.
_HTTP_CODES = {400: 13, 401: 16, 403: 7, 404: 12, 429: 14, 502: 14, 503: 14, 504: 14}
_UNKNOWN = 2
_READ = 65_536
#: grpcio's default limit on a received message.
_MAX_MESSAGE = 4 * 1024 * 1024
#: grpc-timeout holds at most 8 digits.
_MAX_TIMEOUT_MS = 99_999_999


class CallFailure(Exception):
    """No gRPC answer could be had: the peer is not a gRPC server, or broke off. ERROR unless
    said otherwise; ``message`` names what went wrong, not the server (the caller does)."""

    def __init__(self, message: str, outcome: Outcome = Outcome.ERROR) -> None:
        super().__init__(message)
        self.message = message
        self.outcome = outcome


@dataclass(frozen=True, slots=True)
class Reply:
    """A call's end: its grpc-status, grpc-message and response message (None if none came)."""

    code: int
    details: str
    message: bytes | None

    @property
    def code_name(self) -> str:
        return CODES[self.code] if 0 <= self.code < len(CODES) else str(self.code)


@functools.lru_cache(maxsize=64)
def tls_context(ca_file: str | None) -> ssl.SSLContext:
    """A verifying client context offering ALPN ``h2`` (cached: loading CAs takes
    milliseconds). OSError (ssl.SSLError too) if ``ca_file`` cannot be read as PEM."""
    context = ssl.create_default_context(cafile=ca_file)
    context.set_alpn_protocols(["h2"])
    return context


def _headers(host: str, port: int, path: str, tls: bool, deadline: float) -> list[tuple[str, str]]:
    authority = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    timeout_ms = min(math.ceil(deadline * 1000), _MAX_TIMEOUT_MS)
    return [
        (":method", "POST"),
        (":scheme", "https" if tls else "http"),
        (":path", path),
        (":authority", authority),
        ("content-type", "application/grpc"),
        ("te", "trailers"),
        ("grpc-timeout", f"{timeout_ms}m"),
        ("user-agent", "nyxmon"),
    ]


async def unary_call(
    run: ProbeRun,
    host: str,
    port: int,
    path: str,
    request: bytes,
    *,
    tls: ssl.SSLContext | None,
    deadline: float,
) -> Reply:
    """Call ``path`` with the serialized ``request``; ``deadline`` (s from now) goes to the server
    as grpc-timeout. Times ``connect``, ``tls`` and ``query`` into ``run.timings`` and keeps
    ``run.context`` on the phase. Raises OSError if the connection cannot be made,
    :class:`CallFailure` for anything that is not a gRPC answer."""
    started = time.perf_counter()
    reader, writer = await asyncio.open_connection(host, port, limit=_READ)
    try:
        run.timings["connect"] = time.perf_counter() - started
        if tls is not None:
            await _start_tls(run, writer, tls, host)
            # the HTTP/2 connection is up once the server's SETTINGS come: still connecting
            run.context = "connecting"
        return await _exchange(
            run, reader, writer, _headers(host, port, path, bool(tls), deadline), request
        )
    finally:
        writer.transport.abort()  # a probe never waits for a polite close


async def _start_tls(
    run: ProbeRun, writer: asyncio.StreamWriter, context: ssl.SSLContext, host: str
) -> None:
    run.context = "in the TLS handshake"
    started = time.perf_counter()
    try:
        await writer.start_tls(context, server_hostname=host)
    except ssl.SSLCertVerificationError as exc:
        reason = exc.verify_message or exc.reason or str(exc)
        raise CallFailure(f"TLS certificate rejected: {reason}") from None
    except ssl.SSLError as exc:
        raise CallFailure(f"TLS handshake failed: {exc.reason or exc}") from None
    except (OSError, EOFError) as exc:
        raise CallFailure(f"connection closed in the TLS handshake: {exc}") from None
    run.timings["tls"] = time.perf_counter() - started
    ssl_object = writer.get_extra_info("ssl_object")
    chosen = ssl_object.selected_alpn_protocol() if ssl_object is not None else None
    if chosen is not None and chosen != "h2":
        raise CallFailure(f"the TLS server chose {chosen!r} over h2: not a gRPC server")


async def _exchange(
    run: ProbeRun,
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    headers: list[tuple[str, str]],
    request: bytes,
) -> Reply:
    conn = H2Connection(H2Configuration(client_side=True, header_encoding=None))
    conn.initiate_connection()
    stream = conn.get_next_available_stream_id()
    # the request goes with the preface, before the server's SETTINGS: HTTP/2 allows it, and
    # it saves a round trip; the default window and frame size hold any sane service name
    conn.send_headers(stream, headers)
    body = struct.pack(">BI", 0, len(request)) + request
    if len(body) > min(conn.max_outbound_frame_size, conn.local_flow_control_window(stream)):
        raise CallFailure(f"request of {len(body)} bytes is too large", Outcome.FAIL)
    conn.send_data(stream, body, end_stream=True)
    sent = time.perf_counter()
    writer.write(conn.data_to_send())

    first = b""
    response: dict[bytes, bytes] | None = None
    trailers: dict[bytes, bytes] = {}
    data = bytearray()
    ended = False
    while not ended:
        try:
            chunk = await reader.read(_READ)
        except OSError as exc:
            raise CallFailure(f"connection broken while waiting for the answer: {exc}") from None
        if not chunk:
            when = "before answering" if response is None else "in mid-answer"
            raise CallFailure(f"the server closed the connection {when}")
        if len(first) < 9:
            first += chunk
            if len(first) < 9:
                continue
            if reason := _not_a_preface(first):
                raise CallFailure(_not_http2(first, reason))
            chunk, first = first, first[:80]
        try:
            events = conn.receive_data(chunk)
        except ProtocolError as exc:
            raise CallFailure(_not_http2(first, str(exc))) from None
        for event in events:
            if isinstance(event, RemoteSettingsChanged):
                run.context = "querying"
            elif isinstance(event, ResponseReceived):
                response = dict(_pairs(event.headers))
            elif isinstance(event, DataReceived):
                data += event.data
                if len(data) > _MAX_MESSAGE + 5:
                    raise CallFailure(f"answer longer than {_MAX_MESSAGE} bytes", Outcome.FAIL)
                conn.acknowledge_received_data(event.flow_controlled_length, stream)
            elif isinstance(event, TrailersReceived):
                trailers = dict(_pairs(event.headers))
            elif isinstance(event, StreamEnded):
                ended = True
            elif isinstance(event, StreamReset):
                raise CallFailure(f"the server reset the call ({_error_name(event.error_code)})")
            elif isinstance(event, ConnectionTerminated) and not ended:
                raise CallFailure(
                    f"the server ended the connection (GOAWAY {_error_name(event.error_code)})"
                )
        if not ended and (out := conn.data_to_send()):
            writer.write(out)
    run.timings["query"] = time.perf_counter() - sent
    if response is None:  # h2 ends a stream only after its headers; this is for mypy
        raise CallFailure("the call ended without response headers")
    return _reply(response, trailers, bytes(data))


def _pairs(headers: list[Header]) -> list[tuple[bytes, bytes]]:
    # header_encoding=None: h2 hands names and values over as bytes
    return [(bytes(name), bytes(value)) for name, value in headers]


def _error_name(code: object) -> str:
    return getattr(code, "name", None) or str(code)


def _not_a_preface(head: bytes) -> str | None:
    """Why ``head`` cannot open a server's HTTP/2 preface, which is a SETTINGS frame on
    stream 0. h2 checks a frame's length only once the whole frame is in, so an HTTP/1 answer
    read as a frame header (length 0x485454, 4.7 MB) would hold the probe until its timeout."""
    length, kind, stream = int.from_bytes(head[:3]), head[3], int.from_bytes(head[5:9])
    if kind != 0x4 or stream & 0x7FFF_FFFF or length % 6 or length > 16_384:
        return "its first frame is not SETTINGS"
    return None


def _not_http2(first: bytes, reason: str) -> str:
    if first.startswith(b"HTTP/"):
        line = first.split(b"\r\n", 1)[0].decode("ascii", "replace")[:80]
        return f"answered in HTTP/1 ({line!r}), not HTTP/2: not a gRPC server"
    return f"did not answer in HTTP/2 ({reason}; first bytes {first[:24]!r})"


def _reply(response: dict[bytes, bytes], trailers: dict[bytes, bytes], data: bytes) -> Reply:
    status = trailers.get(b"grpc-status", response.get(b"grpc-status"))
    details = trailers.get(b"grpc-message", response.get(b"grpc-message", b""))
    text = unquote(details.decode("utf-8", "replace"))
    http = response.get(b":status", b"")
    if status is None:
        if http != b"200":
            code = _HTTP_CODES.get(int(http) if http.isdigit() else 0, _UNKNOWN)
            return Reply(code, f"HTTP status {http.decode('ascii', 'replace')}", None)
        raise CallFailure("answered without a grpc-status: not a gRPC server")
    try:
        code = int(status)
    except ValueError:
        raise CallFailure(f"answered grpc-status {status!r}", Outcome.FAIL) from None
    if not data:
        return Reply(code, text, None)
    if len(data) < 5:
        raise CallFailure("answered a truncated message", Outcome.FAIL)
    compressed, size = struct.unpack_from(">BI", data)
    if compressed:
        raise CallFailure("answered a compressed message it was not asked for", Outcome.FAIL)
    if len(data) != 5 + size:
        raise CallFailure("answered more or less than one message", Outcome.FAIL)
    return Reply(code, text, data[5:])
