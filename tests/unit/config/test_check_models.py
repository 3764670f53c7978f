"""The check models shared with the REST API: same rules, same messages, no file or line."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError

from nyxmon.checktypes import CHECK_TYPES
from nyxmon.config import (
    COMMON_CHECK_FIELDS,
    CheckDefaults,
    ConfigValidationError,
    check_adapter,
    check_config_type,
    check_from_spec,
    check_models,
    load_config_text,
    validate_check,
)
from nyxmon.domain.model import CheckSource
from nyxmon.errors import ConditionSyntaxError

from .conftest import FAKE_REGISTRY, errors_of

GOOD: dict[str, Any] = {
    "name": "homepage",
    "type": "http",
    "url": "http://127.0.0.1:8090/healthy",
    "interval": "30s",
    "conditions": ["[STATUS] == 200"],
}


def test_valid_check_data_becomes_a_spec_and_a_domain_check() -> None:
    spec = validate_check(GOOD)
    assert (spec.name, spec.type, spec.interval, spec.timeout) == ("homepage", "http", 30.0, None)
    check = check_from_spec(spec, service="Website", defaults=CheckDefaults(timeout=3.0))
    assert check.id == "website.homepage"
    assert (check.interval, check.timeout, check.source) == (30.0, 3.0, CheckSource.API)
    assert check.params["url"] == GOOD["url"]


def test_api_errors_have_key_paths_and_no_file_or_line() -> None:
    bad = {**GOOD, "intervall": "30s", "interval": "soon"}
    with pytest.raises(ConfigValidationError) as caught:
        validate_check(bad)
    assert [str(issue) for issue in caught.value.errors] == [
        'interval: expected a duration like 30s, 5m or 1h30m, got "soon"',
        'intervall: unknown key "intervall"; did you mean "interval"?',
    ]


def test_api_error_paths_can_carry_a_prefix() -> None:
    with pytest.raises(ConfigValidationError) as caught:
        validate_check({**GOOD, "type": "htp"}, prefix=("checks", 2))
    (issue,) = caught.value.errors
    assert issue.path == "checks[2].type"
    assert issue.message.startswith('unknown check type "htp"; did you mean "http"?')


@pytest.mark.parametrize(
    ("key", "value"),
    [
        pytest.param("interval", "fast", id="duration"),
        pytest.param("url", "ftp://x", id="type-param"),
        pytest.param("conditions", ["[STATUS] ="], id="condition"),
        pytest.param("labels", {"tier": 1}, id="label"),
        pytest.param("bogus", 1, id="unknown-key"),
    ],
)
def test_file_and_api_give_the_same_message_for_the_same_mistake(key: str, value: Any) -> None:
    data = {**GOOD, key: value}
    with pytest.raises(ConfigValidationError) as caught:
        validate_check(data)
    (api_issue,) = caught.value.errors
    text = f"services:\n  - name: S\n    checks:\n      - {json.dumps(data)}\n"
    (file_issue,) = errors_of(text)
    assert file_issue.path == f"services[0].checks[0].{api_issue.path}"
    assert file_issue.message.split(" (quote it")[0] == api_issue.message
    assert file_issue.line == 4


def test_adapter_validates_with_an_injected_condition_compiler() -> None:
    seen: list[str] = []

    def compiler(text: str) -> object:
        seen.append(text)
        if "nope" in text:
            raise ConditionSyntaxError(f"invalid condition {text!r}: nope")
        return text

    adapter = check_adapter()
    adapter.validate_python(GOOD, context={"compile_condition": compiler})
    assert seen == ["[STATUS] == 200"]
    with pytest.raises(ValidationError, match="invalid condition 'nope'"):
        adapter.validate_python(
            {**GOOD, "conditions": ["nope"]}, context={"compile_condition": compiler}
        )


def test_union_type_serves_as_a_request_body_type_with_a_json_schema() -> None:
    schema = TypeAdapter(check_config_type()).json_schema()
    assert set(schema["discriminator"]["mapping"]) == set(CHECK_TYPES)
    http = schema["$defs"]["HttpCheckConfig"]
    assert {"url", "name", "interval"} <= set(http["properties"])
    assert http["additionalProperties"] is False


class _PingParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    host: str
    count: int = 1


def test_any_registry_can_be_injected() -> None:
    registry = {"ping": _PingParams}
    spec = validate_check({"name": "gw", "type": "ping", "host": "10.0.0.1"}, registry=registry)
    assert spec.model_dump(exclude=set(COMMON_CHECK_FIELDS)) == {"host": "10.0.0.1", "count": 1}
    with pytest.raises(ConfigValidationError) as caught:
        validate_check({"name": "gw", "type": "http"}, registry=registry)
    assert caught.value.errors[0].message == 'unknown check type "http" (known types: ping)'


def test_fake_registry_drives_the_file_loader_too() -> None:
    text = "services:\n  - name: S\n    checks:\n      - {name: a, type: dns, query: x.test}\n"
    config = load_config_text(text, environ={}, registry=FAKE_REGISTRY)
    assert config.checks[0].params == {
        "query": "x.test",
        "record_type": "A",
        "server": None,
        "port": 53,
    }


def test_params_model_that_redefines_a_common_field_is_refused_at_build_time() -> None:
    class Clashing(BaseModel):
        model_config = ConfigDict(extra="forbid")
        timeout: int = 3

    with pytest.raises(TypeError, match="redefines common check fields: timeout"):
        check_models({"clash": Clashing})


def test_real_registry_params_never_clash_with_common_fields() -> None:
    models = check_models()
    assert set(models) >= {"http", "json", "dns"}
