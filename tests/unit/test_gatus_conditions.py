"""Gatus's own condition tests (``config/endpoint/condition_test.go``: ``TestCondition_Validate``
and ``TestCondition_evaluate``), case by case, against NyxMon's condition language.

Each row is Gatus's: its name, the condition, the result it is evaluated against and what Gatus
expects. Where NyxMon deliberately differs, :data:`DIFFERENCES` says what NyxMon does instead and
names the row of the README's table "Where NyxMon's conditions differ from Gatus's" that explains
why; a test checks each such row exists. Gatus's ``Result`` fields map to :class:`Observation`:
``HTTPStatus`` -> ``status``, ``Body`` -> ``body``, ``Duration`` -> ``response_time_ms``,
``Connected``, ``CertificateExpiration`` (seconds), ``IP`` -> ``ips``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from nyxmon.domain.conditions import Observation, compile_condition
from nyxmon.errors import ConditionSyntaxError

README = Path(__file__).resolve().parents[2] / "README.md"
REFUSED = "refused"


def _page(user: str) -> str:
    """The HTML page of Gatus's pat-body-html cases, with ``user.doe`` in the div."""
    return (
        '<!DOCTYPE html><html lang="en"><head><meta http-equiv="Content-Type" '
        'content="text/html; charset=UTF-8" /></head><body>'
        f'<div id="user">{user}.doe</div></body></html>'
    )


ARTICLE = (
    '{\n  "article": {\n    "id": 123,\n    "title": "Hello, world!"'
    ',\n    "author": "John Doe",\n    "tags": ["hello", "world"],\n'
    '    "content": "I really like Gatus!"\n  }\n}'
)

#: TestCondition_evaluate: (name, condition, result, Gatus's expected success).
EVALUATE: list[tuple[str, str, dict[str, Any], bool]] = [
    ("ip", "[IP] == 127.0.0.1", {"ips": ("127.0.0.1",)}, True),
    ("status", "[STATUS] == 200", {"status": 200}, True),
    ("status-failure", "[STATUS] == 200", {"status": 500}, False),
    ("status-using-less-than", "[STATUS] < 300", {"status": 201}, True),
    ("status-using-less-than-failure", "[STATUS] < 300", {"status": 404}, False),
    ("response-time-using-less-than", "[RESPONSE_TIME] < 500", {"response_time_ms": 50.0}, True),
    (
        "response-time-using-less-than-with-duration",
        "[RESPONSE_TIME] < 1s",
        {"response_time_ms": 50.0},
        True,
    ),
    (
        "response-time-using-less-than-invalid",
        "[RESPONSE_TIME] < potato",
        {"response_time_ms": 50.0},
        False,
    ),
    (
        "response-time-using-greater-than",
        "[RESPONSE_TIME] > 500",
        {"response_time_ms": 750.0},
        True,
    ),
    (
        "response-time-using-greater-than-with-duration",
        "[RESPONSE_TIME] > 1s",
        {"response_time_ms": 2000.0},
        True,
    ),
    (
        "response-time-using-greater-than-or-equal-to-equal",
        "[RESPONSE_TIME] >= 500",
        {"response_time_ms": 500.0},
        True,
    ),
    (
        "response-time-using-greater-than-or-equal-to-greater",
        "[RESPONSE_TIME] >= 500",
        {"response_time_ms": 499.0},
        False,
    ),
    (
        "response-time-using-greater-than-or-equal-to-failure",
        "[RESPONSE_TIME] >= 500",
        {"response_time_ms": 499.0},
        False,
    ),
    (
        "response-time-using-less-than-or-equal-to-equal",
        "[RESPONSE_TIME] <= 500",
        {"response_time_ms": 500.0},
        True,
    ),
    (
        "response-time-using-less-than-or-equal-to-less",
        "[RESPONSE_TIME] <= 500",
        {"response_time_ms": 25.0},
        True,
    ),
    (
        "response-time-using-less-than-or-equal-to-failure",
        "[RESPONSE_TIME] <= 500",
        {"response_time_ms": 750.0},
        False,
    ),
    ("body", "[BODY] == test", {"body": "test"}, True),
    ("body-resolved-on-success", "[BODY].status == UP", {"body": '{"status":"UP"}'}, True),
    ("body-numerical-equal", "[BODY] == 123", {"body": "123"}, True),
    ("body-numerical-less-than", "[BODY] < 124", {"body": "123"}, True),
    ("body-numerical-greater-than", "[BODY] > 122", {"body": "123"}, True),
    ("body-numerical-greater-than-failure", "[BODY] > 123", {"body": "100"}, False),
    ("body-jsonpath", "[BODY].status == UP", {"body": '{"status":"UP"}'}, True),
    (
        "body-jsonpath-complex",
        "[BODY].data.name == john",
        {"body": '{"data": {"id": 1, "name": "john"}}'},
        True,
    ),
    (
        "body-jsonpath-complex-invalid",
        "[BODY].data.name == john",
        {"body": '{"data": {"id": 1}}'},
        False,
    ),
    (
        "body-jsonpath-complex-len-invalid",
        "len([BODY].data.name) == john",
        {"body": '{"data": {"id": 1}}'},
        False,
    ),
    (
        "body-jsonpath-double-placeholder",
        "[BODY].user.firstName != [BODY].user.lastName",
        {"body": '{"user": {"firstName": "john", "lastName": "doe"}}'},
        True,
    ),
    (
        "body-jsonpath-double-placeholder-failure",
        "[BODY].user.firstName == [BODY].user.lastName",
        {"body": '{"user": {"firstName": "john", "lastName": "doe"}}'},
        False,
    ),
    (
        "body-jsonpath-when-body-is-array",
        "[BODY][0].id == 1",
        {"body": '[{"id": 1}, {"id": 2}]'},
        True,
    ),
    (
        "body-jsonpath-when-body-has-null-parameter",
        "[BODY].data == OK",
        {"body": '{"data": null}"'},
        False,
    ),
    (
        "body-jsonpath-when-body-has-array-with-null",
        "[BODY].items[0] == OK",
        {"body": '{"items": [null, null]}"'},
        False,
    ),
    ("body-jsonpath-when-body-is-null", "[BODY].data == OK", {"body": "null"}, False),
    (
        "body-jsonpath-when-body-is-array-but-actual-body-is-not",
        "[BODY][0].name == test",
        {"body": '{"statusCode": 500, "message": "Internal Server Error"}'},
        False,
    ),
    ("body-jsonpath-complex-int", "[BODY].data.id == 1", {"body": '{"data": {"id": 1}}'}, True),
    (
        "body-jsonpath-complex-array-int",
        "[BODY].data[1].id == 2",
        {"body": '{"data": [{"id": 1}, {"id": 2}, {"id": 3}]}'},
        True,
    ),
    (
        "body-jsonpath-complex-int-using-greater-than",
        "[BODY].data.id > 0",
        {"body": '{"data": {"id": 1}}'},
        True,
    ),
    (
        "body-jsonpath-hexadecimal-int-using-greater-than",
        "[BODY].data > 0",
        {"body": '{"data": "0x1"}'},
        True,
    ),
    (
        "body-jsonpath-hexadecimal-int-using-equal-to-0x1",
        "[BODY].data == 1",
        {"body": '{"data": "0x1"}'},
        True,
    ),
    (
        "body-jsonpath-hexadecimal-int-using-equals",
        "[BODY].data == 0x1",
        {"body": '{"data": "0x1"}'},
        True,
    ),
    (
        "body-jsonpath-hexadecimal-int-using-equal-to-0x2",
        "[BODY].data == 2",
        {"body": '{"data": "0x2"}'},
        True,
    ),
    (
        "body-jsonpath-hexadecimal-int-using-equal-to-0xF",
        "[BODY].data == 15",
        {"body": '{"data": "0xF"}'},
        True,
    ),
    (
        "body-jsonpath-hexadecimal-int-using-equal-to-0xC0ff33",
        "[BODY].data == 12648243",
        {"body": '{"data": "0xC0ff33"}'},
        True,
    ),
    (
        "body-jsonpath-hexadecimal-int-len",
        "len([BODY].data) == 3",
        {"body": '{"data": "0x1"}'},
        True,
    ),
    (
        "body-jsonpath-hexadecimal-int-greater",
        "[BODY].data >= 1",
        {"body": '{"data": "0x01"}'},
        True,
    ),
    (
        "body-jsonpath-hexadecimal-int-0x01-len",
        "len([BODY].data) == 4",
        {"body": '{"data": "0x01"}'},
        True,
    ),
    (
        "body-jsonpath-octal-int-using-greater-than",
        "[BODY].data > 0",
        {"body": '{"data": "0o1"}'},
        True,
    ),
    ("body-jsonpath-octal-int-using-equal", "[BODY].data == 2", {"body": '{"data": "0o2"}'}, True),
    (
        "body-jsonpath-octal-int-using-equals",
        "[BODY].data == 0o2",
        {"body": '{"data": "0o2"}'},
        True,
    ),
    (
        "body-jsonpath-binary-int-using-greater-than",
        "[BODY].data > 0",
        {"body": '{"data": "0b1"}'},
        True,
    ),
    (
        "body-jsonpath-binary-int-using-equal",
        "[BODY].data == 2",
        {"body": '{"data": "0b0010"}'},
        True,
    ),
    (
        "body-jsonpath-binary-int-using-equals",
        "[BODY].data == 0b10",
        {"body": '{"data": "0b0010"}'},
        True,
    ),
    (
        "body-jsonpath-complex-int-using-greater-than-failure",
        "[BODY].data.id > 5",
        {"body": '{"data": {"id": 1}}'},
        False,
    ),
    (
        "body-jsonpath-float-using-greater-than-issue433",
        "[BODY].balance > 100",
        {"body": '{"balance": "123.40000000000005"}'},
        True,
    ),
    (
        "body-jsonpath-complex-int-using-less-than",
        "[BODY].data.id < 5",
        {"body": '{"data": {"id": 2}}'},
        True,
    ),
    (
        "body-jsonpath-complex-int-using-less-than-failure",
        "[BODY].data.id < 5",
        {"body": '{"data": {"id": 10}}'},
        False,
    ),
    ("connected", "[CONNECTED] == true", {"connected": True}, True),
    ("connected-failure", "[CONNECTED] == true", {"connected": False}, False),
    ("certificate-expiration-not-set", "[CERTIFICATE_EXPIRATION] == 0", {}, True),
    (
        "certificate-expiration-greater-than-numerical",
        "[CERTIFICATE_EXPIRATION] > 2419200000",
        {"certificate_expiration": 5184000.0},
        True,
    ),
    (
        "certificate-expiration-greater-than-numerical-failure",
        "[CERTIFICATE_EXPIRATION] > 2419200000",
        {"certificate_expiration": 1209600.0},
        False,
    ),
    (
        "certificate-expiration-greater-than-duration",
        "[CERTIFICATE_EXPIRATION] > 12h",
        {"certificate_expiration": 86400.0},
        True,
    ),
    (
        "certificate-expiration-greater-than-duration",
        "[CERTIFICATE_EXPIRATION] > 48h",
        {"certificate_expiration": 86400.0},
        False,
    ),
    ("no-placeholders", "1 == 2", {}, False),
    (
        "len-body-jsonpath-complex",
        "len([BODY].data.name) == 4",
        {"body": '{"data": {"name": "john"}}'},
        True,
    ),
    ("len-body-array", "len([BODY]) == 3", {"body": '[{"id": 1}, {"id": 2}, {"id": 3}]'}, True),
    (
        "len-body-keyed-array",
        "len([BODY].data) == 3",
        {"body": '{"data": [{"id": 1}, {"id": 2}, {"id": 3}]}'},
        True,
    ),
    ("len-body-array-invalid", "len([BODY].data) == 8", {"body": '{"name": "john.doe"}'}, False),
    ("len-body-string", "len([BODY]) == 8", {"body": "john.doe"}, True),
    ("len-body-keyed-string", "len([BODY].name) == 8", {"body": '{"name": "john.doe"}'}, True),
    ("len-body-keyed-int", "len([BODY].age) == 2", {"body": '{"age":18}'}, True),
    ("len-body-keyed-bool", "len([BODY].adult) == 4", {"body": '{"adult":true}'}, True),
    (
        "len-body-object-inside-array",
        "len([BODY][0]) == 23",
        {"body": '[{"age":18,"adult":true}]'},
        True,
    ),
    (
        "len-body-object-keyed-int-inside-array",
        "len([BODY][0].age) == 2",
        {"body": '[{"age":18,"adult":true}]'},
        True,
    ),
    (
        "len-body-keyed-bool-inside-array",
        "len([BODY][0].adult) == 4",
        {"body": '[{"age":18,"adult":true}]'},
        True,
    ),
    ("len-body-object", "len([BODY]) == 20", {"body": '{"name": "john.doe"}'}, True),
    ("pat-body-1", "[BODY] == pat(*john*)", {"body": '{"name": "john.doe"}'}, True),
    ("pat-body-2", "[BODY].name == pat(john*)", {"body": '{"name": "john.doe"}'}, True),
    ("pat-body-failure", "[BODY].name == pat(bob*)", {"body": '{"name": "john.doe"}'}, False),
    (
        "pat-body-html",
        '[BODY] == pat(*<div id="user">john.doe</div>*)',
        {"body": _page("john")},
        True,
    ),
    (
        "pat-body-html-failure",
        '[BODY] == pat(*<div id="user">john.doe</div>*)',
        {"body": _page("jane")},
        False,
    ),
    (
        "pat-body-html-failure-alt",
        'pat(*<div id="user">john.doe</div>*) == [BODY]',
        {"body": _page("jane")},
        False,
    ),
    (
        "pat-body-in-array",
        "[BODY].data == pat(*Whatever*)",
        {"body": '{"data": ["hello", "world", "Whatever"]}'},
        True,
    ),
    ("pat-ip", "[IP] == pat(10.*)", {"ips": ("10.0.0.0",)}, True),
    ("pat-ip-failure", "[IP] == pat(10.*)", {"ips": ("255.255.255.255",)}, False),
    ("pat-status", "[STATUS] == pat(4*)", {"status": 404}, True),
    ("pat-status-failure", "[STATUS] == pat(4*)", {"status": 200}, False),
    (
        "any-body-1",
        "[BODY].name == any(john.doe, jane.doe)",
        {"body": '{"name": "john.doe"}'},
        True,
    ),
    (
        "any-body-2",
        "[BODY].name == any(john.doe, jane.doe)",
        {"body": '{"name": "jane.doe"}'},
        True,
    ),
    (
        "any-body-failure",
        "[BODY].name == any(john.doe, jane.doe)",
        {"body": '{"name": "bob"}'},
        False,
    ),
    ("any-status-1", "[STATUS] == any(200, 429)", {"status": 200}, True),
    ("any-status-2", "[STATUS] == any(200, 429)", {"status": 429}, True),
    ("any-status-reverse", "any(200, 429) == [STATUS]", {"status": 429}, True),
    ("any-status-failure", "[STATUS] == any(200, 429)", {"status": 404}, False),
    ("any-status-failure-but-dont-resolve", "[STATUS] == any(200, 429)", {"status": 404}, False),
    ("has", "has([BODY].errors) == false", {"body": "{}"}, True),
    (
        "has-key-of-map",
        "has([BODY].article) == true",
        {"body": ARTICLE},
        True,
    ),
    ("has-failure", "has([BODY].errors) == false", {"body": '{"errors": ["1"]}'}, False),
    (
        "has-failure-but-dont-resolve",
        "has([BODY].errors) == false",
        {"body": '{"errors": ["1"]}'},
        False,
    ),
]

#: TestCondition_Validate: (condition, valid for Gatus). The last row is in Gatus's file as a
#: commented-out FIXME ("should return an error, but doesn't").
VALIDATE: list[tuple[str, bool]] = [
    ("[STATUS] == 200", True),
    ("[STATUS] != 200", True),
    ("[STATUS] <= 200", True),
    ("[STATUS] >= 200", True),
    ("[STATUS] < 200", True),
    ("[STATUS] > 200", True),
    ("[STATUS] == any(200, 201, 202, 203)", True),
    ("[STATUS] == [BODY].status", True),
    ("[CONNECTED] == true", True),
    ("[RESPONSE_TIME] < 500", True),
    ("[IP] == 127.0.0.1", True),
    ("[BODY] == 1", True),
    ("[BODY].test == wat", True),
    ("[BODY].test.wat == wat", True),
    ("[BODY].age == [BODY].id", True),
    ("[BODY].users[0].id == 1", True),
    ("len([BODY].users) == 100", True),
    ("len([BODY].data) < 5", True),
    ("has([BODY].errors) == false", True),
    ("has([BODY].users[0].name) == true", True),
    ("[BODY].name == pat(john*)", True),
    ("[CERTIFICATE_EXPIRATION] > 48h", True),
    ("[DOMAIN_EXPIRATION] > 720h", True),
    ("raw == raw", True),
    ("[STATUS] ? 201", False),
    ("[STATUS]==201", False),
    ("[STATUS] = = 201", False),
    ("[STATUS] ==", False),
    ("[STATUS]", False),
    ("len([BODY].users == 100", True),
]

#: Where NyxMon differs on purpose: Gatus's row -> (what NyxMon does, the README row).
DIFFERENCES: dict[str, tuple[bool | str, str]] = {
    # evaluate rows, by name
    "response-time-using-less-than-invalid": (REFUSED, "ordering a non-number"),
    "certificate-expiration-not-set": (False, "a value the probe did not observe"),
    "no-placeholders": (REFUSED, "constants on both sides"),
    # validate rows, by condition
    "raw == raw": (REFUSED, "constants on both sides"),
    "[STATUS]==201": (True, "operators without spaces"),
    "len([BODY].users == 100": (REFUSED, "unbalanced parentheses"),
}


def nyxmon_outcome(condition: str, result: dict[str, Any]) -> bool | str:
    try:
        compiled = compile_condition(condition)
    except ConditionSyntaxError:
        return REFUSED
    fields = dict(result)
    if "body" in fields:
        fields["body"] = fields["body"].encode()
    return compiled.evaluate(Observation(**fields)).ok


@pytest.mark.parametrize(
    ("condition", "result", "gatus"),
    [pytest.param(c, r, ok, id=name) for name, c, r, ok in EVALUATE],
)
def test_gatus_evaluate_cases(
    request: pytest.FixtureRequest, condition: str, result: dict[str, Any], gatus: bool
) -> None:
    name = request.node.callspec.id
    expected = DIFFERENCES[name][0] if name in DIFFERENCES else gatus
    assert nyxmon_outcome(condition, result) == expected


@pytest.mark.parametrize(("condition", "gatus_valid"), VALIDATE)
def test_gatus_validate_cases(condition: str, gatus_valid: bool) -> None:
    try:
        compile_condition(condition)
        valid = True
    except ConditionSyntaxError:
        valid = False
    if condition in DIFFERENCES:
        assert valid is (DIFFERENCES[condition][0] is True)
    else:
        assert valid is gatus_valid


def test_every_difference_is_a_row_of_the_readme_table() -> None:
    text = README.read_text(encoding="utf-8")
    start = text.index("### Where NyxMon's conditions differ from Gatus's")
    table = text[start : text.index("\n#", start + 10)]
    rows = {m.group(1).strip() for m in re.finditer(r"^\| ([^|]+) \|", table, re.MULTILINE)}
    for name, (_, row) in DIFFERENCES.items():
        assert row in rows, f"{name}: README has no row {row!r}"


@pytest.mark.parametrize(
    ("condition", "body", "ok"),
    [
        pytest.param("[BODY].v == 0x1F", '{"v": 31}', True, id="hex-literal"),
        pytest.param("[BODY].v == 31", '{"v": "0x1f"}', True, id="hex-value"),
        pytest.param("[BODY].v == 15", '{"v": "0o17"}', True, id="octal"),
        pytest.param("[BODY].v == 5", '{"v": "0b101"}', True, id="binary"),
        pytest.param("[BODY].v > 0b100", '{"v": 5}', True, id="binary-ordering"),
        pytest.param("[BODY].v == 1_000", '{"v": 1000}', True, id="digit-groups"),
        pytest.param("[BODY].v == 0x1G", '{"v": "0x1G"}', True, id="not-hex-is-text"),
        pytest.param("[BODY].v == 17", '{"v": "017"}', True, id="leading-zero-decimal"),
        pytest.param("[BODY] == pat(HTTP/1.[01] 200*)", "HTTP/1.1 200 OK", True, id="class"),
        pytest.param("[BODY] == pat(v[0-9].[0-9]*)", "v2.14.0", True, id="class-range"),
        pytest.param("[BODY] == pat(v[0-9].[0-9]*)", "vX.14.0", False, id="class-range-miss"),
        pytest.param("[BODY] == pat([^e]*)", "error", False, id="class-negated"),
        pytest.param("[BODY] == pat(*\\**)", "a*b", True, id="escaped-star"),
        pytest.param("[BODY] == pat(*\\**)", "ab", False, id="escaped-star-miss"),
        pytest.param("[BODY] == pat(*[*]*)", "a*b", True, id="star-in-class"),
        pytest.param("[BODY] == pat(a/b)", "ab", True, id="slashes-removed-like-gatus"),
        pytest.param("len([BODY]) == 3", "[1, 2, 3]", True, id="len-array-body"),
        pytest.param("len([BODY]) == 12", '{"a": [1,2]}', True, id="len-object-body-chars"),
        pytest.param("len([BODY]) == 5", "hello", True, id="len-text-body"),
        pytest.param("len([BODY].o) == 15", '{"o": {"b": 1, "a": [2]}}', True, id="len-object"),
        pytest.param("len([BODY].n) == 0", '{"n": null}', False, id="len-null"),
        pytest.param("has([BODY].n) == false", '{"n": null}', True, id="has-null"),
    ],
)
def test_gatus_numbers_patterns_and_lengths(condition: str, body: str, ok: bool) -> None:
    observation = Observation(body=body.encode())
    assert compile_condition(condition).evaluate(observation).ok is ok


@pytest.mark.parametrize(
    ("glob", "why"),
    [
        ('"[ab"', "'[' is never closed"),
        ("[]", "']' must be escaped"),
        ("abc\\", "escapes nothing"),
    ],
)
def test_a_pattern_go_would_refuse_is_refused_when_compiled(glob: str, why: str) -> None:
    with pytest.raises(ConditionSyntaxError, match=re.escape(why)):
        compile_condition(f"[BODY] == pat({glob})")
