"""What libcurl measures and reads for the http probe: phases, bodies, redirects, timeouts.

Each phase is reported only when it happened (``dns`` for a host name, ``tls`` for HTTPS, none
of the connection phases over a kept connection), and they add up consistently; redirects are
followed hop by hop; libcurl's own timeout and the executor's say the same thing.
"""

from __future__ import annotations

import datetime
import time
from pathlib import Path
from typing import Any

import anyio
import pytest
from tests.servers.checks import make_check
from tests.servers.http_target import HttpTarget, serve_http_target
from tests.servers.tls import TlsMaterial, make_tls_material

from nyxmon.domain.model import Outcome, Result
from nyxmon.probes.http_client import HttpClients
from nyxmon.probes.http_exchange import Exchange, HttpRequest
from nyxmon.probes.http_failures import Failure
from nyxmon.probes.registry import ExecutorRegistry

pytestmark = pytest.mark.anyio


async def probe(
    registry: ExecutorRegistry, params: dict[str, Any], *conditions: str, check_timeout: float = 5.0
) -> Result:
    check = make_check("http", params, *conditions, timeout=check_timeout)
    return await registry.get("http").execute(check, time.time())


def assert_consistent(timings: dict[str, float]) -> None:
    """Phases are non-negative and nest: DNS, connect and TLS come before the first byte."""
    assert all(value >= 0 for value in timings.values()), timings
    before_answer = sum(timings.get(phase, 0.0) for phase in ("dns", "connect", "tls"))
    assert before_answer <= timings["first_byte"] <= timings["total"], timings


@pytest.mark.parametrize(
    ("host", "scheme", "phases"),
    [
        pytest.param("127.0.0.1", "http", {"connect"}, id="http-ip"),
        pytest.param("localhost", "http", {"dns", "connect"}, id="http-name"),
        pytest.param("127.0.0.1", "https", {"connect", "tls"}, id="https-ip"),
        pytest.param("localhost", "https", {"dns", "connect", "tls"}, id="https-name"),
    ],
)
async def test_each_phase_is_reported_only_when_it_happened(
    registry: ExecutorRegistry, tls: TlsMaterial, host: str, scheme: str, phases: set[str]
) -> None:
    context = tls.server_context() if scheme == "https" else None
    async with serve_http_target(ssl_context=context) as target:
        params = {"url": f"{scheme}://{host}:{target.port}/", "ca_file": str(tls.ca_file)}
        if scheme == "http":
            del params["ca_file"]
        result = await probe(registry, params)
    assert result.outcome is Outcome.OK, result.message
    assert set(result.timings) == phases | {"first_byte", "total"}
    assert_consistent(result.timings)


async def test_a_kept_connection_has_no_connection_phases(
    registry: ExecutorRegistry, http_target: HttpTarget
) -> None:
    params = {"url": f"http://localhost:{http_target.port}/", "keep_alive": True}
    first, second = [await probe(registry, params) for _ in range(2)]
    assert {"dns", "connect"} <= set(first.timings)
    assert set(second.timings) == {"first_byte", "total"}
    assert second.details["reused_connection"] is True


async def test_redirect_hops_add_up_and_first_byte_is_the_final_responses(
    registry: ExecutorRegistry, http_target: HttpTarget
) -> None:
    # The redirect's own body takes 0.3 s after its headers; the final answer is immediate.
    # Time to first byte runs from the first request's start, so it includes those 0.3 s
    # (libcurl following by itself would report the hops' first bytes added up: ~0).
    url = http_target.url("/to?path=/health&linger=0.3")
    chained = await probe(registry, {"url": url})
    assert chained.outcome is Outcome.OK, chained.message
    assert chained.details["redirects"] == 1
    assert chained.details["url"] == http_target.url("/health")
    assert_consistent(chained.timings)
    assert chained.timings["first_byte"] >= 0.3
    assert chained.timings["total"] - chained.timings["first_byte"] < 0.3


@pytest.mark.parametrize(
    ("limit", "outcome", "message"),
    [
        pytest.param(3, Outcome.OK, "200 OK", id="under"),
        pytest.param(2, Outcome.OK, "200 OK", id="at-the-limit"),
        pytest.param(1, Outcome.FAIL, "more than 1 redirect", id="over"),
        pytest.param(0, Outcome.FAIL, "more than 0 redirects", id="none-allowed"),
    ],
)
async def test_max_redirects_is_the_number_followed_at_most(
    registry: ExecutorRegistry,
    http_target: HttpTarget,
    limit: int,
    outcome: Outcome,
    message: str,
) -> None:
    result = await probe(registry, {"url": http_target.url("/redirect/2"), "max_redirects": limit})
    assert result.outcome is outcome
    assert result.message.startswith(message)
    if outcome is Outcome.FAIL:
        assert result.details.get("redirects", 0) == limit
        assert http_target.state.hits["/"] == 0, "the hop past the limit was not requested"
        assert "connect" in result.timings


async def test_a_chunked_body_is_read_whole(
    registry: ExecutorRegistry, http_target: HttpTarget
) -> None:
    result = await probe(
        registry,
        {"url": http_target.url("/chunked?size=300000&chunk=4096")},
        "[BODY_SIZE] == 300000",
        "[BODY] == pat(yyy*)",
    )
    assert result.outcome is Outcome.OK, result.message
    assert "truncated" not in result.details


async def test_a_chunked_body_past_the_limit_is_cut_there(
    registry: ExecutorRegistry, http_target: HttpTarget
) -> None:
    params = {"url": http_target.url("/chunked?size=300000&chunk=4096"), "max_body_bytes": 1000}
    result = await probe(registry, params, "len([BODY]) == 1000", "[BODY_SIZE] == 1000")
    assert result.outcome is Outcome.OK, result.message
    assert result.details["truncated"] is True  # no Content-Length: the size is what was read


async def test_a_body_of_exactly_the_limit_is_not_truncated(
    registry: ExecutorRegistry, http_target: HttpTarget
) -> None:
    params = {"url": http_target.url("/big?size=1000"), "max_body_bytes": 1000}
    result = await probe(registry, params, "len([BODY]) == 1000")
    assert result.outcome is Outcome.OK, result.message
    assert "truncated" not in result.details


async def test_head_reads_no_body_even_where_get_would_get_one(
    registry: ExecutorRegistry, http_target: HttpTarget
) -> None:
    params = {"url": http_target.url("/big?size=500000"), "method": "HEAD", "max_body_bytes": 10}
    result = await probe(registry, params, "[HEADERS].content-length == 500000")
    assert result.outcome is Outcome.OK, result.message
    assert result.details["size"] == 0
    assert "truncated" not in result.details
    assert_consistent(result.timings)


async def test_certificate_expiry_is_the_one_in_the_certificate(
    registry: ExecutorRegistry, tmp_path: Path
) -> None:
    material = make_tls_material(tmp_path, valid_for=datetime.timedelta(days=42))
    expected = time.time() + 42 * 86_400
    async with serve_http_target(ssl_context=material.server_context()) as target:
        for verify in ({"ca_file": str(material.ca_file)}, {"verify_tls": False}):
            result = await probe(registry, {"url": target.url("/"), **verify})
            assert result.outcome is Outcome.OK, result.message
            assert abs(result.details["cert_expires_at"] - expected) < 5
            assert 41.9 < result.details["cert_days_left"] <= 42


async def test_a_verified_probe_without_ca_file_trusts_the_clients_bundle(
    https_target: HttpTarget, tls: TlsMaterial
) -> None:
    clients = HttpClients(ca_bundle=str(tls.ca_file))  # stands in for the system's bundle
    try:
        exchange = Exchange(HttpRequest(url=https_target.url("/")), 5.0)
        assert await exchange.run(clients, time.perf_counter() + 5) is None
        assert exchange.hops[-1].status == 200
    finally:
        await clients.aclose()


async def test_a_redirect_hop_that_times_out_names_its_stage_and_the_redirect(
    registry: ExecutorRegistry, http_target: HttpTarget
) -> None:
    params = {"url": http_target.url("/to?path=/slow%3Fdelay%3D10")}
    result = await probe(registry, params, check_timeout=0.3)
    assert result.outcome is Outcome.TIMEOUT
    assert result.message == (
        "no response within 0.3 s (while waiting for the response, after 1 redirect)"
    )
    assert "connect" in result.timings
    assert "first_byte" not in result.timings


async def test_libcurls_own_timeout_says_what_the_executors_says(
    http_target: HttpTarget,
) -> None:
    """Without the executor's timer (a bridge used directly), libcurl's ends the transfer."""
    clients = HttpClients()
    try:
        exchange = Exchange(HttpRequest(url=http_target.url("/slow?delay=10")), 0.3)
        started = time.perf_counter()
        failure = await exchange.run(clients, started + 0.3)
        assert time.perf_counter() - started < 2
    finally:
        await clients.aclose()
    assert failure == Failure(
        Outcome.TIMEOUT, "no response within 0.3 s (while waiting for the response)"
    )
    assert "connect" in exchange.phases()


async def test_libcurls_own_timeout_in_a_silent_tls_handshake_names_it() -> None:
    async with await anyio.create_tcp_listener(local_host="127.0.0.1") as listener:
        port = listener.extra(anyio.abc.SocketAttribute.local_port)

        async def hold(stream: anyio.abc.SocketStream) -> None:
            async with stream:
                await anyio.sleep_forever()

        clients = HttpClients()
        async with anyio.create_task_group() as group:
            group.start_soon(listener.serve, hold)
            exchange = Exchange(HttpRequest(url=f"https://127.0.0.1:{port}/"), 0.3)
            failure = await exchange.run(clients, time.perf_counter() + 0.3)
            group.cancel_scope.cancel()
        await clients.aclose()
    assert failure == Failure(Outcome.TIMEOUT, "no response within 0.3 s (while the TLS handshake)")
    assert set(exchange.phases()) == {"connect"}


async def test_proxy_variables_in_the_environment_are_ignored(
    registry: ExecutorRegistry, http_target: HttpTarget, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("http_proxy", "HTTPS_PROXY", "ALL_PROXY"):
        monkeypatch.setenv(name, "http://127.0.0.1:9")  # nothing listens there
    result = await probe(registry, {"url": http_target.url("/health")})
    assert result.outcome is Outcome.OK, result.message
    assert http_target.state.hits["/health"] == 1


async def test_https_to_a_plain_port_is_a_handshake_error_naming_the_target(
    registry: ExecutorRegistry, http_target: HttpTarget
) -> None:
    url = http_target.url("/").replace("http://", "https://")
    result = await probe(registry, {"url": url, "verify_tls": False})
    assert result.outcome is Outcome.ERROR
    assert result.message.startswith(f"TLS handshake with 127.0.0.1:{http_target.port} failed: ")
    assert "\n" not in result.message


async def test_libcurls_timers_fire_for_each_transfer_as_deadlines_come_and_go(
    http_target: HttpTarget,
) -> None:
    """The loop keeps one timer for libcurl and leaves it when a later deadline is asked for;
    each transfer's own timeout must still fire on time."""
    clients = HttpClients()
    ended: dict[float, float] = {}

    async def slow(seconds: float) -> None:
        exchange = Exchange(HttpRequest(url=http_target.url("/slow?delay=10")), seconds)
        started = time.perf_counter()
        failure = await exchange.run(clients, started + seconds)
        assert failure is not None
        assert failure.outcome is Outcome.TIMEOUT
        ended[seconds] = time.perf_counter() - started

    try:
        async with anyio.create_task_group() as group:
            for seconds in (0.9, 0.3, 0.6):  # the nearest deadline moves earlier, then later
                group.start_soon(slow, seconds)
                await anyio.sleep(0.01)
    finally:
        await clients.aclose()
    for seconds, took in ended.items():
        assert seconds - 0.01 <= took < seconds + 0.25, ended


async def test_pooled_handles_carry_nothing_from_one_check_to_the_next(
    registry: ExecutorRegistry, http_target: HttpTarget
) -> None:
    echo = http_target.url("/echo")
    runs: list[tuple[dict[str, Any], tuple[str, ...]]] = [
        ({"method": "POST", "body": "first"}, ("[BODY].method == POST", "[BODY].body == first")),
        ({"method": "GET"}, ("[BODY].method == GET", "[BODY].body == ''")),
        ({"method": "HEAD"}, ("[BODY_SIZE] == 0",)),
        ({"method": "GET", "keep_alive": True}, ("[BODY].method == GET",)),
        ({"method": "DELETE"}, ("[BODY].method == DELETE",)),
        ({"method": "GET", "max_body_bytes": 5}, ("len([BODY]) == 5",)),
        ({"method": "GET"}, ("[BODY].method == GET", "[BODY].body == ''")),
    ]
    for _ in range(2):  # the second time round, every shape of request finds a pooled handle
        for params, conditions in runs:
            result = await probe(registry, {"url": echo, **params}, *conditions)
            assert result.outcome is Outcome.OK, (params, result.message)
    clients = registry.resources.get("http", HttpClients)
    in_use, idle = clients.handles()
    assert in_use == 0
    assert idle == 5  # one per set of options: POST, GET (three checks), HEAD, kept GET, DELETE
