"""The mqtt probe against the local Mosquitto (anonymous) and, for logins, a private one."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest
from tests.integration.probes.endpoints import probe, shows_no_secret
from tests.servers.brokers import private_mosquitto
from tests.servers.sockets import closed_port

from nyxmon.domain.model import Outcome
from nyxmon.probes.registry import ExecutorRegistry

pytestmark = pytest.mark.anyio

LOCAL = {"host": "127.0.0.1"}
USER, SECRET = "nyx", "Mq-s3cret-pass"


@pytest.fixture(scope="module")
def password_broker() -> Iterator[int]:
    with private_mosquitto(USER, SECRET) as port:
        yield port


async def test_connect_passes_with_timings(registry: ExecutorRegistry) -> None:
    result = await probe(registry, "mqtt", LOCAL)
    assert result.outcome is Outcome.OK, result.message
    assert result.message.startswith("mqtt 127.0.0.1:1883 answered in ")
    assert "connect" in result.timings


async def test_a_round_trip_on_a_topic_feeds_the_conditions(registry: ExecutorRegistry) -> None:
    topic = f"nyxmon/test/{secrets.token_hex(4)}"
    params = {**LOCAL, "topic": topic, "payload": "ping 1"}
    passing = await probe(registry, "mqtt", params, "[VALUE] == pat(ping*)")
    assert passing.outcome is Outcome.OK, passing.message
    assert passing.details["value"] == "ping 1"
    assert "query" in passing.timings
    failing = await probe(registry, "mqtt", params, "[VALUE] == pong")
    assert failing.outcome is Outcome.FAIL
    assert failing.message == "[VALUE] (ping 1) == pong"


async def test_a_closed_port_is_refused(registry: ExecutorRegistry) -> None:
    port = closed_port()
    result = await probe(registry, "mqtt", {**LOCAL, "port": port})
    assert result.outcome is Outcome.ERROR
    assert result.message == f"mqtt 127.0.0.1:{port}: Connection refused"


async def test_a_silent_server_times_out_naming_the_phase(
    registry: ExecutorRegistry, silent_port: int
) -> None:
    result = await probe(registry, "mqtt", {**LOCAL, "port": silent_port}, check_timeout=0.5)
    assert result.outcome is Outcome.TIMEOUT
    assert (
        result.message == f"no answer from mqtt 127.0.0.1:{silent_port} within 0.5 s (connecting)"
    )


async def test_the_right_password_logs_in(registry: ExecutorRegistry, password_broker: int) -> None:
    params = {"host": "127.0.0.1", "port": password_broker, "username": USER, "password": SECRET}
    result = await probe(registry, "mqtt", {**params, "topic": "t/1", "payload": SECRET})
    assert result.outcome is Outcome.OK, result.message
    assert result.details["value"] == "***"
    assert shows_no_secret(result, SECRET)


async def test_a_wrong_password_fails_without_showing_it(
    registry: ExecutorRegistry, password_broker: int
) -> None:
    wrong = SECRET + "-wrong"
    params = {"host": "127.0.0.1", "port": password_broker, "username": USER, "password": wrong}
    result = await probe(registry, "mqtt", params)
    assert result.outcome is Outcome.FAIL
    assert result.message.startswith(f"mqtt 127.0.0.1:{password_broker}: login refused: ")
    assert shows_no_secret(result, wrong)
