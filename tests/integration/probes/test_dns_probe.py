"""The dns probe against a real dnslib server on 127.0.0.1 (UDP and TCP)."""

from __future__ import annotations

import time
from typing import Any

import pytest
from pydantic import ValidationError
from tests.servers.checks import make_check
from tests.servers.dns_server import DnsTestServer, free_udp_port

from nyxmon.checktypes.dns import DnsSpec
from nyxmon.domain.model import Outcome, Result
from nyxmon.probes.registry import ExecutorRegistry

pytestmark = pytest.mark.anyio


async def probe(
    registry: ExecutorRegistry,
    server: DnsTestServer,
    params: dict[str, Any],
    *conditions: str,
    check_timeout: float = 5.0,
) -> Result:
    full = {"server": server.host, "port": server.port, **params}
    check = make_check("dns", full, *conditions, check_id="dns.zone", timeout=check_timeout)
    return await registry.get("dns").execute(check, time.time())


@pytest.mark.parametrize(
    ("record_type", "name", "expected", "answers"),
    [
        pytest.param("A", "example.test", ["192.0.2.10"], ["192.0.2.10", "192.0.2.11"], id="A"),
        pytest.param("AAAA", "example.test", ["2001:db8::10"], ["2001:db8::10"], id="AAAA"),
        pytest.param("CNAME", "www.example.test", ["example.test."], ["example.test."], id="CNAME"),
        pytest.param(
            "MX",
            "example.test",
            ["10 mail.example.test."],
            ["10 mail.example.test.", "20 backup.example.test."],
            id="MX",
        ),
        pytest.param(
            "TXT", "example.test", ["v=spf1 -all"], ["v=spf1 -all", "hello world"], id="TXT"
        ),
        pytest.param(
            "NS",
            "example.test",
            ["ns1.example.test"],
            ["ns1.example.test.", "ns2.example.test."],
            id="NS",
        ),
        pytest.param(
            "SOA",
            "example.test",
            ["ns1.example.test"],
            ["ns1.example.test. admin.example.test. 2024010101 3600 600 86400 300"],
            id="SOA",
        ),
        pytest.param(
            "SRV",
            "_http._tcp.example.test",
            ["10 5 8080 web.example.test."],
            ["10 5 8080 web.example.test."],
            id="SRV",
        ),
        pytest.param(
            "CAA", "example.test", ["letsencrypt.org"], ['0 issue "letsencrypt.org"'], id="CAA"
        ),
        pytest.param("PTR", "192.0.2.10", ["example.test"], ["example.test."], id="PTR-by-ip"),
        pytest.param(
            "PTR", "10.2.0.192.in-addr.arpa", ["example.test."], ["example.test."], id="PTR"
        ),
    ],
)
async def test_every_record_type_is_queried_and_matched(
    registry: ExecutorRegistry,
    dns_server: DnsTestServer,
    record_type: str,
    name: str,
    expected: list[str],
    answers: list[str],
) -> None:
    params = {"query_name": name, "record_type": record_type, "expected": expected}
    result = await probe(registry, dns_server, params)
    assert result.outcome is Outcome.OK, result.message
    assert sorted(result.details["answers"]) == sorted(answers)
    assert result.details["rcode"] == "NOERROR"
    noun = "record" if len(answers) == 1 else "records"
    assert result.message.startswith(f"NOERROR: {len(answers)} {record_type} {noun} in ")
    assert {"query", "total"} <= set(result.timings)


async def test_a_answers_are_the_ips_and_conditions_see_them(
    registry: ExecutorRegistry, dns_server: DnsTestServer
) -> None:
    result = await probe(
        registry,
        dns_server,
        {"query_name": "example.test"},
        "[DNS_RCODE] == NOERROR",
        "[IP] == 192.0.2.10",
        "len([IPS]) == 2",
        "[ANSWERS] == pat(*192.0.2.11*)",
        "[RESPONSE_TIME] < 5000",
    )
    assert result.outcome is Outcome.OK, result.message
    assert result.details["ips"] == ["192.0.2.10", "192.0.2.11"]


async def test_cname_chain_answers_only_the_asked_type(
    registry: ExecutorRegistry, dns_server: DnsTestServer
) -> None:
    result = await probe(registry, dns_server, {"query_name": "www.example.test"})
    assert result.outcome is Outcome.OK
    assert result.details["answers"] == ["192.0.2.10", "192.0.2.11"]
    mx = await probe(registry, dns_server, {"query_name": "www.example.test", "record_type": "MX"})
    assert mx.details["answers"] == ["10 mail.example.test.", "20 backup.example.test."]


@pytest.mark.parametrize(
    ("match", "expected", "outcome", "message"),
    [
        pytest.param("any_of", ["192.0.2.99", "192.0.2.11"], Outcome.OK, "", id="any-of"),
        pytest.param(
            "any_of",
            ["192.0.2.99"],
            Outcome.FAIL,
            "answers (192.0.2.10, 192.0.2.11) contain none of 192.0.2.99",
            id="any-of-miss",
        ),
        pytest.param("all_of", ["192.0.2.10", "192.0.2.11"], Outcome.OK, "", id="all-of"),
        pytest.param(
            "all_of",
            ["192.0.2.10", "192.0.2.99"],
            Outcome.FAIL,
            "answers (192.0.2.10, 192.0.2.11) lack 192.0.2.99",
            id="all-of-miss",
        ),
        pytest.param("exactly", ["192.0.2.11", "192.0.2.10"], Outcome.OK, "", id="exactly"),
        pytest.param(
            "exactly",
            ["192.0.2.10"],
            Outcome.FAIL,
            "answers include unexpected 192.0.2.11",
            id="exactly-extra",
        ),
    ],
)
async def test_match_modes(
    registry: ExecutorRegistry,
    dns_server: DnsTestServer,
    match: str,
    expected: list[str],
    outcome: Outcome,
    message: str,
) -> None:
    params = {"query_name": "example.test", "expected": expected, "match": match}
    result = await probe(registry, dns_server, params)
    assert result.outcome is outcome, result.message
    if message:
        assert result.message == message


async def test_values_compare_loosely_where_dns_is_loose(
    registry: ExecutorRegistry, dns_server: DnsTestServer
) -> None:
    ipv6 = await probe(
        registry,
        dns_server,
        {"query_name": "example.test", "record_type": "AAAA", "expected": ["2001:0DB8:0::0010"]},
    )
    assert ipv6.outcome is Outcome.OK, ipv6.message
    mx = await probe(
        registry,
        dns_server,
        {
            "query_name": "EXAMPLE.test",
            "record_type": "mx",
            "expected": ["Mail.Example.Test", "backup.example.test."],
            "match": "exactly",
        },
    )
    assert mx.outcome is Outcome.OK, mx.message


async def test_txt_values_compare_exactly(
    registry: ExecutorRegistry, dns_server: DnsTestServer
) -> None:
    params = {"query_name": "example.test", "record_type": "TXT", "expected": ["HELLO WORLD"]}
    result = await probe(registry, dns_server, params)
    assert result.outcome is Outcome.FAIL


async def test_tcp_mode_queries_over_tcp(
    registry: ExecutorRegistry, dns_server: DnsTestServer
) -> None:
    params = {"query_name": "example.test", "protocol": "tcp", "expected": ["192.0.2.10"]}
    result = await probe(registry, dns_server, params)
    assert result.outcome is Outcome.OK, result.message
    assert result.details["protocol"] == "tcp"
    assert dns_server.queries[("example.test.", "A", "tcp")] == 1
    assert dns_server.queries[("example.test.", "A", "udp")] == 0


async def test_truncated_udp_answer_is_retried_over_tcp(
    registry: ExecutorRegistry, dns_server: DnsTestServer
) -> None:
    params = {"query_name": "big.example.test", "record_type": "TXT"}
    result = await probe(registry, dns_server, params, "len([ANSWERS]) == 20")
    assert result.outcome is Outcome.OK, result.message
    assert result.details["tcp_fallback"] is True
    assert dns_server.queries[("big.example.test.", "TXT", "tcp")] == 1


async def test_unknown_name_fails_with_nxdomain_unless_expected(
    registry: ExecutorRegistry, dns_server: DnsTestServer
) -> None:
    result = await probe(registry, dns_server, {"query_name": "nope.example.test"})
    assert result.outcome is Outcome.FAIL
    assert result.message == "rcode NXDOMAIN, expected NOERROR"
    expected = await probe(
        registry,
        dns_server,
        {"query_name": "nope.example.test", "expected_rcode": "nxdomain"},
        "[DNS_RCODE] == NXDOMAIN",
    )
    assert expected.outcome is Outcome.OK, expected.message


async def test_servfail_is_a_failure(registry: ExecutorRegistry, dns_server: DnsTestServer) -> None:
    result = await probe(registry, dns_server, {"query_name": "servfail.example.test"})
    assert result.outcome is Outcome.FAIL
    assert result.message == "rcode SERVFAIL, expected NOERROR"
    dns_server.servfail = True
    everything = await probe(registry, dns_server, {"query_name": "example.test"})
    assert everything.details["rcode"] == "SERVFAIL"


async def test_empty_answer_fails_unless_allowed(
    registry: ExecutorRegistry, dns_server: DnsTestServer
) -> None:
    params = {"query_name": "mail.example.test", "record_type": "MX"}
    result = await probe(registry, dns_server, params)
    assert result.outcome is Outcome.FAIL
    assert result.message == "no MX records for mail.example.test"
    allowed = await probe(registry, dns_server, {**params, "allow_empty_answer": True})
    assert allowed.outcome is Outcome.OK


async def test_failed_condition_fails_the_run(
    registry: ExecutorRegistry, dns_server: DnsTestServer
) -> None:
    result = await probe(registry, dns_server, {"query_name": "example.test"}, "[IP] == 10.0.0.1")
    assert result.outcome is Outcome.FAIL
    assert result.details["failed_conditions"] == ["[IP] (192.0.2.10) == 10.0.0.1"]


async def test_slow_server_past_the_timeout_is_a_timeout(
    registry: ExecutorRegistry, dns_server: DnsTestServer
) -> None:
    result = await probe(
        registry, dns_server, {"query_name": "slow.example.test"}, check_timeout=0.3
    )
    assert result.outcome is Outcome.TIMEOUT
    assert result.message == (f"no DNS answer from 127.0.0.1:{dns_server.port} within 0.3 s")


async def test_nothing_listening_on_udp_is_an_error_or_a_timeout(
    registry: ExecutorRegistry,
) -> None:
    params = {"query_name": "example.test", "server": "127.0.0.1", "port": free_udp_port()}
    check = make_check("dns", params, timeout=1.0)
    result = await registry.get("dns").execute(check, time.time())
    assert result.outcome in (Outcome.ERROR, Outcome.TIMEOUT)
    if result.outcome is Outcome.ERROR:
        assert "unreachable" in result.message


async def test_nothing_listening_on_tcp_is_a_refused_error(registry: ExecutorRegistry) -> None:
    port = free_udp_port()
    params = {"query_name": "example.test", "server": "127.0.0.1", "port": port, "protocol": "tcp"}
    check = make_check("dns", params, timeout=2.0)
    result = await registry.get("dns").execute(check, time.time())
    assert result.outcome is Outcome.ERROR
    assert result.message == f"DNS server 127.0.0.1:{port} unreachable: Connection refused"


async def test_queries_can_be_sent_from_a_chosen_source_address(
    registry: ExecutorRegistry, dns_server: DnsTestServer
) -> None:
    params = {"query_name": "example.test", "source_address": "127.0.0.1"}
    result = await probe(registry, dns_server, params)
    assert result.outcome is Outcome.OK, result.message
    bad = await probe(registry, dns_server, {**params, "source_address": "192.0.2.200"})
    assert bad.outcome is Outcome.ERROR


@pytest.mark.parametrize(
    ("params", "message"),
    [
        pytest.param({"record_type": "HINFO"}, "record_type", id="type"),
        pytest.param(
            {"server": "dns ex/ample"}, "is not an IP address or a host name", id="server"
        ),
        pytest.param({"expected_rcode": "FINE"}, "'FINE' is not a DNS rcode", id="rcode"),
        pytest.param({"expected": ["not-an-ip"]}, "expected value 'not-an-ip'", id="expected"),
        pytest.param({"match": "some"}, "match", id="match"),
        pytest.param({"port": 0}, "port", id="port"),
        pytest.param({"query_name": "a..b"}, "is not a DNS name", id="name"),
        pytest.param({"name": "example.test"}, "Extra inputs are not permitted", id="extra"),
    ],
)
def test_invalid_dns_params_are_refused(params: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        DnsSpec.model_validate({"query_name": "example.test", **params})


def test_dns_spec_round_trips_through_plain_data() -> None:
    spec = DnsSpec.model_validate(
        {"query_name": "example.test", "record_type": "aaaa", "protocol": "TCP", "server": "::1"}
    )
    assert spec.record_type == "AAAA"
    assert spec.protocol == "tcp"
    assert DnsSpec.model_validate(spec.model_dump()) == spec
