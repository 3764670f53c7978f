"""The grpc probe against a grpcio health server started here (plaintext and TLS), and against
raw peers that answer what grpcio would not: a trailers-only error, HTTP/1.1, garbage."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import grpc.aio
import h2.config
import h2.connection
import h2.events
import pytest
import trustme
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from tests.integration.probes.endpoints import probe
from tests.servers.sockets import closed_port
from tests.servers.tls import TlsMaterial

from nyxmon.domain.model import Outcome
from nyxmon.probes.registry import ExecutorRegistry

pytestmark = pytest.mark.anyio

Status = health_pb2.HealthCheckResponse


@pytest.fixture
async def server() -> AsyncIterator[tuple[int, health.aio.HealthServicer]]:
    """A health service: the server and ``api`` SERVING, ``jobs`` NOT_SERVING."""
    server = grpc.aio.server()
    servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    await servicer.set("", Status.SERVING)
    await servicer.set("api", Status.SERVING)
    await servicer.set("jobs", Status.NOT_SERVING)
    await server.start()
    try:
        yield port, servicer
    finally:
        await server.stop(None)


async def test_a_serving_server_and_service_pass(
    registry: ExecutorRegistry, server: tuple[int, health.aio.HealthServicer]
) -> None:
    port, _ = server
    whole = await probe(registry, "grpc", {"host": "127.0.0.1", "port": port})
    assert whole.outcome is Outcome.OK, whole.message
    assert whole.message.startswith(f"grpc 127.0.0.1:{port} answered in ")
    assert whole.message.endswith("value SERVING")
    api = await probe(
        registry,
        "grpc",
        {"host": "127.0.0.1", "port": port, "service": "api"},
        "[VALUE] == SERVING",
    )
    assert api.outcome is Outcome.OK, api.message


async def test_a_service_not_serving_fails(
    registry: ExecutorRegistry, server: tuple[int, health.aio.HealthServicer]
) -> None:
    port, servicer = server
    result = await probe(registry, "grpc", {"host": "127.0.0.1", "port": port, "service": "jobs"})
    assert result.outcome is Outcome.FAIL
    assert result.message == f"grpc 127.0.0.1:{port}: service 'jobs' is NOT_SERVING"
    await servicer.set("jobs", Status.SERVING)
    again = await probe(registry, "grpc", {"host": "127.0.0.1", "port": port, "service": "jobs"})
    assert again.outcome is Outcome.OK, again.message


async def test_an_unknown_service_fails(
    registry: ExecutorRegistry, server: tuple[int, health.aio.HealthServicer]
) -> None:
    port, _ = server
    result = await probe(registry, "grpc", {"host": "127.0.0.1", "port": port, "service": "nope"})
    assert result.outcome is Outcome.FAIL
    assert result.message == f"grpc 127.0.0.1:{port}: service 'nope' is unknown"


async def test_a_closed_port_is_refused(registry: ExecutorRegistry) -> None:
    port = closed_port()
    result = await probe(registry, "grpc", {"host": "127.0.0.1", "port": port})
    assert result.outcome is Outcome.ERROR
    assert result.message == f"grpc 127.0.0.1:{port}: Connection refused"


async def test_a_silent_listener_times_out(registry: ExecutorRegistry, silent_port: int) -> None:
    params = {"host": "127.0.0.1", "port": silent_port}
    result = await probe(registry, "grpc", params, check_timeout=0.5)
    assert result.outcome is Outcome.TIMEOUT
    assert (
        result.message == f"no answer from grpc 127.0.0.1:{silent_port} within 0.5 s (connecting)"
    )


StartTlsServer = Callable[[trustme.LeafCert], Awaitable[int]]


@pytest.fixture
async def start_tls_server() -> AsyncIterator[StartTlsServer]:
    """Starts SERVING health services over TLS with the given certificates; stops them after."""
    servers: list[grpc.aio.Server] = []

    async def start(cert: trustme.LeafCert) -> int:
        server = grpc.aio.server()
        servicer = health.aio.HealthServicer()
        health_pb2_grpc.add_HealthServicer_to_server(servicer, server)
        chain = b"".join(pem.bytes() for pem in cert.cert_chain_pems)
        credentials = grpc.ssl_server_credentials([(cert.private_key_pem.bytes(), chain)])
        port = server.add_secure_port("127.0.0.1:0", credentials)
        await servicer.set("", Status.SERVING)
        servers.append(server)
        await server.start()
        return port

    try:
        yield start
    finally:
        for server in servers:
            await server.stop(None)


@pytest.fixture
async def tls_server(tls: TlsMaterial, start_tls_server: StartTlsServer) -> int:
    """A health service over TLS, its certificate signed by the ``tls`` CA."""
    return await start_tls_server(tls.server_cert)


async def test_a_tls_server_signed_by_the_trusted_ca_passes(
    registry: ExecutorRegistry, tls: TlsMaterial, tls_server: int
) -> None:
    params = {"host": "127.0.0.1", "port": tls_server, "tls": True, "ca_file": str(tls.ca_file)}
    result = await probe(registry, "grpc", params)
    assert result.outcome is Outcome.OK, result.message
    assert result.message.endswith("value SERVING")
    assert {"connect", "tls", "query", "total"} <= result.timings.keys()


async def test_a_certificate_from_an_untrusted_ca_is_rejected(
    registry: ExecutorRegistry, other_tls: TlsMaterial, tls_server: int
) -> None:
    params = {"host": "127.0.0.1", "port": tls_server, "tls": True}
    params["ca_file"] = str(other_tls.ca_file)
    result = await probe(registry, "grpc", params)
    assert result.outcome is Outcome.ERROR
    assert result.message == (
        f"grpc 127.0.0.1:{tls_server}: TLS certificate rejected: "
        "unable to get local issuer certificate"
    )


async def test_a_certificate_for_another_host_is_rejected(
    registry: ExecutorRegistry, tls: TlsMaterial, start_tls_server: StartTlsServer
) -> None:
    port = await start_tls_server(tls.ca.issue_cert("elsewhere.example"))
    params = {"host": "127.0.0.1", "port": port, "tls": True, "ca_file": str(tls.ca_file)}
    result = await probe(registry, "grpc", params)
    assert result.outcome is Outcome.ERROR
    assert result.message.startswith(f"grpc 127.0.0.1:{port}: TLS certificate rejected: ")
    assert "mismatch" in result.message


async def test_an_unreadable_ca_file_is_an_error(
    registry: ExecutorRegistry, missing_file: Path
) -> None:
    params = {"host": "127.0.0.1", "port": 1, "tls": True, "ca_file": str(missing_file)}
    result = await probe(registry, "grpc", params)
    assert result.outcome is Outcome.ERROR
    assert result.message == "grpc 127.0.0.1:1: ca_file: No such file or directory"


@asynccontextmanager
async def raw_peer(answer: Callable[[bytes], bytes]) -> AsyncIterator[int]:
    """A TCP server that reads the probe's first bytes, writes ``answer(them)`` and keeps the
    connection open (so only the answer can end the probe, not a close)."""
    writers: list[asyncio.StreamWriter] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writers.append(writer)
        writer.write(answer(await reader.read(65_536)))
        await writer.drain()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        for writer in writers:
            writer.close()
        server.close()
        await server.wait_closed()


def _h2_answer(*headers: tuple[str, str]) -> Callable[[bytes], bytes]:
    """An HTTP/2 server (h2) that answers the call with ``headers`` alone, ending it: a
    trailers-only response, as gRPC servers send for an error before any message."""

    def answer(received: bytes) -> bytes:
        conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=False))
        conn.initiate_connection()
        for event in conn.receive_data(received):
            if isinstance(event, h2.events.RequestReceived):
                conn.send_headers(event.stream_id, list(headers), end_stream=True)
        return conn.data_to_send()

    return answer


def _trailers_only(status: int, message: str) -> Callable[[bytes], bytes]:
    return _h2_answer(
        (":status", "200"),
        ("content-type", "application/grpc"),
        ("grpc-status", str(status)),
        ("grpc-message", message),
    )


async def test_a_trailers_only_error_names_the_status_and_message(
    registry: ExecutorRegistry,
) -> None:
    async with raw_peer(_trailers_only(7, "no%20health%20for%20you")) as port:
        result = await probe(registry, "grpc", {"host": "127.0.0.1", "port": port})
    assert result.outcome is Outcome.FAIL
    assert result.message == (
        f"grpc 127.0.0.1:{port}: health check answered PERMISSION_DENIED: no health for you"
    )


async def test_a_trailers_only_unavailable_is_an_error(registry: ExecutorRegistry) -> None:
    async with raw_peer(_trailers_only(14, "draining")) as port:
        result = await probe(registry, "grpc", {"host": "127.0.0.1", "port": port})
    assert result.outcome is Outcome.ERROR
    assert result.message == f"grpc 127.0.0.1:{port}: draining"


async def test_a_proxys_http_503_reads_as_unavailable(registry: ExecutorRegistry) -> None:
    async with raw_peer(_h2_answer((":status", "503"), ("content-type", "text/plain"))) as port:
        result = await probe(registry, "grpc", {"host": "127.0.0.1", "port": port})
    assert result.outcome is Outcome.ERROR
    assert result.message == f"grpc 127.0.0.1:{port}: HTTP status 503"


async def test_an_http1_server_is_named_as_such_at_once(registry: ExecutorRegistry) -> None:
    reply = b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"
    async with raw_peer(lambda _: reply) as port:
        result = await probe(registry, "grpc", {"host": "127.0.0.1", "port": port})
    assert result.outcome is Outcome.ERROR
    assert result.message == (
        f"grpc 127.0.0.1:{port}: answered in HTTP/1 ('HTTP/1.1 400 Bad Request'), not HTTP/2: "
        "not a gRPC server"
    )
    assert result.duration < 2.0  # not the check's 5 s timeout


async def test_garbage_fails_clearly_and_at_once(registry: ExecutorRegistry) -> None:
    async with raw_peer(
        lambda _: b"SSH-2.0-OpenSSH_9.6 hello there, this is not HTTP/2\r\n"
    ) as port:
        result = await probe(registry, "grpc", {"host": "127.0.0.1", "port": port})
    assert result.outcome is Outcome.ERROR
    assert result.message.startswith(f"grpc 127.0.0.1:{port}: did not answer in HTTP/2 (")
    assert "first bytes b'SSH-2.0-OpenSSH_9.6 hell'" in result.message
    assert result.duration < 2.0
