"""The tcp probe against real sockets on 127.0.0.1: banners, echo, TLS, STARTTLS, failures."""

from __future__ import annotations

import socket
import time
from typing import Any

import pytest
from pydantic import ValidationError
from tests.servers.checks import make_check
from tests.servers.line_servers import LineServer
from tests.servers.tls import TlsMaterial

from nyxmon.checktypes.tcp import TcpSpec
from nyxmon.domain.model import Outcome, Result
from nyxmon.probes.registry import ExecutorRegistry

pytestmark = pytest.mark.anyio


async def probe(
    registry: ExecutorRegistry, params: dict[str, Any], *conditions: str, check_timeout: float = 5.0
) -> Result:
    check = make_check("tcp", params, *conditions, check_id="net.tcp", timeout=check_timeout)
    return await registry.get("tcp").execute(check, time.time())


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_a_banner_containing_the_expected_text_passes_with_connect_timing(
    registry: ExecutorRegistry,
) -> None:
    async with LineServer("banner") as server:
        result = await probe(
            registry,
            {"host": "127.0.0.1", "port": server.port, "expect": "220 hello"},
            "[CONNECTED] == true",
            "[BODY] == pat(220*)",
        )
    assert result.outcome is Outcome.OK, result.message
    assert {"connect", "read", "total"} <= set(result.timings)
    assert result.details["answer"].startswith("220 hello from the banner server")
    assert result.details["ip"] == "127.0.0.1"


async def test_what_is_sent_is_answered_and_matched_by_a_regex(registry: ExecutorRegistry) -> None:
    async with LineServer("echo") as server:
        params = {"host": "127.0.0.1", "port": server.port, "send": "PING 42\n"}
        good = await probe(registry, {**params, "expect_regex": r"PING \d+"})
        bad = await probe(registry, {**params, "expect": "PONG"}, check_timeout=1.0)
    assert good.outcome is Outcome.OK, good.message
    assert bad.outcome is Outcome.TIMEOUT
    assert "got 'PING 42'" in bad.message


async def test_a_bad_banner_fails_quoting_what_the_server_said(registry: ExecutorRegistry) -> None:
    async with LineServer("banner", banner=b"500 go away, this is no service\r\n") as server:
        result = await probe(
            registry,
            {"host": "127.0.0.1", "port": server.port, "expect_regex": "^220", "read_limit": 12},
        )
    assert result.outcome is Outcome.FAIL
    assert "'500 go away,' does not match '^220'" in result.message


async def test_a_refused_connect_is_an_error_unless_a_condition_expects_it(
    registry: ExecutorRegistry,
) -> None:
    port = closed_port()
    refused = await probe(registry, {"host": "127.0.0.1", "port": port})
    expected = await probe(registry, {"host": "127.0.0.1", "port": port}, "[CONNECTED] == false")
    open_but_should_not = await probe(
        registry, {"host": "127.0.0.1", "port": port}, "[CONNECTED] == true"
    )
    assert refused.outcome is Outcome.ERROR
    assert refused.message == f"cannot connect to 127.0.0.1:{port}: Connection refused"
    assert expected.outcome is Outcome.OK
    assert open_but_should_not.outcome is Outcome.FAIL


async def test_a_silent_server_times_out_saying_where(registry: ExecutorRegistry) -> None:
    async with LineServer("banner", silent=True) as server:
        result = await probe(
            registry,
            {"host": "127.0.0.1", "port": server.port, "read_banner": True},
            check_timeout=0.5,
        )
    assert result.outcome is Outcome.TIMEOUT
    assert "reading the answer" in result.message
    assert "connect" in result.timings


async def test_implicit_tls_verifies_the_certificate_and_reports_its_days_left(
    registry: ExecutorRegistry, tls: TlsMaterial, other_tls: TlsMaterial
) -> None:
    ctx = tls.server_context()
    async with LineServer("banner", tls_context=ctx, implicit_tls=True) as server:
        base = {"host": "127.0.0.1", "port": server.port, "tls": True, "expect": "220"}
        good = await probe(registry, {**base, "ca_file": str(tls.ca_file)})
        untrusted = await probe(registry, {**base, "ca_file": str(other_tls.ca_file)})
        wrong_host = await probe(
            registry, {**base, "ca_file": str(tls.ca_file), "server_name": "wrong.example"}
        )
        unverified = await probe(registry, {**base, "verify_tls": False})
    assert good.outcome is Outcome.OK, good.message
    assert "tls" in good.timings
    assert good.details["cert_days_left"] > 300
    assert untrusted.outcome is Outcome.ERROR
    assert "rejected" in untrusted.message
    assert wrong_host.outcome is Outcome.ERROR
    assert "wrong.example" in wrong_host.message or "mismatch" in wrong_host.message
    assert unverified.outcome is Outcome.OK


@pytest.mark.parametrize("protocol", ["imap", "pop3", "ftp"])
async def test_starttls_upgrades_after_the_protocol_s_own_request(
    registry: ExecutorRegistry, tls: TlsMaterial, protocol: Any
) -> None:
    async with LineServer(protocol, tls_context=tls.server_context()) as server:
        result = await probe(
            registry,
            {
                "host": "127.0.0.1",
                "port": server.port,
                "starttls": protocol,
                "ca_file": str(tls.ca_file),
            },
            "[CERTIFICATE_EXPIRATION] > 48h",
        )
    assert result.outcome is Outcome.OK, result.message
    assert "over TLS" in result.message


async def test_starttls_refused_by_the_server_fails_naming_the_protocol(
    registry: ExecutorRegistry,
) -> None:
    async with LineServer("pop3") as server:  # no TLS: STLS is an unknown command
        result = await probe(
            registry, {"host": "127.0.0.1", "port": server.port, "starttls": "pop3"}
        )
    assert result.outcome is Outcome.FAIL
    assert result.message.endswith("refused STARTTLS (pop3): '-ERR unknown command'")


async def test_postgres_ssl_request_gets_the_local_server_s_answer(
    registry: ExecutorRegistry,
) -> None:
    """PostgreSQL on 5432 answers the SSLRequest with S (TLS) or N (refused); either way the
    probe understood the wire protocol rather than timing out."""
    result = await probe(
        registry, {"host": "127.0.0.1", "port": 5432, "starttls": "postgres", "verify_tls": False}
    )
    assert result.outcome in (Outcome.OK, Outcome.FAIL), result.message
    if result.outcome is Outcome.FAIL:
        assert "refused STARTTLS (postgres): 'N'" in result.message


@pytest.mark.parametrize(
    ("params", "message"),
    [
        pytest.param({"host": "a b", "port": 1}, "is not a host name", id="host"),
        pytest.param({"host": "x.test", "port": 0}, "greater than or equal to 1", id="port"),
        pytest.param(
            {"host": "x.test", "port": 1, "tls": True, "starttls": "smtp"},
            "exclude each other",
            id="two-tls",
        ),
        pytest.param(
            {"host": "x.test", "port": 1, "expect_regex": "("},
            "is not a regular expression",
            id="regex",
        ),
        pytest.param(
            {"host": "x.test", "port": 1, "server_name": "y.test"},
            "server_name has no effect without tls",
            id="sni-without-tls",
        ),
        pytest.param({"host": "x.test", "port": 1, "starttls": "telnet"}, "starttls", id="proto"),
    ],
)
def test_bad_tcp_params_are_refused_naming_the_field(params: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        TcpSpec.model_validate(params)
