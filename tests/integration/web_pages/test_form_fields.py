"""Check forms generated from the check models: widgets, the way back to data, and the
validation messages attached to the inputs they name."""

from __future__ import annotations

from typing import Any

import pytest

from nyxmon.checktypes import params_models as check_types
from nyxmon.config import ConfigIssue, ConfigValidationError, check_models, validate_check
from nyxmon.web.pages.check_forms import form_spec
from nyxmon.web.pages.forms import attach_issues, form_values, parse_form


@pytest.mark.parametrize("type_name", sorted(check_types()))
def test_every_registered_type_gets_an_input_for_each_of_its_settings(type_name: str) -> None:
    spec = form_spec(type_name)
    names = {f.name for f in spec.all}
    params = check_types()[type_name].model_fields
    for key, _info in params.items():
        nested = [n for n in names if n.startswith(f"{key}.")]
        assert key in names or nested, f"{type_name}: no input for {key}"
    for key in ("name", "interval", "timeout", "conditions", "labels", "enabled", "paused"):
        assert key in names
    assert any(n.startswith("alert.") for n in names)
    assert len({f.input_id for f in spec.all}) == len(spec.all), "input ids must be unique"


def test_widgets_follow_the_annotations() -> None:
    kinds = {f.name: f for f in form_spec("http").all}
    assert kinds["url"].kind == "text"
    assert kinds["url"].required
    assert kinds["method"].kind == "select"
    assert "HEAD" in kinds["method"].choices
    assert kinds["headers"].kind == "mapping"
    assert kinds["json_body"].kind == "json"
    assert kinds["bearer_token"].kind == "password"
    assert kinds["basic_auth.password"].kind == "password"
    assert kinds["basic_auth.username"].label == "Basic auth: username"
    # A field of an optional group is not required on its own.
    assert not kinds["basic_auth.username"].required
    assert kinds["expected_status"].kind == "csv"
    assert kinds["verify_tls"].kind == "checkbox"
    assert kinds["verify_tls"].default is True
    assert kinds["max_redirects"].kind == "number"
    assert kinds["interval"].kind == "duration"
    assert kinds["conditions"].kind == "lines"
    assert kinds["alert.retry_interval"].kind == "duration"
    assert kinds["alert.send_on_resolved"].kind == "tristate"
    assert kinds["alert.escalate_to"].kind == "lines"
    dns = {f.name: f for f in form_spec("dns").all}
    assert dns["record_type"].kind == "select"
    assert "MX" in dns["record_type"].choices
    assert dns["port"].kind == "number"
    assert dns["port"].default == 53


def test_a_submitted_form_becomes_the_data_the_config_file_would_hold() -> None:
    spec = form_spec("http")
    form = {
        "name": "cart",
        "url": " https://shop.example/cart ",
        "method": "POST",
        "headers": "X-Env: prod\nAuthorization: Bearer a:b=c\n\n",
        "json_body": '{"items": [1, 2]}',
        "expected_status": "200, 2xx 301",
        "verify_tls": "true",
        "conditions": "[STATUS] == 200\n\n  [RESPONSE_TIME] < 500  ",
        "labels": "team=web\ntier: 1",
        "interval": "30s",
        "alert.retries": "2",
        "alert.send_on_resolved": "false",
        "basic_auth.username": "",
        "basic_auth.password": "",
    }
    data, errors = parse_form(spec.all, form)
    assert errors == {}
    assert data["url"] == "https://shop.example/cart"
    assert data["headers"] == {"X-Env": "prod", "Authorization": "Bearer a:b=c"}
    assert data["json_body"] == {"items": [1, 2]}
    assert data["expected_status"] == [200, "2xx", 301]
    assert data["conditions"] == ["[STATUS] == 200", "[RESPONSE_TIME] < 500"]
    assert data["labels"] == {"team": "web", "tier": "1"}
    assert data["alert"] == {"retries": "2", "send_on_resolved": False}
    assert "basic_auth" not in data  # an empty group is not set at all
    assert data["verify_tls"] is True
    assert data["follow_redirects"] is False
    assert "body" not in data
    assert "max_response_time" not in data
    spec_model = validate_check({**data, "type": "http"})
    assert spec_model.alert is not None
    assert spec_model.alert.retries == 2


def test_unparsable_inputs_are_reported_at_their_field_before_validation() -> None:
    spec = form_spec("http")
    data, errors = parse_form(
        spec.all, {"name": "x", "url": "http://a", "json_body": "{nope", "headers": "ok: 1\nbad"}
    )
    assert errors["json_body"] == [
        "not valid JSON: Expecting property name enclosed in double quotes (line 1, column 2)"
    ]
    assert errors["headers"] == ["line 2: expected 'name: value', got 'bad'"]
    assert "json_body" not in data
    assert "headers" not in data


def _issues(data: dict[str, Any]) -> list[ConfigIssue]:
    with pytest.raises(ConfigValidationError) as caught:
        validate_check(data)
    return caught.value.errors


def test_validation_messages_land_next_to_the_fields_they_name() -> None:
    spec = form_spec("http")
    issues = _issues(
        {
            "name": "x",
            "type": "http",
            "url": "ftp://a",
            "conditions": ["[STATUS] == 200", "bad =="],
            "alert": {"retries": "many"},
            "labels": {"a": 1},
        }
    )
    errors, general = attach_issues(issues, spec.all)
    assert general == []
    assert errors["url"] == ['must start with http:// or https://, got "ftp://a"']
    assert errors["conditions"][0].startswith("line 2: invalid condition 'bad =='")
    assert errors["alert.retries"] == ['expected an integer, got "many"']
    assert errors["labels"] == ["a: expected a string, got 1"]


def test_model_wide_and_unknown_paths_go_to_the_form_level_list() -> None:
    spec = form_spec("http")
    issues = _issues(
        {"name": "x", "type": "http", "url": "http://a", "body": "x", "json_body": {"a": 1}}
    )
    errors, general = attach_issues(issues, spec.all)
    assert errors == {}
    assert general == ["body and json_body exclude each other"]
    stray = ConfigIssue(None, None, "somewhere.else", "odd")
    rules = ConfigIssue(None, None, "check.timeout", "expected a timeout shorter than 1s")
    errors, general = attach_issues([stray, rules], spec.all)
    assert general == ["somewhere.else: odd"]
    assert errors == {"timeout": ["expected a timeout shorter than 1s"]}


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(
            {
                "name": "cart",
                "type": "http",
                "url": "https://shop.example/cart",
                "method": "POST",
                "headers": {"X-A": "1"},
                "json_body": {"a": [1, {"b": None}]},
                "expected_status": [200, "3xx"],
                "basic_auth": {"username": "u", "password": "p"},
                "max_response_time": 0.75,
                "interval": 90.0,
                "timeout": 0.5,
                "conditions": ["[STATUS] == 200"],
                "labels": {"team": "web"},
                "paused": True,
                "alert": {"retries": 0, "retry_interval": 5.0, "notify_degraded": False},
            },
            id="http",
        ),
        pytest.param(
            {
                "name": "apex",
                "type": "dns",
                "query_name": "example.com",
                "record_type": "MX",
                "server": "127.0.0.1",
                "port": 5353,
                "expected": ["10 mail.example.com."],
                "match": "all_of",
            },
            id="dns",
        ),
    ],
)
def test_a_check_shown_in_the_form_and_submitted_unchanged_stays_the_same(
    data: dict[str, Any],
) -> None:
    original = validate_check(data)
    spec = form_spec(data["type"])
    values = form_values(spec.all, original.model_dump(mode="json"))
    # A browser leaves unchecked boxes out of the submitted form.
    submitted = {k: v for k, v in values.items() if v != "false" or not _is_box(spec, k)}
    parsed, errors = parse_form(spec.all, submitted)
    assert errors == {}
    again = validate_check({**parsed, "type": data["type"]})
    model = check_models()[data["type"]]
    assert isinstance(again, model)
    assert again.model_dump(exclude={"id"}) == original.model_dump(exclude={"id"})


def _is_box(spec: Any, name: str) -> bool:
    return any(f.name == name and f.kind == "checkbox" for f in spec.all)
