"""The dns probe with several servers (failover in order, or all at once) and servers given by
name, against real dnslib servers on 127.0.0.1."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import ValidationError
from tests.servers.checks import make_check
from tests.servers.dns_server import DnsTestServer, free_udp_port

from nyxmon.checktypes.dns import DnsSpec
from nyxmon.domain.model import Outcome, Result
from nyxmon.probes.registry import ExecutorRegistry

pytestmark = pytest.mark.anyio

QUERY = {"query_name": "example.test", "record_type": "A", "expected": ["192.0.2.10"]}


@pytest.fixture
def second_dns() -> Iterator[DnsTestServer]:
    with DnsTestServer() as server:
        yield server


async def probe(
    registry: ExecutorRegistry, params: dict[str, Any], check_timeout: float = 5.0
) -> Result:
    check = make_check("dns", {**QUERY, **params}, check_id="dns.many", timeout=check_timeout)
    return await registry.get("dns").execute(check, time.time())


async def test_failover_skips_an_unreachable_server_and_the_next_answer_decides(
    registry: ExecutorRegistry, dns_server: DnsTestServer
) -> None:
    dead = f"127.0.0.1:{free_udp_port()}"
    alive = f"127.0.0.1:{dns_server.port}"
    result = await probe(registry, {"servers": [dead, alive], "protocol": "tcp"})
    assert result.outcome is Outcome.OK, result.message
    assert result.details["server"] == alive
    assert result.details["failed_servers"] == [
        f"DNS server {dead} unreachable: Connection refused"
    ]


async def test_failover_with_no_server_answering_is_an_error_naming_each(
    registry: ExecutorRegistry,
) -> None:
    first, second = free_udp_port(), free_udp_port()
    result = await probe(
        registry,
        {"servers": [f"127.0.0.1:{first}", f"127.0.0.1:{second}"], "protocol": "tcp"},
    )
    assert result.outcome is Outcome.ERROR
    assert result.message.startswith("no DNS server answered: ")
    assert f"127.0.0.1:{first} unreachable" in result.message
    assert f"127.0.0.1:{second} unreachable" in result.message


async def test_a_server_given_by_name_is_resolved_and_named_with_its_address(
    registry: ExecutorRegistry, dns_server: DnsTestServer
) -> None:
    result = await probe(registry, {"server": "localhost", "port": dns_server.port})
    assert result.outcome is Outcome.OK, result.message
    assert result.details["server"] == f"localhost (127.0.0.1):{dns_server.port}"
    unknown = await probe(registry, {"server": "no-such-server.invalid", "port": dns_server.port})
    assert unknown.outcome is Outcome.ERROR
    assert unknown.message == "cannot resolve DNS server no-such-server.invalid"


async def test_all_mode_asks_every_server_and_each_must_pass(
    registry: ExecutorRegistry, dns_server: DnsTestServer, second_dns: DnsTestServer
) -> None:
    servers = [f"127.0.0.1:{dns_server.port}", f"localhost:{second_dns.port}"]
    agreeing = await probe(registry, {"servers": servers, "servers_mode": "all"})
    second_dns.servfail = True
    split = await probe(registry, {"servers": servers, "servers_mode": "all"})
    failover = await probe(registry, {"servers": servers})
    assert agreeing.outcome is Outcome.OK, agreeing.message
    assert agreeing.message.startswith("all 2 servers agree: NOERROR")
    assert split.outcome is Outcome.FAIL
    assert split.message == (
        f"localhost (127.0.0.1):{second_dns.port}: rcode SERVFAIL, expected NOERROR"
    )
    assert failover.outcome is Outcome.OK  # the first server answered, and decides


@pytest.mark.parametrize(
    ("params", "message"),
    [
        pytest.param({"server": "127.0.0.1", "servers": ["127.0.0.2"]}, "exclude", id="both"),
        pytest.param({"servers": ["127.0.0.1:99999"]}, "not between 1 and 65535", id="port"),
        pytest.param({"servers": ["ns1.example:dns"]}, "is not a number", id="port-word"),
        pytest.param({"servers_mode": "some"}, "servers_mode", id="mode"),
    ],
)
def test_bad_server_lists_are_refused(params: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        DnsSpec.model_validate({**QUERY, **params})
