"""Conditions a check type can never observe are refused wherever a check is written: a dns
check reading ``[STATUS]`` would otherwise be "valid" and then down on every run."""

from __future__ import annotations

from typing import Any

import pytest

from nyxmon.checktypes import CHECK_TYPES
from nyxmon.config import ConfigValidationError, load_config_text, validate_check
from nyxmon.domain.conditions import PLACEHOLDERS

from .conftest import errors_of

DNS = {"name": "apex", "type": "dns", "query_name": "example.test"}
JSON = {"name": "health", "type": "json", "url": "http://127.0.0.1:9/health"}


def test_every_type_observes_only_placeholders_the_language_knows() -> None:
    for check_type in CHECK_TYPES.values():
        assert check_type.observes <= set(PLACEHOLDERS), check_type.name


def test_a_dns_check_reading_the_http_status_is_refused_in_the_file_with_line_and_type() -> None:
    text = (
        "services:\n"
        "  - name: DNS\n"
        "    checks:\n"
        "      - {name: fine, type: dns, query_name: a.test, conditions: ['[IP] == 10.0.0.1']}\n"
        "      - name: apex\n"
        "        type: dns\n"
        "        query_name: example.test\n"
        "        conditions:\n"
        "          - '[RESPONSE_TIME] < 500'\n"
        "          - '[STATUS] == 200'\n"
    )
    (issue,) = errors_of(text)
    assert (issue.line, issue.path) == (10, "services[0].checks[1].conditions[1]")
    assert issue.message == (
        "[STATUS] is never observed by dns checks (they observe [ANSWERS], [CONNECTED], "
        "[DNS_RCODE], [IP], [IPS], [RESPONSE_TIME])"
    )


@pytest.mark.parametrize(
    ("check", "condition", "named"),
    [
        pytest.param(DNS, "[BODY].status == UP", "[BODY]", id="dns-body"),
        pytest.param(DNS, "[CERTIFICATE_EXPIRATION] > 7d", "[CERTIFICATE_EXPIRATION]", id="cert"),
        pytest.param(JSON, "[DNS_RCODE] == NOERROR", "[DNS_RCODE]", id="json-rcode"),
        pytest.param(JSON, "len([ANSWERS]) > 0", "[ANSWERS]", id="inside-a-function"),
        pytest.param(JSON, "any([DNS_RCODE], NOERROR, NXDOMAIN)", "[DNS_RCODE]", id="any-form"),
    ],
)
def test_the_api_form_and_cli_validation_names_the_placeholder_and_the_type(
    check: dict[str, Any], condition: str, named: str
) -> None:
    with pytest.raises(ConfigValidationError) as caught:
        validate_check({**check, "conditions": ["[CONNECTED] == true", condition]})
    (issue,) = caught.value.errors
    assert issue.path == "conditions[1]"
    assert issue.message.startswith(f"{named} is never observed by {check['type']} checks")


def test_several_unseen_placeholders_are_named_together() -> None:
    with pytest.raises(ConfigValidationError) as caught:
        validate_check({**DNS, "conditions": ["[STATUS] == [BODY_SIZE]"]})
    assert caught.value.errors[0].message.startswith(
        "[BODY_SIZE], [STATUS] are never observed by dns checks"
    )


@pytest.mark.parametrize(
    ("check", "condition"),
    [
        pytest.param(DNS, "[IPS] == pat(10.*)", id="dns-ips"),
        pytest.param(DNS, "[RESPONSE_TIME] < 200", id="dns-response-time"),
        pytest.param(JSON, "[BODY].status == UP", id="json-body"),
        pytest.param(JSON, "[HEADERS].content-type == pat(*json*)", id="json-header"),
        pytest.param(
            {"name": "home", "type": "http", "url": "https://x.test/"},
            "[CERTIFICATE_EXPIRATION] > 7d",
            id="http-cert",
        ),
    ],
)
def test_conditions_a_type_observes_still_pass(check: dict[str, Any], condition: str) -> None:
    assert validate_check({**check, "conditions": [condition]}).conditions == [condition]


def test_a_type_outside_the_declared_ones_is_not_judged() -> None:
    from .conftest import FAKE_REGISTRY

    text = (
        "services:\n  - name: S\n    checks:\n"
        "      - {name: a, type: dns, query: x.test, conditions: ['[RESPONSE_TIME] < 9']}\n"
    )
    assert load_config_text(text, environ={}, registry=FAKE_REGISTRY).checks[0].conditions
