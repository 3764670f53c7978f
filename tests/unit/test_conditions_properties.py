"""Properties of the condition language, checked over generated values."""

from __future__ import annotations

import json
import operator
from collections.abc import Callable
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from nyxmon.domain.conditions import (
    Observation,
    compile_condition,
    format_duration_ms,
    parse_duration_ms,
)

OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}

numbers = st.one_of(
    st.integers(min_value=-(10**15), max_value=10**15),
    st.floats(allow_nan=False, allow_infinity=False, width=64),
)


@given(actual=numbers, expected=numbers, op=st.sampled_from(sorted(OPERATORS)))
def test_numeric_comparisons_agree_with_python(actual: float, expected: float, op: str) -> None:
    observation = Observation(body=json.dumps({"x": actual}).encode())
    outcome = compile_condition(f"[BODY].x {op} {expected!r}").evaluate(observation)
    assert outcome.ok is OPERATORS[op](actual, expected)


@given(
    status=st.integers(min_value=100, max_value=599),
    expected=st.integers(min_value=100, max_value=599),
    op=st.sampled_from(sorted(OPERATORS)),
)
def test_status_comparisons_agree_with_python_and_show_the_status(
    status: int, expected: int, op: str
) -> None:
    outcome = compile_condition(f"[STATUS] {op} {expected}").evaluate(Observation(status=status))
    assert outcome.ok is OPERATORS[op](status, expected)
    assert outcome.description == f"[STATUS] ({status}) {op} {expected}"


@given(text=st.text(alphabet=st.characters(blacklist_characters="\"'"), max_size=40))
def test_quoted_text_equals_itself_and_any_text_matches_star(text: str) -> None:
    observation = Observation(body=json.dumps({"v": text}).encode())
    assert compile_condition(f'[BODY].v == "{text}"').evaluate(observation).ok
    assert compile_condition("[BODY].v == pat(*)").evaluate(observation).ok


@given(seconds=st.integers(min_value=1, max_value=10**8))
def test_formatted_durations_parse_back_to_the_same_milliseconds(seconds: int) -> None:
    assert parse_duration_ms(format_duration_ms(seconds * 1000)) == seconds * 1000


@given(text=st.text(max_size=30))
def test_compile_either_succeeds_or_raises_a_syntax_error(text: str) -> None:
    from nyxmon.errors import ConditionSyntaxError

    try:
        condition = compile_condition(text)
    except ConditionSyntaxError:
        return
    condition.evaluate(Observation())
