"""In-run retries of the http probe against the real aiohttp target: one result with its
attempts, only for failures worth another try, within the check's timeout."""

from __future__ import annotations

import socket
import time
from typing import Any

import pytest
from pydantic import ValidationError
from tests.servers.checks import make_check
from tests.servers.http_target import HttpTarget

from nyxmon.checktypes.http import HttpSpec
from nyxmon.domain.model import Outcome, Result
from nyxmon.probes.registry import ExecutorRegistry

pytestmark = pytest.mark.anyio


async def probe(
    registry: ExecutorRegistry, params: dict[str, Any], check_timeout: float = 5
) -> Result:
    check = make_check("http", params, check_id="web.retry", timeout=check_timeout)
    return await registry.get("http").execute(check, time.time())


async def test_a_503_is_retried_and_the_passing_attempt_is_the_one_result(
    registry: ExecutorRegistry, http_target: HttpTarget
) -> None:
    url = http_target.url("/flaky")  # odd calls 200, even calls 503
    first = await probe(registry, {"url": url, "retries": 2, "retry_backoff": "10ms"})
    second = await probe(registry, {"url": url, "retries": 2, "retry_backoff": "10ms"})
    assert first.outcome is Outcome.OK
    assert first.details["attempts"] == 1
    assert second.outcome is Outcome.OK, second.message
    assert second.details["attempts"] == 2
    assert second.details["retried"] == ["status 503"]
    assert second.message.endswith("(attempt 2)")
    assert http_target.state.hits["/flaky"] == 3


async def test_retries_stop_at_the_limit_and_the_last_answer_decides(
    registry: ExecutorRegistry, http_target: HttpTarget
) -> None:
    result = await probe(
        registry, {"url": http_target.url("/status/503"), "retries": 2, "retry_backoff": "10ms"}
    )
    assert result.outcome is Outcome.FAIL
    assert result.details["attempts"] == 3
    assert result.message == "status 503 not in 200-399 (attempt 3)"
    assert http_target.state.hits["/status/503"] == 3


async def test_statuses_not_listed_are_not_retried(
    registry: ExecutorRegistry, http_target: HttpTarget
) -> None:
    result = await probe(registry, {"url": http_target.url("/status/500"), "retries": 3})
    with_500 = await probe(
        registry,
        {
            "url": http_target.url("/status/500"),
            "retries": 1,
            "retry_status_codes": [500],
            "retry_backoff": "10ms",
        },
    )
    assert result.details["attempts"] == 1
    assert with_500.details["attempts"] == 2
    assert http_target.state.hits["/status/500"] == 3


async def test_a_refused_connection_is_retried_and_without_retries_nothing_changes(
    registry: ExecutorRegistry,
) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}/"
    retried = await probe(registry, {"url": url, "retries": 2, "retry_backoff": "10ms"})
    plain = await probe(registry, {"url": url})
    assert retried.outcome is Outcome.ERROR
    assert retried.details["attempts"] == 3
    assert len(retried.details["retried"]) == 2
    assert "Connection refused" in retried.details["retried"][0]
    assert "attempts" not in plain.details
    assert plain.message == f"cannot connect to 127.0.0.1:{port}: Connection refused"


async def test_no_retry_is_started_that_would_end_past_the_timeout(
    registry: ExecutorRegistry, http_target: HttpTarget
) -> None:
    result = await probe(
        registry,
        {"url": http_target.url("/status/503"), "retries": 5, "retry_backoff": "2s"},
        check_timeout=1.0,
    )
    assert result.outcome is Outcome.FAIL
    assert result.details["attempts"] == 1


@pytest.mark.parametrize(
    ("params", "message"),
    [
        pytest.param({"retries": 11}, "retries", id="too-many"),
        pytest.param({"retry_status_codes": [700]}, "700", id="status"),
        pytest.param({"retry_backoff": "0s"}, "retry_backoff", id="backoff"),
    ],
)
def test_bad_retry_params_are_refused(params: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        HttpSpec.model_validate({"url": "http://x.test/", **params})
