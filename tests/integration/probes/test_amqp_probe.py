"""The amqp probe against the local RabbitMQ (guest/guest)."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator

import aiormq
import pytest
from tests.integration.probes.endpoints import probe, shows_no_secret
from tests.servers.sockets import closed_port

from nyxmon.domain.model import Outcome
from nyxmon.probes.registry import ExecutorRegistry

pytestmark = pytest.mark.anyio

LOCAL = {"host": "127.0.0.1", "username": "guest", "password": "guest"}


@pytest.fixture
async def queue() -> AsyncIterator[str]:
    """A queue holding two messages, deleted afterwards."""
    name = f"nyx-{secrets.token_hex(4)}"
    connection = await aiormq.connect("amqp://guest:guest@127.0.0.1:5672/")
    channel = await connection.channel()
    await channel.queue_declare(name, auto_delete=False)
    for body in (b"one", b"two"):
        await channel.basic_publish(body, routing_key=name)
    try:
        yield name
    finally:
        await channel.queue_delete(name)
        await connection.close()


async def test_login_and_channel_pass_with_timings(registry: ExecutorRegistry) -> None:
    result = await probe(registry, "amqp", LOCAL)
    assert result.outcome is Outcome.OK, result.message
    assert result.message.startswith("amqp 127.0.0.1:5672 answered in ")
    assert {"connect", "query", "total"} <= set(result.timings)


async def test_a_queues_depth_feeds_the_conditions(registry: ExecutorRegistry, queue: str) -> None:
    passing = await probe(registry, "amqp", {**LOCAL, "queue": queue}, "[VALUE] == 2")
    assert passing.outcome is Outcome.OK, passing.message
    failing = await probe(registry, "amqp", {**LOCAL, "queue": queue}, "[VALUE] < 1")
    assert failing.outcome is Outcome.FAIL
    assert failing.message == "[VALUE] (2) < 1"


async def test_a_missing_queue_fails_and_is_not_created(registry: ExecutorRegistry) -> None:
    name = f"nyx-missing-{secrets.token_hex(4)}"
    for _ in range(2):  # the second run proves the first did not create it
        result = await probe(registry, "amqp", {**LOCAL, "queue": name})
        assert result.outcome is Outcome.FAIL
        assert result.message == f"amqp 127.0.0.1:5672: no queue {name!r}"


async def test_an_unknown_vhost_is_a_refused_login(registry: ExecutorRegistry) -> None:
    result = await probe(registry, "amqp", {**LOCAL, "vhost": "no-such-vhost"})
    assert result.outcome is Outcome.FAIL
    assert "login refused" in result.message
    assert "'no-such-vhost'" in result.message


async def test_a_closed_port_is_refused(registry: ExecutorRegistry) -> None:
    port = closed_port()
    result = await probe(registry, "amqp", {**LOCAL, "port": port})
    assert result.outcome is Outcome.ERROR
    assert result.message == f"amqp 127.0.0.1:{port}: Connection refused"


async def test_a_silent_server_times_out_naming_the_phase(
    registry: ExecutorRegistry, silent_port: int
) -> None:
    result = await probe(registry, "amqp", {**LOCAL, "port": silent_port}, check_timeout=0.5)
    assert result.outcome is Outcome.TIMEOUT
    assert (
        result.message == f"no answer from amqp 127.0.0.1:{silent_port} within 0.5 s (connecting)"
    )


async def test_a_wrong_password_fails_without_showing_it(registry: ExecutorRegistry) -> None:
    wrong = "Amqp-wrong-s3cret"
    result = await probe(registry, "amqp", {**LOCAL, "password": wrong})
    assert result.outcome is Outcome.FAIL
    assert result.message.startswith("amqp 127.0.0.1:5672: login refused: ACCESS_REFUSED")
    assert shows_no_secret(result, wrong)
