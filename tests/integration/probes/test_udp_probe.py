"""The udp probe against a real UDP peer on 127.0.0.1: replies, patterns, silence, unreachable."""

from __future__ import annotations

import socket
import time
from typing import Any

import pytest
from pydantic import ValidationError
from tests.servers.checks import make_check
from tests.servers.udp_responder import UdpResponder

from nyxmon.checktypes.udp import UdpSpec
from nyxmon.domain.model import Outcome, Result
from nyxmon.probes.registry import ExecutorRegistry

pytestmark = pytest.mark.anyio


async def probe(
    registry: ExecutorRegistry, params: dict[str, Any], *conditions: str, check_timeout: float = 5
) -> Result:
    check = make_check("udp", params, *conditions, check_id="net.udp", timeout=check_timeout)
    return await registry.get("udp").execute(check, time.time())


def unused_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_a_reply_matching_the_pattern_passes(registry: ExecutorRegistry) -> None:
    async with UdpResponder(reply=b"PONG 7") as peer:
        base = {"host": "127.0.0.1", "port": peer.port, "payload": "PING"}
        good = await probe(registry, {**base, "expect_regex": r"^PONG \d$"}, "[BODY] == PONG 7")
        bad = await probe(registry, {**base, "expect_regex": "^HELLO"})
    assert peer.received == [b"PING", b"PING"]
    assert good.outcome is Outcome.OK, good.message
    assert good.details["size"] == 6
    assert "reply" in good.timings
    assert bad.outcome is Outcome.FAIL
    assert "'PONG 7' does not match '^HELLO'" in bad.message


async def test_a_hex_payload_is_sent_as_bytes(registry: ExecutorRegistry) -> None:
    async with UdpResponder() as peer:
        result = await probe(
            registry,
            {
                "host": "127.0.0.1",
                "port": peer.port,
                "payload": "00ff10",
                "payload_encoding": "hex",
            },
        )
    assert result.outcome is Outcome.OK, result.message
    assert peer.received == [b"\x00\xff\x10"]


async def test_silence_passes_when_expected_and_a_reply_then_fails(
    registry: ExecutorRegistry,
) -> None:
    params = {"payload": "x", "expect_silence": True, "silence_wait": "200ms"}
    async with UdpResponder(silent=True) as quiet:
        silent = await probe(registry, {"host": "127.0.0.1", "port": quiet.port, **params})
    async with UdpResponder(reply=b"hi") as chatty:
        replied = await probe(registry, {"host": "127.0.0.1", "port": chatty.port, **params})
    assert silent.outcome is Outcome.OK, silent.message
    assert replied.outcome is Outcome.FAIL
    assert "replied 'hi', silence expected" in replied.message


async def test_a_closed_port_is_unreachable_and_a_silent_peer_times_out(
    registry: ExecutorRegistry,
) -> None:
    port = unused_udp_port()
    closed = await probe(registry, {"host": "127.0.0.1", "port": port, "payload": "x"})
    closed_silence = await probe(
        registry, {"host": "127.0.0.1", "port": port, "payload": "x", "expect_silence": True}
    )
    async with UdpResponder(silent=True) as quiet:
        timed_out = await probe(
            registry, {"host": "127.0.0.1", "port": quiet.port, "payload": "x"}, check_timeout=0.3
        )
    assert closed.outcome is Outcome.ERROR
    assert closed.message == f"127.0.0.1:{port} unreachable: Connection refused"
    assert closed_silence.outcome is Outcome.ERROR
    assert timed_out.outcome is Outcome.TIMEOUT
    assert f"no reply from 127.0.0.1:{quiet.port}" in timed_out.message


@pytest.mark.parametrize(
    ("params", "message"),
    [
        pytest.param({"payload": "zz", "payload_encoding": "hex"}, "not hex digits", id="hex"),
        pytest.param({"expect_silence": True, "expect_regex": "x"}, "exclude", id="both"),
        pytest.param({"silence_wait": "0s"}, "silence_wait", id="wait"),
    ],
)
def test_bad_udp_params_are_refused(params: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        UdpSpec.model_validate({"host": "127.0.0.1", "port": 9, **params})
