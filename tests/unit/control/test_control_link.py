"""The control link's hot path: a ping crosses as a positional list and comes back the same
ping, a malformed one names what is wrong, a ping's answer frame decodes like any other, and a
request nobody answers fails with TimeoutError (swept, not timed one by one) against a real
Unix socket peer."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from nyxmon.control.client import SWEEP_EVERY, ControlClient
from nyxmon.control.wire import (
    ProtocolError,
    answer_frame,
    decode_frame,
    encode_frame,
    error_from_wire,
    error_to_wire,
    ping_from_wire,
    ping_to_wire,
)
from nyxmon.domain.push import Ping, PingKind
from nyxmon.errors import PingHeldElsewhereError, PingKeyNotFoundError


@pytest.mark.parametrize(
    "ping",
    [
        pytest.param(Ping("k", PingKind.SUCCESS, 1_765_000_000.123), id="bare"),
        pytest.param(
            Ping(
                "backup-key_0123456789",
                PingKind.FAIL,
                1_765_000_001.5,
                exit_status=3,
                body=b"\x00\xff dumped 42 tables\n",
                rid="run-7",
                remote_addr="2001:db8::7",
                user_agent="cron/1.0",
                method="POST",
            ),
            id="everything",
        ),
        pytest.param(Ping("k", PingKind.START, 1.0, rid="r", method="HEAD"), id="start"),
    ],
)
def test_a_ping_crosses_the_wire_unchanged(ping: Ping) -> None:
    line = encode_frame({"op": "ping", "id": 7, "ping": ping_to_wire(ping)})
    assert ping_from_wire(decode_frame(line)["ping"]) == ping


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(None, id="missing"),
        pytest.param({"key": "k"}, id="an-object"),
        pytest.param(["k", "success"], id="too-short"),
        pytest.param(["k", "sideways", 1.0, "", "", "GET", None, None, ""], id="kind"),
        pytest.param(["k", "success", 1.0, "", "", "GET", None, None, "not base64!"], id="body"),
    ],
)
def test_a_malformed_ping_is_a_protocol_error(data: object) -> None:
    with pytest.raises(ProtocolError, match="a ping on the wire is malformed"):
        ping_from_wire(data)


@pytest.mark.parametrize(
    ("request_id", "value"),
    [
        pytest.param(12, "jobs.backup", id="a-ping's"),
        pytest.param(12, 'quo"te\\ und ü', id="escaped"),
        pytest.param("x", "jobs.backup", id="other-id"),
        pytest.param(3, {"a": [1, 2]}, id="other-value"),
        pytest.param(4, None, id="none"),
    ],
)
def test_an_answer_frame_decodes_to_its_id_and_value(request_id: object, value: object) -> None:
    line = answer_frame(request_id, value)
    assert line.endswith(b"\n")
    assert line.count(b"\n") == 1
    assert decode_frame(line) == {"id": request_id, "value": value}


def test_a_request_nobody_answers_times_out_and_an_answered_one_does_not(tmp_path: Path) -> None:
    path = tmp_path / "peer.sock"

    async def peer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Answers ``echo`` requests, ignores everything else."""
        try:
            while line := await reader.readline():
                frame = decode_frame(line)
                if frame.get("op") == "echo":
                    writer.write(answer_frame(frame["id"], frame["text"]))
        finally:
            writer.close()

    async def main() -> tuple[float, str]:
        server = await asyncio.start_unix_server(peer, path=str(path))
        client = ControlClient(path, on_statuses=lambda s, f: None, on_health=lambda h: None)
        await client.connect(timeout=5)
        client.start()
        try:
            started = time.monotonic()
            with pytest.raises(TimeoutError):
                await client.request("silence", timeout=0.2)
            waited = time.monotonic() - started
            echoed = await client.request("echo", timeout=5, text="hello")
            return waited, echoed
        finally:
            await client.aclose()
            server.close()
            await server.wait_closed()

    waited, echoed = asyncio.run(main())
    assert 0.2 <= waited < 5, waited  # failed by the sweep, at most a sweep or so late
    assert echoed == "hello"
    assert SWEEP_EVERY < 0.2


@pytest.mark.parametrize("error", [PingKeyNotFoundError(), PingHeldElsewhereError()])
def test_a_pings_refusal_crosses_the_wire_as_its_own_kind(error: Exception) -> None:
    # the web plane answers 404 for the one and 503 with Retry-After for the other
    back = error_from_wire(error_to_wire(error))
    assert type(back) is type(error)
    assert str(back) == str(error)
