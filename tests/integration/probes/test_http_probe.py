"""The http probe against a real aiohttp server on 127.0.0.1 (plain and TLS)."""

from __future__ import annotations

import datetime
import time
from pathlib import Path
from typing import Any

import pytest
from tests.servers.checks import make_check
from tests.servers.http_target import HttpTarget, serve_http_target
from tests.servers.tls import TlsMaterial, make_tls_material

from nyxmon.domain.model import Outcome, Result
from nyxmon.probes.registry import ExecutorRegistry

pytestmark = pytest.mark.anyio


async def probe(
    registry: ExecutorRegistry,
    params: dict[str, Any],
    *conditions: str,
    check_timeout: float = 5.0,
    check_type: str = "http",
) -> Result:
    check = make_check(check_type, params, *conditions, timeout=check_timeout)
    return await registry.get(check_type).execute(check, time.time())


async def test_healthy_endpoint_passes_and_reports_status_size_and_address(
    registry: ExecutorRegistry, http_target: HttpTarget
) -> None:
    result = await probe(registry, {"url": http_target.url("/health")})
    assert result.outcome is Outcome.OK, result.message
    assert result.message.startswith("200 OK in ")
    assert result.details["status"] == 200
    assert result.details["size"] == 2
    assert result.details["ip"] == "127.0.0.1"
    assert result.check_id == "target.check"
    assert not result.degraded


async def test_result_carries_scheduled_and_start_times(
    registry: ExecutorRegistry, http_target: HttpTarget
) -> None:
    check = make_check("http", {"url": http_target.url("/")})
    scheduled = time.time() - 2.0
    result = await registry.get("http").execute(check, scheduled)
    assert result.scheduled_at == pytest.approx(scheduled, abs=0.0005)  # kept to the ms
    assert result.started_at >= result.scheduled_at
    assert result.start_lag >= 1.999
    assert result.duration > 0


async def test_phases_are_timed_on_a_fresh_connection_by_host_name(
    registry: ExecutorRegistry, http_target: HttpTarget
) -> None:
    url = f"http://localhost:{http_target.port}/"
    result = await probe(registry, {"url": url})
    assert result.outcome is Outcome.OK, result.message
    assert {"dns", "connect", "first_byte", "total"} <= set(result.timings)
    assert "tls" not in result.timings
    assert all(value >= 0 for value in result.timings.values())
    assert result.timings["first_byte"] <= result.timings["total"]


async def test_every_probe_opens_a_new_connection_unless_keep_alive(
    registry: ExecutorRegistry, http_target: HttpTarget
) -> None:
    fresh = [await probe(registry, {"url": http_target.url("/")}) for _ in range(2)]
    assert all("connect" in r.timings for r in fresh)
    assert not any(r.details.get("reused_connection") for r in fresh)
    pooled = [await probe(registry, {"url": http_target.url("/"), "keep_alive": True})]
    pooled.append(await probe(registry, {"url": http_target.url("/"), "keep_alive": True}))
    assert "connect" in pooled[0].timings
    assert pooled[1].details.get("reused_connection") is True
    assert "connect" not in pooled[1].timings


@pytest.mark.parametrize(
    ("params", "outcome", "message"),
    [
        pytest.param({}, Outcome.FAIL, "status 503 not in 200-399", id="default-200-399"),
        pytest.param({"expected_status": [503]}, Outcome.OK, "503", id="exact"),
        pytest.param({"expected_status": ["5xx"]}, Outcome.OK, "503", id="class"),
        pytest.param({"expected_status": ["500-503"]}, Outcome.OK, "503", id="range"),
        pytest.param(
            {"expected_status": [200, "201-204"]},
            Outcome.FAIL,
            "status 503 not in 200, 201-204",
            id="list",
        ),
    ],
)
async def test_expected_status_decides_pass_or_fail(
    registry: ExecutorRegistry,
    http_target: HttpTarget,
    params: dict[str, Any],
    outcome: Outcome,
    message: str,
) -> None:
    result = await probe(registry, {"url": http_target.url("/status/503"), **params})
    assert result.outcome is outcome
    assert message in result.message
    assert result.details["status"] == 503


async def test_a_condition_on_status_replaces_the_default_status_range(
    registry: ExecutorRegistry, http_target: HttpTarget
) -> None:
    result = await probe(registry, {"url": http_target.url("/status/503")}, "[STATUS] == 503")
    assert result.outcome is Outcome.OK, result.message


async def test_conditions_apply_on_top_of_the_expected_status(
    registry: ExecutorRegistry, http_target: HttpTarget
) -> None:
    result = await probe(
        registry,
        {"url": http_target.url("/status/503"), "expected_status": [503]},
        "[STATUS] == 200",
        "[BODY] == pat(*503*)",
    )
    assert result.outcome is Outcome.FAIL
    assert result.details["failed_conditions"] == ["[STATUS] (503) == 200"]
    assert result.message == "[STATUS] (503) == 200"


async def test_failed_status_and_conditions_are_all_reported(
    registry: ExecutorRegistry, http_target: HttpTarget
) -> None:
    result = await probe(registry, {"url": http_target.url("/status/500")}, "[BODY] == healthy")
    assert result.outcome is Outcome.FAIL
    assert result.message == "status 500 not in 200-399; [BODY] (status 500) == healthy"


async def test_response_time_and_size_conditions_see_the_response(
    registry: ExecutorRegistry, http_target: HttpTarget
) -> None:
    result = await probe(
        registry,
        {"url": http_target.url("/keyword")},
        "[RESPONSE_TIME] < 10000",
        "[BODY_SIZE] > 20",
        "[CONNECTED] == true",
        "[HEADERS].content-type == pat(text/html*)",
        "[IP] == 127.0.0.1",
    )
    assert result.outcome is Outcome.OK, result.message


@pytest.mark.parametrize(
    ("params", "outcome", "message"),
    [
        pytest.param({"keyword": "status: green"}, Outcome.OK, "200", id="present"),
        pytest.param(
            {"keyword": "status: red"},
            Outcome.FAIL,
            "keyword 'status: red' not found in the body",
            id="missing",
        ),
        pytest.param({"keyword": "WELCOME"}, Outcome.FAIL, "not found", id="case-sensitive"),
        pytest.param(
            {"keyword": "WELCOME", "keyword_case_sensitive": False},
            Outcome.OK,
            "200",
            id="case-insensitive",
        ),
        pytest.param({"keyword_absent": "error"}, Outcome.OK, "200", id="absent-ok"),
        pytest.param(
            {"keyword_absent": "green"},
            Outcome.FAIL,
            "keyword 'green' found in the body",
            id="absent-found",
        ),
    ],
)
async def test_keywords_must_be_present_or_absent(
    registry: ExecutorRegistry,
    http_target: HttpTarget,
    params: dict[str, Any],
    outcome: Outcome,
    message: str,
) -> None:
    result = await probe(registry, {"url": http_target.url("/keyword"), **params})
    assert result.outcome is outcome
    assert message in result.message


async def test_redirects_are_followed_by_default(
    registry: ExecutorRegistry, http_target: HttpTarget
) -> None:
    result = await probe(registry, {"url": http_target.url("/redirect/3")}, "[BODY] == ok")
    assert result.outcome is Outcome.OK, result.message
    assert result.details["redirects"] == 3
    assert result.details["url"] == http_target.url("/")
    assert http_target.state.hits["/"] == 1


async def test_redirects_are_not_followed_when_disabled(
    registry: ExecutorRegistry, http_target: HttpTarget
) -> None:
    params = {"url": http_target.url("/redirect/3"), "follow_redirects": False}
    result = await probe(registry, params)
    assert result.outcome is Outcome.OK
    assert result.details["status"] == 302
    strict = await probe(registry, {**params, "expected_status": [200]})
    assert strict.outcome is Outcome.FAIL
    assert "status 302 not in 200" in strict.message
    assert http_target.state.hits["/"] == 0


async def test_too_many_redirects_fail(registry: ExecutorRegistry, http_target: HttpTarget) -> None:
    loop = await probe(registry, {"url": http_target.url("/redirect-loop")})
    assert loop.outcome is Outcome.FAIL
    assert loop.message == "more than 10 redirects"
    short = await probe(registry, {"url": http_target.url("/redirect/3"), "max_redirects": 2})
    assert short.outcome is Outcome.FAIL
    assert short.message == "more than 2 redirects"


async def test_slow_endpoint_past_the_timeout_is_a_timeout_naming_the_stage(
    registry: ExecutorRegistry, http_target: HttpTarget
) -> None:
    result = await probe(registry, {"url": http_target.url("/slow?delay=10")}, check_timeout=0.3)
    assert result.outcome is Outcome.TIMEOUT
    assert result.message == "no response within 0.3 s (while waiting for the response)"
    assert "connect" in result.timings


async def test_kept_alive_connection_timing_out_names_the_wait_for_the_response(
    registry: ExecutorRegistry, http_target: HttpTarget
) -> None:
    warm = await probe(registry, {"url": http_target.url("/"), "keep_alive": True})
    assert "connect" in warm.timings, warm.timings
    slow = {"url": http_target.url("/slow?delay=10"), "keep_alive": True}
    result = await probe(registry, slow, check_timeout=0.3)
    assert result.outcome is Outcome.TIMEOUT
    assert result.message == "no response within 0.3 s (while waiting for the response)"
    assert "connect" not in result.timings  # the warm connection was reused


async def test_server_that_never_answers_the_tls_handshake_times_out_naming_it(
    registry: ExecutorRegistry,
) -> None:
    import anyio

    async with await anyio.create_tcp_listener(local_host="127.0.0.1") as listener:
        port = listener.extra(anyio.abc.SocketAttribute.local_port)
        held: list[anyio.abc.SocketStream] = []

        async def hold(stream: anyio.abc.SocketStream) -> None:
            held.append(stream)  # accepted, then silent: the client's ClientHello goes unanswered
            await anyio.sleep_forever()

        async with anyio.create_task_group() as tg:
            tg.start_soon(listener.serve, hold)
            result = await probe(registry, {"url": f"https://127.0.0.1:{port}/"}, check_timeout=0.3)
            tg.cancel_scope.cancel()
    assert result.outcome is Outcome.TIMEOUT
    assert result.message == "no response within 0.3 s (while the TLS handshake)"
    assert result.timings["connect"] >= 0
    assert "tls" not in result.timings
    assert "first_byte" not in result.timings


async def test_redirect_hops_each_pay_their_connection_and_add_up(
    registry: ExecutorRegistry, http_target: HttpTarget
) -> None:
    chained = await probe(registry, {"url": http_target.url("/redirect/3")})
    assert chained.outcome is Outcome.OK, chained.message
    assert chained.details["redirects"] == 3
    # Four fresh connections for four requests: none of the hops is counted as reused.
    assert "reused_connection" not in chained.details
    assert chained.timings["connect"] > 0
    assert chained.timings["first_byte"] <= chained.timings["total"]
    kept = await probe(registry, {"url": http_target.url("/redirect/3"), "keep_alive": True})
    assert kept.details["reused_connection"] is True  # later hops ride the first connection


async def test_passing_but_slow_response_is_degraded(
    registry: ExecutorRegistry, http_target: HttpTarget
) -> None:
    slow = await probe(
        registry, {"url": http_target.url("/slow?delay=0.5"), "max_response_time": 0.05}
    )
    assert slow.outcome is Outcome.OK
    assert slow.degraded
    assert "slower than 50 ms" in slow.message
    fast = await probe(registry, {"url": http_target.url("/"), "max_response_time": 30})
    assert fast.outcome is Outcome.OK
    assert not fast.degraded


async def test_failing_run_is_not_degraded_however_slow(
    registry: ExecutorRegistry, http_target: HttpTarget
) -> None:
    params = {"url": http_target.url("/slow?delay=0.3"), "max_response_time": 0.01}
    result = await probe(registry, params, "[BODY] == nope")
    assert result.outcome is Outcome.FAIL
    assert not result.degraded


async def test_closed_port_is_an_error_saying_connection_refused(
    registry: ExecutorRegistry,
) -> None:
    async with serve_http_target() as target:
        url = target.url("/")
    result = await probe(registry, {"url": url})
    assert result.outcome is Outcome.ERROR
    assert result.message == f"cannot connect to 127.0.0.1:{target.port}: Connection refused"


async def test_unresolvable_host_is_an_error(registry: ExecutorRegistry) -> None:
    result = await probe(registry, {"url": "http://no-such-host.invalid/"}, check_timeout=10)
    assert result.outcome is Outcome.ERROR
    assert result.message.startswith("cannot resolve no-such-host.invalid")


@pytest.mark.parametrize(
    ("auth", "outcome"),
    [
        pytest.param({"basic_auth": {"username": "nyx", "password": "mon"}}, Outcome.OK, id="ok"),
        pytest.param(
            {"basic_auth": {"username": "nyx", "password": "wrong"}}, Outcome.FAIL, id="bad"
        ),
        pytest.param({}, Outcome.FAIL, id="none"),
    ],
)
async def test_basic_auth(
    registry: ExecutorRegistry, http_target: HttpTarget, auth: dict[str, Any], outcome: Outcome
) -> None:
    result = await probe(registry, {"url": http_target.url("/basic-auth"), **auth})
    assert result.outcome is outcome
    if outcome is Outcome.FAIL:
        assert result.details["status"] == 401


@pytest.mark.parametrize(
    ("token", "outcome"),
    [pytest.param("s3cret-token", Outcome.OK, id="ok"), pytest.param("guess", Outcome.FAIL)],
)
async def test_bearer_token(
    registry: ExecutorRegistry, http_target: HttpTarget, token: str, outcome: Outcome
) -> None:
    result = await probe(registry, {"url": http_target.url("/bearer"), "bearer_token": token})
    assert result.outcome is outcome


async def test_method_body_and_headers_are_sent(
    registry: ExecutorRegistry, http_target: HttpTarget
) -> None:
    params = {"url": http_target.url("/echo"), "method": "put", "body": "hello"}
    result = await probe(registry, params, "[BODY].method == PUT", "[BODY].body == hello")
    assert result.outcome is Outcome.OK, result.message
    sent = await probe(
        registry,
        {"url": http_target.url("/echo"), "method": "POST", "json_body": {"q": 1}},
        '[BODY].body == {"q": 1}',
    )
    assert sent.outcome is Outcome.OK, sent.message
    headers = await probe(
        registry,
        {"url": http_target.url("/headers"), "headers": {"X-Probe": "yes"}},
        "[BODY].X-Probe == yes",
        "[BODY].User-Agent == pat(NyxMon/*)",
    )
    assert headers.outcome is Outcome.OK, headers.message


async def test_head_request_passes_without_a_body(
    registry: ExecutorRegistry, http_target: HttpTarget
) -> None:
    result = await probe(registry, {"url": http_target.url("/"), "method": "HEAD"})
    assert result.outcome is Outcome.OK, result.message
    assert result.details["size"] == 0


async def test_large_body_is_read_up_to_the_limit_and_size_still_reported(
    registry: ExecutorRegistry, http_target: HttpTarget
) -> None:
    params = {"url": http_target.url("/big?size=200000"), "max_body_bytes": 1000}
    result = await probe(registry, params, "[BODY_SIZE] == 200000", "len([BODY]) == 1000")
    assert result.outcome is Outcome.OK, result.message
    assert result.details["truncated"] is True
    assert result.details["size"] == 200_000


async def test_flaky_endpoint_alternates_between_pass_and_fail(
    registry: ExecutorRegistry, http_target: HttpTarget
) -> None:
    results = [await probe(registry, {"url": http_target.url("/flaky")}) for _ in range(4)]
    assert [r.outcome for r in results] == [Outcome.OK, Outcome.FAIL, Outcome.OK, Outcome.FAIL]


async def test_invalid_params_are_an_error_result_naming_the_check_and_field(
    registry: ExecutorRegistry,
) -> None:
    result = await probe(registry, {"url": "ftp://example.test/", "max_redirects": -1})
    assert result.outcome is Outcome.ERROR
    assert result.message.startswith("check 'target.check': invalid http params: ")
    assert "url: Value error, must start with http:// or https://" in result.message
    assert "max_redirects:" in result.message


async def test_malformed_condition_is_an_error_result(
    registry: ExecutorRegistry, http_target: HttpTarget
) -> None:
    result = await probe(registry, {"url": http_target.url("/")}, "[STATUS] = 200")
    assert result.outcome is Outcome.ERROR
    assert "check 'target.check': invalid condition '[STATUS] = 200'" in result.message


async def test_https_with_the_right_ca_passes_and_reports_tls_and_certificate(
    registry: ExecutorRegistry, https_target: HttpTarget, tls: TlsMaterial
) -> None:
    params = {"url": https_target.url("/health"), "ca_file": str(tls.ca_file)}
    result = await probe(registry, params, "[CERTIFICATE_EXPIRATION] > 48h")
    assert result.outcome is Outcome.OK, result.message
    assert {"connect", "tls", "first_byte", "total"} <= set(result.timings)
    assert result.details["cert_days_left"] > 2
    assert result.details["cert_expires_at"] > time.time()


async def test_certificate_close_to_expiry_fails_the_expiration_condition(
    registry: ExecutorRegistry, tmp_path: Path
) -> None:
    short = make_tls_material(tmp_path, valid_for=datetime.timedelta(days=10))
    async with serve_http_target(ssl_context=short.server_context()) as target:
        params = {"url": target.url("/"), "ca_file": str(short.ca_file)}
        result = await probe(
            registry, params, "[CERTIFICATE_EXPIRATION] > 30d", "[CERTIFICATE_EXPIRATION] > 7d"
        )
    assert result.outcome is Outcome.FAIL
    assert 9.5 < result.details["cert_days_left"] <= 10.0
    [failed] = result.details["failed_conditions"]
    assert failed.startswith("[CERTIFICATE_EXPIRATION] (9d23h")
    assert failed.endswith(", 9.9 days left) > 30d")
    assert "9.9 days left" in result.message


async def test_https_with_the_wrong_ca_is_a_tls_error(
    registry: ExecutorRegistry, https_target: HttpTarget, other_tls: TlsMaterial
) -> None:
    params = {"url": https_target.url("/"), "ca_file": str(other_tls.ca_file)}
    result = await probe(registry, params)
    assert result.outcome is Outcome.ERROR
    assert result.message.startswith(f"TLS certificate of 127.0.0.1:{https_target.port} rejected")
    assert result.message.endswith("rejected: unable to get local issuer certificate")
    assert "connect" in result.timings


async def test_https_with_system_cas_rejects_a_private_ca(
    registry: ExecutorRegistry, https_target: HttpTarget
) -> None:
    result = await probe(registry, {"url": https_target.url("/")})
    assert result.outcome is Outcome.ERROR
    assert "rejected" in result.message


async def test_https_without_verification_passes_and_still_reads_the_certificate(
    registry: ExecutorRegistry, https_target: HttpTarget
) -> None:
    params = {"url": https_target.url("/"), "verify_tls": False}
    result = await probe(registry, params, "[CERTIFICATE_EXPIRATION] > 1d")
    assert result.outcome is Outcome.OK, result.message
    assert result.details["cert_days_left"] > 1


async def test_unreadable_ca_file_is_an_error(
    registry: ExecutorRegistry, https_target: HttpTarget, missing_file: Path
) -> None:
    result = await probe(registry, {"url": https_target.url("/"), "ca_file": str(missing_file)})
    assert result.outcome is Outcome.ERROR
    assert result.message.startswith(f"cannot load ca_file '{missing_file}'")


async def test_plain_http_to_a_tls_port_is_an_error(
    registry: ExecutorRegistry, https_target: HttpTarget
) -> None:
    url = https_target.url("/").replace("https://", "http://")
    result = await probe(registry, {"url": url})
    assert result.outcome in (Outcome.ERROR, Outcome.FAIL)
    assert result.outcome is not Outcome.OK
