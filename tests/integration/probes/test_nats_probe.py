"""The nats probe against the local NATS server (anonymous) and, for logins, a private one."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Iterator

import nats
import pytest
from nats.aio.msg import Msg
from tests.integration.probes.endpoints import probe, shows_no_secret
from tests.servers.brokers import private_nats
from tests.servers.sockets import closed_port

from nyxmon.domain.model import Outcome
from nyxmon.probes.registry import ExecutorRegistry

pytestmark = pytest.mark.anyio

LOCAL = {"host": "127.0.0.1"}
USER, SECRET = "nyx", "Nt-s3cret-pass"


@pytest.fixture(scope="module")
def password_server() -> Iterator[int]:
    with private_nats(USER, SECRET) as port:
        yield port


@pytest.fixture
async def echo() -> AsyncIterator[str]:
    """A service on the local server answering requests with ``{"echo": <payload>}``."""
    subject = f"nyx.echo.{secrets.token_hex(4)}"
    client = await nats.connect("nats://127.0.0.1:4222")

    async def answer(message: Msg) -> None:
        await message.respond(b'{"echo": "' + message.data + b'"}')

    await client.subscribe(subject, cb=answer)
    await client.flush()
    try:
        yield subject
    finally:
        await client.close()


async def test_connect_and_ping_pass_with_timings(registry: ExecutorRegistry) -> None:
    result = await probe(registry, "nats", LOCAL)
    assert result.outcome is Outcome.OK, result.message
    assert result.message.startswith("nats 127.0.0.1:4222 answered in ")
    assert {"connect", "query", "total"} <= set(result.timings)


async def test_a_replys_value_feeds_the_conditions(registry: ExecutorRegistry, echo: str) -> None:
    params = {**LOCAL, "subject": echo, "payload": "ping"}
    passing = await probe(registry, "nats", params, "[VALUE].echo == ping")
    assert passing.outcome is Outcome.OK, passing.message
    failing = await probe(registry, "nats", params, "[VALUE].echo == pong")
    assert failing.outcome is Outcome.FAIL
    assert failing.message == "[VALUE].echo (ping) == pong"


async def test_a_subject_nobody_serves_fails(registry: ExecutorRegistry) -> None:
    subject = f"nyx.nobody.{secrets.token_hex(4)}"
    result = await probe(registry, "nats", {**LOCAL, "subject": subject})
    assert result.outcome is Outcome.FAIL
    assert result.message == f"nats 127.0.0.1:4222: no service answers on {subject!r}"


async def test_a_closed_port_is_refused(registry: ExecutorRegistry) -> None:
    port = closed_port()
    result = await probe(registry, "nats", {**LOCAL, "port": port})
    assert result.outcome is Outcome.ERROR
    assert result.message == f"nats 127.0.0.1:{port}: Connection refused"


async def test_a_silent_server_times_out_naming_the_phase(
    registry: ExecutorRegistry, silent_port: int
) -> None:
    result = await probe(registry, "nats", {**LOCAL, "port": silent_port}, check_timeout=0.5)
    assert result.outcome is Outcome.TIMEOUT
    assert (
        result.message == f"no answer from nats 127.0.0.1:{silent_port} within 0.5 s (connecting)"
    )


async def test_the_right_password_logs_in(registry: ExecutorRegistry, password_server: int) -> None:
    params = {"host": "127.0.0.1", "port": password_server, "username": USER, "password": SECRET}
    result = await probe(registry, "nats", params)
    assert result.outcome is Outcome.OK, result.message
    assert shows_no_secret(result, SECRET)


async def test_a_wrong_password_fails_without_showing_it(
    registry: ExecutorRegistry, password_server: int
) -> None:
    wrong = SECRET + "-wrong"
    params = {"host": "127.0.0.1", "port": password_server, "username": USER, "password": wrong}
    result = await probe(registry, "nats", params)
    assert result.outcome is Outcome.FAIL
    assert result.message == (
        f"nats 127.0.0.1:{password_server}: login refused: authorization violation"
    )
    assert shows_no_secret(result, wrong)
