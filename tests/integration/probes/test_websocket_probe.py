"""The websocket probe against the test target's aiohttp WebSocket endpoints."""

from __future__ import annotations

import pytest
from tests.integration.probes.endpoints import probe
from tests.servers.http_target import HttpTarget
from tests.servers.sockets import closed_port

from nyxmon.domain.model import Outcome
from nyxmon.probes.registry import ExecutorRegistry

pytestmark = pytest.mark.anyio


def ws(target: HttpTarget, path: str) -> str:
    return target.url(path).replace("http://", "ws://")


async def test_opening_alone_passes_with_timings(
    registry: ExecutorRegistry, http_target: HttpTarget
) -> None:
    result = await probe(registry, "websocket", {"url": ws(http_target, "/ws/echo")})
    assert result.outcome is Outcome.OK, result.message
    assert "connect" in result.timings
    assert "message" not in result.timings


async def test_a_sent_message_and_its_answer_feed_expect_and_conditions(
    registry: ExecutorRegistry, http_target: HttpTarget
) -> None:
    params = {"url": ws(http_target, "/ws/echo"), "send": "ping", "expect": "echo"}
    passing = await probe(registry, "websocket", params, "[BODY].echo == ping")
    assert passing.outcome is Outcome.OK, passing.message
    failing = await probe(registry, "websocket", params, "[BODY].echo == pong")
    assert failing.outcome is Outcome.FAIL
    assert failing.message == "[BODY].echo (ping) == pong"
    unexpected = await probe(registry, "websocket", {**params, "expect": "pong"})
    assert unexpected.outcome is Outcome.FAIL
    assert unexpected.message == """message '{"echo": "ping"}' does not contain 'pong'"""


async def test_a_greeting_is_awaited_when_only_expected(
    registry: ExecutorRegistry, http_target: HttpTarget
) -> None:
    params = {"url": ws(http_target, "/ws/greet"), "expect": "hello"}
    result = await probe(registry, "websocket", params, "[BODY] == hello")
    assert result.outcome is Outcome.OK, result.message


async def test_headers_are_sent_and_a_refused_upgrade_fails(
    registry: ExecutorRegistry, http_target: HttpTarget
) -> None:
    url = ws(http_target, "/ws/auth")
    refused = await probe(registry, "websocket", {"url": url})
    assert refused.outcome is Outcome.FAIL
    assert refused.message == f"{url}: upgrade refused with status 403 Invalid response status"
    allowed = {"url": url, "headers": {"Authorization": "Bearer letmein"}, "expect": "hello"}
    assert (await probe(registry, "websocket", allowed)).outcome is Outcome.OK


async def test_a_closed_port_is_refused(registry: ExecutorRegistry) -> None:
    port = closed_port()
    result = await probe(registry, "websocket", {"url": f"ws://127.0.0.1:{port}/"})
    assert result.outcome is Outcome.ERROR
    assert result.message == f"cannot connect to ws://127.0.0.1:{port}/: Connection refused"


async def test_a_silent_listener_times_out_while_opening(
    registry: ExecutorRegistry, silent_port: int
) -> None:
    url = f"ws://127.0.0.1:{silent_port}/"
    result = await probe(registry, "websocket", {"url": url}, check_timeout=0.5)
    assert result.outcome is Outcome.TIMEOUT
    assert result.message == f"no answer from {url} within 0.5 s (opening)"


async def test_a_silent_socket_times_out_waiting_for_the_message(
    registry: ExecutorRegistry, http_target: HttpTarget
) -> None:
    url = ws(http_target, "/ws/silent")
    result = await probe(registry, "websocket", {"url": url, "send": "hi"}, check_timeout=0.5)
    assert result.outcome is Outcome.TIMEOUT
    assert result.message == f"no answer from {url} within 0.5 s (waiting for a message)"
