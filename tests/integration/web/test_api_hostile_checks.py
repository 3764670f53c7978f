"""Hostile check bodies through ``/api/v1/checks``: the file's bounds hold here too (huge
durations, words for booleans, data nested without end), each refused as problem+json naming
the field, and nothing stored changes."""

from __future__ import annotations

import json
from typing import Any

import pytest
from tests.integration.web.conftest import WebEnv

NEW = {"name": "status", "type": "http", "url": "http://127.0.0.1:9/status", "interval": "5s"}


_NESTED = "[" * 100 + "1" + "]" * 100
"""Spliced into the body as text (the test's own encoder is no judge of depth)."""


def _checks(env: WebEnv) -> tuple[Any, ...]:
    items = env.agent.store.list_checks().items
    return tuple(sorted((c.id, c.paused, c.interval, dict(c.params)) for c in items))


@pytest.mark.parametrize(
    ("check", "field", "fragment"),
    [
        pytest.param(
            {**NEW, "interval": "99999999999999999999999999999d"},
            "check.interval",
            "at most 365d",
            id="interval-in-days",
        ),
        pytest.param(
            {**NEW, "interval": 10**400}, "check.interval", "at most 365d", id="interval-huge-int"
        ),
        pytest.param({**NEW, "timeout": "2d"}, "check.timeout", "at most 1d", id="timeout"),
        pytest.param({**NEW, "paused": "yes"}, "check.paused", "write true or false", id="yes"),
        pytest.param(
            {**NEW, "follow_redirects": "off"},
            "check.follow_redirects",
            "write true or false",
            id="off-in-params",
        ),
        pytest.param(
            {**NEW, "max_body_bytes": 10**30},
            "check.max_body_bytes",
            "at most 67108864",
            id="body-bytes",
        ),
        pytest.param(
            {**NEW, "method": "POST", "json_body": "<nested>"},
            "check.json_body",
            "nested more than 32",
            id="nested-json-body",
        ),
    ],
)
@pytest.mark.parametrize("verb", ["post", "put"])
def test_hostile_checks_are_problems_naming_the_field_and_change_nothing(
    web: WebEnv, check: dict[str, Any], field: str, fragment: str, verb: str
) -> None:
    api = web.api()
    if verb == "put":
        created = api.post(
            web.url + "/api/v1/checks", json={"service": "S", "check": {**NEW, "id": "mine"}}
        )
        assert created.status_code == 201, created.text
        check = {**check, "id": "mine"}
    before = _checks(web)
    url = web.url + ("/api/v1/checks" if verb == "post" else "/api/v1/checks/mine")
    body = json.dumps({"service": "S", "check": check}).replace('"<nested>"', _NESTED)
    answer = api.request(verb.upper(), url, data=body, headers={"Content-Type": "application/json"})
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    errors = answer.json()["errors"]
    assert field in [error["field"] for error in errors], errors
    assert any(fragment in error["message"] for error in errors), errors
    assert _checks(web) == before


def test_a_body_nested_past_the_json_parser_is_a_problem_and_changes_nothing(web: WebEnv) -> None:
    before = _checks(web)
    body = json.dumps({"service": "S", "check": {**NEW, "json_body": "<nested>"}})
    body = body.replace('"<nested>"', "[" * 50_000 + "]" * 50_000)
    answer = web.api().post(
        web.url + "/api/v1/checks", data=body, headers={"Content-Type": "application/json"}
    )
    assert answer.status_code in (400, 422), answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert _checks(web) == before
