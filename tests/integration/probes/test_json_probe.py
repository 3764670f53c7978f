"""The json probe: an HTTP probe whose conditions read the parsed document."""

from __future__ import annotations

import time
from typing import Any

import pytest
from tests.servers.checks import make_check
from tests.servers.http_target import JSON_DOCUMENT, HttpTarget

from nyxmon.domain.model import Outcome, Result
from nyxmon.probes.registry import ExecutorRegistry

pytestmark = pytest.mark.anyio


async def probe(registry: ExecutorRegistry, params: dict[str, Any], *conditions: str) -> Result:
    check = make_check("json", params, *conditions, check_id="api.health")
    return await registry.get("json").execute(check, time.time())


async def test_conditions_address_the_parsed_document(
    registry: ExecutorRegistry, http_target: HttpTarget
) -> None:
    result = await probe(
        registry,
        {"url": http_target.url("/json")},
        "[BODY].status == UP",
        "[BODY].data[0].id == 1",
        "[BODY].data[1].name == beta",
        "[BODY].data[0].healthy == true",
        "len([BODY].data) == 2",
        "len([BODY].data[0].tags) > 1",
        "[BODY].meta.replicas.ready == [BODY].meta.replicas.desired",
        "[BODY].uptime_seconds > 3600",
        "has([BODY].errors) == true",
        "len([BODY].errors) == 0",
        "[BODY].version == pat(1.*)",
    )
    assert result.outcome is Outcome.OK, result.message
    assert result.details["status"] == 200


async def test_failed_conditions_show_the_actual_values(
    registry: ExecutorRegistry, http_target: HttpTarget
) -> None:
    result = await probe(
        registry,
        {"url": http_target.url("/json/down")},
        "[BODY].status == UP",
        "len([BODY].errors) == 0",
        "[BODY].data[0].id == 1",
    )
    assert result.outcome is Outcome.FAIL
    assert result.details["failed_conditions"] == [
        "[BODY].status (DOWN) == UP",
        "len([BODY].errors) (1) == 0",
    ]
    assert result.message == "[BODY].status (DOWN) == UP; len([BODY].errors) (1) == 0"


async def test_missing_path_fails_with_the_reason_instead_of_crashing(
    registry: ExecutorRegistry, http_target: HttpTarget
) -> None:
    result = await probe(
        registry,
        {"url": http_target.url("/json")},
        "[BODY].meta.zone == eu",
        "[BODY].data[5].id == 1",
    )
    assert result.outcome is Outcome.FAIL
    assert result.details["failed_conditions"] == [
        '[BODY].meta.zone (missing: [BODY].meta has no key "zone") == eu',
        "[BODY].data[5].id (missing: [BODY].data has 2 items, no index 5) == 1",
    ]


@pytest.mark.parametrize("path", ["/json/invalid", "/keyword"])
async def test_a_body_that_is_not_json_fails_saying_so(
    registry: ExecutorRegistry, http_target: HttpTarget, path: str
) -> None:
    result = await probe(registry, {"url": http_target.url(path)})
    assert result.outcome is Outcome.FAIL
    assert result.message.startswith("response is not JSON: body is not valid JSON (")


async def test_the_http_type_does_not_require_json(
    registry: ExecutorRegistry, http_target: HttpTarget
) -> None:
    check = make_check("http", {"url": http_target.url("/keyword")})
    result = await registry.get("http").execute(check, time.time())
    assert result.outcome is Outcome.OK


async def test_status_rules_of_http_apply(
    registry: ExecutorRegistry, http_target: HttpTarget
) -> None:
    result = await probe(registry, {"url": http_target.url("/status/500")})
    assert result.outcome is Outcome.FAIL
    assert result.message.startswith("status 500 not in 200-399; response is not JSON")


async def test_accept_header_defaults_to_json_and_can_be_overridden(
    registry: ExecutorRegistry, http_target: HttpTarget
) -> None:
    default = await probe(
        registry, {"url": http_target.url("/headers")}, "[BODY].Accept == application/json"
    )
    assert default.outcome is Outcome.OK, default.message
    custom = await probe(
        registry,
        {"url": http_target.url("/headers"), "headers": {"accept": "application/vnd.x+json"}},
        "[BODY].Accept == application/vnd.x+json",
    )
    assert custom.outcome is Outcome.OK, custom.message


async def test_json_checks_share_the_http_session_resource(
    registry: ExecutorRegistry, http_target: HttpTarget
) -> None:
    await probe(registry, {"url": http_target.url("/json")})
    check = make_check("http", {"url": http_target.url("/")})
    await registry.get("http").execute(check, time.time())
    assert registry.shared_resources() == ("http",)
    assert set(registry.created()) == {"json", "http"}


async def test_a_failed_degraded_rule_makes_a_passing_run_degraded_not_failed(
    registry: ExecutorRegistry, http_target: HttpTarget
) -> None:
    params = {
        "url": http_target.url("/json"),
        "degraded_conditions": ["[BODY].uptime_seconds < 60", "[BODY].status == UP"],
    }
    result = await probe(registry, params, "[BODY].status == UP")
    assert result.outcome is Outcome.OK, result.message
    assert result.degraded
    assert result.details["degraded_conditions"] == [
        f"[BODY].uptime_seconds ({JSON_DOCUMENT['uptime_seconds']}) < 60"
    ]
    assert result.message.endswith(
        f", degraded: [BODY].uptime_seconds ({JSON_DOCUMENT['uptime_seconds']}) < 60"
    )


async def test_degraded_rules_that_hold_leave_the_run_up(
    registry: ExecutorRegistry, http_target: HttpTarget
) -> None:
    params = {"url": http_target.url("/json"), "degraded_conditions": ["[BODY].status == UP"]}
    result = await probe(registry, params)
    assert result.outcome is Outcome.OK, result.message
    assert not result.degraded
    assert "degraded_conditions" not in result.details


async def test_a_failed_ordinary_condition_still_fails_whatever_the_degraded_rules(
    registry: ExecutorRegistry, http_target: HttpTarget
) -> None:
    params = {"url": http_target.url("/json/down"), "degraded_conditions": ["[BODY].x == 1"]}
    result = await probe(registry, params, "[BODY].status == UP")
    assert result.outcome is Outcome.FAIL
    assert not result.degraded
    assert result.message == "[BODY].status (DOWN) == UP"
