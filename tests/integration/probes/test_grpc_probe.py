"""The grpc probe against a grpcio health server started here."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc.aio
import pytest
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from tests.integration.probes.endpoints import probe
from tests.servers.sockets import closed_port

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
