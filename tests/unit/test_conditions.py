"""The condition language: placeholders, functions, operators and what failures say."""

from __future__ import annotations

import json
from typing import Any

import pytest

from nyxmon.domain.conditions import (
    Condition,
    ConditionOutcome,
    Observation,
    compile_condition,
    evaluate_all,
)


def body(document: Any) -> bytes:
    return json.dumps(document).encode()


def check(text: str, observation: Observation) -> ConditionOutcome:
    return compile_condition(text).evaluate(observation)


API = Observation(
    status=200,
    body=body(
        {
            "status": "UP",
            "count": 3,
            "ratio": 0.25,
            "enabled": True,
            "nothing": None,
            "name": "",
            "data": [{"id": 1, "tags": ["a", "b"]}, {"id": 2, "tags": []}],
            "nested": {"deep": {"value": "x"}},
            "errors": [],
            "id-with-dash": 7,
        }
    ),
    headers={"Content-Type": "application/json; charset=utf-8", "X-Request-Id": "abc"},
    response_time_ms=123.9,
    connected=True,
    certificate_expiration=3 * 86_400.0,
    ips=("127.0.0.1", "127.0.0.2"),
)


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        pytest.param("[STATUS] == 200", True, id="status-eq"),
        pytest.param("[STATUS] != 200", False, id="status-ne"),
        pytest.param("[STATUS] < 300", True, id="status-lt"),
        pytest.param("[STATUS] <= 200", True, id="status-le"),
        pytest.param("[STATUS] > 200", False, id="status-gt"),
        pytest.param("[STATUS] >= 201", False, id="status-ge"),
        pytest.param("[status] == 200", True, id="placeholder-case-insensitive"),
        pytest.param("200 == [STATUS]", True, id="constant-on-the-left"),
        pytest.param("[STATUS]==200", True, id="no-spaces"),
        pytest.param("[BODY].status == UP", True, id="json-string"),
        pytest.param("[BODY].status == DOWN", False, id="json-string-differs"),
        pytest.param("[BODY].count == 3", True, id="json-int"),
        pytest.param("[BODY].count == 3.0", True, id="json-int-vs-float"),
        pytest.param("[BODY].ratio < 0.5", True, id="json-float-lt"),
        pytest.param("[BODY].enabled == true", True, id="json-bool"),
        pytest.param("[BODY].enabled == TRUE", True, id="json-bool-any-case"),
        pytest.param("[BODY].nothing == null", True, id="json-null"),
        pytest.param("[BODY].name == ''", True, id="json-empty-string-quoted"),
        pytest.param("[BODY].data[0].id == 1", True, id="array-index"),
        pytest.param("[BODY].data[1].id == 2", True, id="array-second"),
        pytest.param("[BODY].data[-1].id == 2", True, id="array-negative-index"),
        pytest.param("[BODY].data[0].tags[1] == b", True, id="nested-array"),
        pytest.param("[BODY].nested.deep.value == x", True, id="nested-object"),
        pytest.param("[BODY].id-with-dash == 7", True, id="key-with-dash"),
        pytest.param("len([BODY].data) == 2", True, id="len-array"),
        pytest.param("len([BODY].data) > 0", True, id="len-gt"),
        pytest.param("len([BODY].status) == 2", True, id="len-string"),
        # Gatus counts an object's compact JSON, {"deep":{"value":"x"}}, and a body's characters
        pytest.param("len([BODY].nested) == 22", True, id="len-object"),
        pytest.param("len([BODY].errors) == 0", True, id="len-empty"),
        pytest.param("len([BODY]) == 222", True, id="len-json-root-object"),
        pytest.param("has([BODY].errors) == true", True, id="has-present"),
        pytest.param("has([BODY].missing) == false", True, id="has-absent"),
        pytest.param("has([BODY].nothing) == false", True, id="has-null-is-absent"),
        pytest.param("has([BODY].missing)", False, id="has-whole-condition"),
        pytest.param('[BODY] == pat(*"UP"*)', True, id="pat-body"),
        pytest.param("[BODY] == pat(*DOWN*)", False, id="pat-body-miss"),
        pytest.param("[BODY] != pat(*DOWN*)", True, id="pat-ne"),
        pytest.param("[BODY].status == pat(U?)", True, id="pat-question-mark"),
        pytest.param("[BODY].status == pat(u?)", False, id="pat-case-sensitive"),
        pytest.param("[IP] == pat(127.0.*)", True, id="pat-ip"),
        pytest.param("[IP] == pat(127.1.*)", False, id="pat-dot-literal"),
        pytest.param("pat(UP) == [BODY].status", True, id="pat-on-the-left"),
        pytest.param("[STATUS] == any(200, 201)", True, id="any-gatus-form"),
        pytest.param("[STATUS] == any(500, 503)", False, id="any-gatus-form-miss"),
        pytest.param("[STATUS] != any(500, 503)", True, id="any-ne"),
        pytest.param("any([STATUS], 200, 201)", True, id="any-whole-condition"),
        pytest.param("any([STATUS], 404)", False, id="any-whole-condition-miss"),
        pytest.param("any([BODY].status, DOWN, UP)", True, id="any-json-string"),
        pytest.param("[RESPONSE_TIME] < 300", True, id="response-time"),
        pytest.param("[RESPONSE_TIME] < 100", False, id="response-time-slow"),
        pytest.param("[RESPONSE_TIME] < 1s", True, id="response-time-duration"),
        pytest.param("[RESPONSE_TIME] == 123", True, id="response-time-whole-ms"),
        pytest.param("[CONNECTED] == true", True, id="connected"),
        pytest.param("[CONNECTED] == false", False, id="connected-false"),
        pytest.param("[CERTIFICATE_EXPIRATION] > 48h", True, id="cert-hours"),
        pytest.param("[CERTIFICATE_EXPIRATION] > 7d", False, id="cert-days"),
        pytest.param("[CERTIFICATE_EXPIRATION] > 1d12h30m", True, id="cert-compound"),
        pytest.param("[CERTIFICATE_EXPIRATION] > 90s", True, id="cert-seconds"),
        pytest.param("[CERTIFICATE_EXPIRATION] < 259200001", True, id="cert-raw-ms"),
        pytest.param("[IP] == 127.0.0.1", True, id="ip-first"),
        pytest.param("len([IPS]) == 2", True, id="ips-len"),
        pytest.param("[BODY_SIZE] > 100", True, id="body-size"),
        pytest.param("[HEADERS].content-type == pat(application/json*)", True, id="header"),
        pytest.param("[HEADERS].X-REQUEST-ID == abc", True, id="header-any-case"),
        pytest.param("has([HEADERS].x-missing) == false", True, id="header-absent"),
    ],
)
def test_condition_holds_or_not_against_a_json_api_observation(text: str, ok: bool) -> None:
    outcome = check(text, API)
    assert outcome.ok is ok, outcome.description
    assert outcome.condition == text


def test_dns_placeholders_read_rcode_addresses_and_answers() -> None:
    observation = Observation(
        dns_rcode="NOERROR", ips=("192.0.2.1",), answers=("10 mail.example.test.",)
    )
    assert check("[DNS_RCODE] == NOERROR", observation).ok
    assert not check("[DNS_RCODE] == NXDOMAIN", observation).ok
    assert check("[IP] == 192.0.2.1", observation).ok
    assert check("[ANSWERS] == pat(*mail.example.test.*)", observation).ok
    assert check("len([ANSWERS]) == 1", observation).ok


def test_failed_condition_shows_the_actual_value_like_gatus() -> None:
    outcome = check("[STATUS] == 200", Observation(status=503))
    assert outcome == ConditionOutcome("[STATUS] == 200", False, "[STATUS] (503) == 200")


def test_description_fills_in_both_sides_when_both_are_placeholders() -> None:
    outcome = check("[BODY].count < [BODY].data[0].id", API)
    assert not outcome.ok
    assert outcome.description == "[BODY].count (3) < [BODY].data[0].id (1)"


def test_any_whole_condition_description_names_the_actual_value() -> None:
    outcome = check("any([STATUS], 200, 201)", Observation(status=418))
    assert outcome.description == "any([STATUS] (418), 200, 201)"


def test_certificate_expiration_is_shown_as_a_duration_and_the_days_left() -> None:
    outcome = check("[CERTIFICATE_EXPIRATION] > 7d", API)
    assert outcome.description == "[CERTIFICATE_EXPIRATION] (3d, 3.0 days left) > 7d"


@pytest.mark.parametrize(
    ("seconds_left", "shown"),
    [
        pytest.param(9.99 * 86_400, "(9d23h45m36s, 9.9 days left)", id="rounded-down"),
        pytest.param(3_600, "(1h, less than a day left)", id="hours"),
        pytest.param(-3_600, "(-1h, expired less than a day ago)", id="just-expired"),
        pytest.param(-2.5 * 86_400, "(-2d12h, expired 2.5 days ago)", id="expired"),
    ],
)
def test_a_failed_certificate_condition_says_how_many_days_are_left(
    seconds_left: float, shown: str
) -> None:
    outcome = check(
        "[CERTIFICATE_EXPIRATION] > 14d", Observation(certificate_expiration=seconds_left)
    )
    assert not outcome.ok
    assert outcome.description == f"[CERTIFICATE_EXPIRATION] {shown} > 14d"


def test_long_body_is_truncated_in_the_description() -> None:
    observation = Observation(status=200, body=b"x" * 10_000)
    outcome = check("[BODY] == pat(*ok*)", observation)
    assert not outcome.ok
    assert "(truncated)" in outcome.description
    assert len(outcome.description) < 120


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        pytest.param("[BODY].missing == 1", '[BODY] has no key "missing"', id="missing-key"),
        pytest.param(
            "[BODY].nested.nope.deeper == 1",
            '[BODY].nested has no key "nope"',
            id="missing-nested-key",
        ),
        pytest.param("[BODY].data[9].id == 1", "[BODY].data has 2 items, no index 9", id="index"),
        pytest.param("[BODY].status.x == 1", "[BODY].status is not an object", id="into-string"),
        pytest.param("[BODY].nested[0] == 1", "[BODY].nested is not an array", id="index-object"),
        pytest.param("[HEADERS].x-nope == 1", 'no header "x-nope"', id="missing-header"),
        pytest.param("[DNS_RCODE] == NOERROR", "not observed by this probe", id="not-observed"),
    ],
)
def test_missing_values_fail_with_the_reason_as_the_actual_value(text: str, reason: str) -> None:
    outcome = check(text, API)
    assert not outcome.ok
    assert f"(missing: {reason})" in outcome.description


@pytest.mark.parametrize("operator", ["==", "!=", "<", "<=", ">", ">="])
def test_every_operator_fails_on_a_missing_value(operator: str) -> None:
    outcome = check(f"[BODY].missing {operator} 1", API)
    assert not outcome.ok


def test_body_that_is_not_json_fails_json_conditions_and_says_so() -> None:
    observation = Observation(status=200, body=b"<html>ok</html>")
    outcome = check("[BODY].status == UP", observation)
    assert not outcome.ok
    assert "body is not valid JSON" in outcome.description
    assert check("[BODY] == pat(*ok*)", observation).ok
    assert check("len([BODY]) == 15", observation).ok


def test_observation_without_body_fails_body_conditions() -> None:
    observation = Observation(status=204)
    assert not check("[BODY] == pat(*)", observation).ok
    assert "missing: no body" in check("[BODY].a == 1", observation).description
    assert not check("has([BODY])", observation).ok


def test_ordering_a_non_number_fails_and_says_it_is_not_a_number() -> None:
    outcome = check("[BODY].status > 3", API)
    assert not outcome.ok
    assert outcome.description == "[BODY].status (UP: not a number) > 3"


def test_json_string_that_reads_as_a_number_compares_numerically() -> None:
    observation = Observation(body=body({"version": "010"}))
    assert check("[BODY].version == 10", observation).ok
    assert check("[BODY].version > 9", observation).ok


def test_quoted_constant_may_contain_an_operator() -> None:
    observation = Observation(body=body({"expr": "a < b"}))
    assert check('[BODY].expr == "a < b"', observation).ok


def test_constant_with_spaces_compares_as_written() -> None:
    observation = Observation(body=body({"message": "all systems go"}))
    assert check("[BODY].message == all systems go", observation).ok


def test_header_value_with_an_equals_sign_is_a_plain_constant() -> None:
    observation = Observation(headers={"content-type": "text/html; charset=utf-8"})
    assert check("[HEADERS].content-type == text/html; charset=utf-8", observation).ok


def test_evaluate_all_keeps_order_and_reports_each_condition() -> None:
    conditions = [compile_condition(t) for t in ("[STATUS] == 200", "[BODY].count > 5")]
    outcomes = evaluate_all(conditions, API)
    assert [o.ok for o in outcomes] == [True, False]
    assert [o.condition for o in outcomes] == ["[STATUS] == 200", "[BODY].count > 5"]


def test_compiled_condition_is_reusable_across_observations() -> None:
    condition = compile_condition("[STATUS] < 400")
    assert [condition.evaluate(Observation(status=s)).ok for s in (200, 399, 400, 500)] == [
        True,
        True,
        False,
        False,
    ]


def test_condition_is_frozen_and_compares_by_text() -> None:
    condition = compile_condition("[STATUS] == 200")
    assert condition == compile_condition("  [STATUS] == 200  ")
    assert condition.text == "[STATUS] == 200"
    with pytest.raises(AttributeError):
        condition.text = "other"  # type: ignore[misc]


def test_condition_names_the_placeholders_it_reads() -> None:
    condition: Condition = compile_condition("len([BODY].items) > [STATUS]")
    assert condition.placeholders == frozenset({"BODY", "STATUS"})
    assert condition.uses("BODY")
    assert not condition.uses("HEADERS")


def test_body_is_parsed_once_however_many_conditions_read_it() -> None:
    observation = Observation(body=body({"a": 1}))
    first = observation.json()
    for _ in range(3):
        assert check("[BODY].a == 1", observation).ok
    assert observation.json() is first
