"""The REST API adds and runs checks of the database and broker types against the machine's
local services, and refuses bad ones naming the field."""

from __future__ import annotations

from typing import Any

import pytest
from tests.integration.web.conftest import WebEnv
from tests.servers.data_checks import LOCAL_SERVICE_PARAMS


@pytest.mark.parametrize("type_name", sorted(LOCAL_SERVICE_PARAMS))
def test_a_check_of_each_type_is_created_and_run_through_the_api(
    web: WebEnv, type_name: str
) -> None:
    api = web.api()
    check = {"name": type_name, "type": type_name, **LOCAL_SERVICE_PARAMS[type_name]}
    answer = api.post(web.url + "/api/v1/checks", json={"service": "Data", "check": check})
    assert answer.status_code == 201, answer.text
    ran = api.post(web.url + f"/api/v1/checks/data.{type_name}/run")
    assert ran.status_code == 200, ran.text
    assert ran.json()["outcome"] == "ok", ran.json()["message"]


@pytest.mark.parametrize(
    ("check", "field", "fragment"),
    [
        pytest.param({"type": "postgres"}, "check", 'missing required key "host"', id="no-host"),
        pytest.param(
            {"type": "mysql", "host": "db", "port": 70000},
            "check.port",
            "at most 65535",
            id="port",
        ),
        pytest.param(
            {"type": "redis", "host": "db", "command": "GET 'unclosed"},
            "check.command",
            "cannot split",
            id="command",
        ),
        pytest.param(
            {"type": "mqtt", "host": "b", "topic": "a/#"}, "check.topic", "wildcards", id="topic"
        ),
        pytest.param(
            {"type": "websocket", "url": "http://x/"}, "check.url", "ws://", id="ws-scheme"
        ),
        pytest.param(
            {"type": "nats", "host": "n", "conditions": ["[STATUS] == 200"]},
            "check.conditions[0]",
            "[STATUS] is never observed by nats checks",
            id="unobservable",
        ),
        pytest.param(
            {"type": "json", "url": "http://x/", "degraded_conditions": ["[IP] = 1"]},
            "check.degraded_conditions[0]",
            "a single '='",
            id="degraded-condition",
        ),
    ],
)
def test_bad_checks_are_422_naming_the_field(
    web: WebEnv, check: dict[str, Any], field: str, fragment: str
) -> None:
    body = {"service": "Data", "check": {"name": "bad", **check}}
    answer = web.api().post(web.url + "/api/v1/checks", json=body)
    assert answer.status_code == 422, answer.text
    errors = answer.json()["errors"]
    assert field in [error["field"] for error in errors], errors
    assert any(fragment in error["message"] for error in errors), errors
    assert web.agent.store.get_check("data.bad") is None
