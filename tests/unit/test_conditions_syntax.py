"""Malformed conditions are refused at compile time with a message that says what and where."""

from __future__ import annotations

import pytest

from nyxmon.domain.conditions import compile_condition
from nyxmon.errors import ConditionSyntaxError, ConfigError


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param("", "the condition is empty", id="empty"),
        pytest.param("   ", "the condition is empty", id="blank"),
        pytest.param("[STATUS] 200", "no comparison operator", id="no-operator"),
        pytest.param(
            "[STATUS] = 200", "a single '=' does not compare; use '==' (column 10)", id="="
        ),
        pytest.param("[STATUS] => 200", "unknown operator '=>'", id="arrow"),
        pytest.param("[STATUS] === 200", "unknown operator '==='", id="triple-equals"),
        pytest.param("[STATUS] <> 200", "unknown operator '<>'", id="sql-not-equal"),
        pytest.param("[STATS] == 200", "unknown placeholder [STATS]; known: [STATUS]", id="typo"),
        pytest.param("[] == 200", "'[]' is not a placeholder", id="empty-brackets"),
        pytest.param("[STATUS == 200", "'[' is never closed (column 1)", id="unclosed-bracket"),
        pytest.param("len([BODY].items > 0", "'(' is never closed (column 4)", id="unclosed-paren"),
        pytest.param("[STATUS]] == 200", "']' has no matching '['", id="stray-bracket"),
        pytest.param("len([BODY].items]) > 0", "']' closes '(' opened at column 4", id="crossed-2"),
        pytest.param("[BODY] == (oops]", "']' closes '(' opened at column 11", id="crossed"),
        pytest.param("[STATUS] ==", "nothing after the operator", id="no-right"),
        pytest.param("== 200", "nothing before the operator (column 1)", id="no-left"),
        pytest.param("size([BODY]) > 1", "unknown function size(); known: len, has", id="function"),
        pytest.param("200 == 200", "both sides are constants", id="two-constants"),
        pytest.param("UP == pat(U*)", "both sides are constants", id="constant-vs-pattern"),
        pytest.param("[BODY] < pat(*x*)", "pat() only works with == and !=, not <", id="pat-lt"),
        pytest.param("[STATUS] > any(1, 2)", "any() only works with == and !=", id="any-gt"),
        pytest.param("[BODY].a[x] == 1", "an array index must be a whole number", id="index"),
        pytest.param("[BODY].a[1.5] == 1", "an array index must be a whole number", id="float-i"),
        pytest.param("[BODY]. == 1", "a '.' must be followed by a key", id="dangling-dot"),
        pytest.param("[BODY]..a == 1", "a '.' must be followed by a key", id="double-dot"),
        pytest.param("[BODY]x == 1", "unexpected 'x' after [BODY]", id="junk-after"),
        pytest.param("[STATUS].code == 1", "[STATUS] takes no path", id="path-on-status"),
        pytest.param("[HEADERS] == x", "[HEADERS] needs one header name", id="headers-alone"),
        pytest.param("[HEADERS].a.b == x", "[HEADERS] needs one header name", id="headers-deep"),
        pytest.param("[STATUS] < abc", "'abc' is not a number or duration", id="order-text"),
        pytest.param("[RESPONSE_TIME] < 3 hours", "is not a number or duration", id="bad-dur"),
        pytest.param("len(200) > 1", "len() takes a placeholder", id="len-constant"),
        pytest.param("has() == true", "has() takes a placeholder", id="has-empty"),
        pytest.param("len(len([BODY])) > 1", "len() takes a placeholder", id="nested-len"),
        pytest.param("len([BODY]) x > 1", "unexpected text after len(...)", id="after-call"),
        pytest.param("[STATUS] == 200 == 300", "more than one comparison operator", id="two-ops"),
        pytest.param("[BODY] == 'abc", "the quote ' is never closed", id="open-quote"),
        pytest.param("[BODY] == 'abc'def", "unexpected text after the closing quote", id="quote"),
        pytest.param("any([STATUS])", "needs a placeholder and at least one value", id="any-1"),
        pytest.param(
            "any(200, 201)", "first argument of any(x, ...) must be a placeholder", id="a"
        ),
        pytest.param("[STATUS] == any()", "any() needs at least one value", id="any-empty"),
        pytest.param("[STATUS] == any(200,,201)", "empty value in any()", id="any-hole"),
        pytest.param("[BODY] == any([STATUS], 1)", "any() values are constants", id="any-ref"),
        pytest.param("any([STATUS], 200) x", "unexpected text after any(...)", id="any-tail"),
        pytest.param("[CONNECTED] == yes", "[CONNECTED] is true or false, not 'yes'", id="bool"),
        pytest.param("has([BODY].a) == 1", "is true or false, not '1'", id="has-vs-number"),
        pytest.param("[CONNECTED] > true", "[CONNECTED] cannot be ordered", id="order-bool"),
        pytest.param("[IPS] > 1", "compare len([IPS])", id="order-list"),
    ],
)
def test_malformed_condition_is_refused_with_a_useful_message(text: str, message: str) -> None:
    with pytest.raises(ConditionSyntaxError) as caught:
        compile_condition(text)
    assert message in str(caught.value)
    assert str(caught.value).startswith(f"invalid condition {text.strip()!r}: ")


def test_syntax_error_is_a_config_error_so_config_loading_can_catch_one_type() -> None:
    with pytest.raises(ConfigError):
        compile_condition("[STATUS] = 200")


def test_non_text_condition_is_refused() -> None:
    with pytest.raises(ConditionSyntaxError, match="not int"):
        compile_condition(200)  # type: ignore[arg-type]


def test_error_column_points_at_the_culprit() -> None:
    with pytest.raises(ConditionSyntaxError, match=r"\(column 18\)"):
        compile_condition("[BODY].data[0].id[x] == 1")
