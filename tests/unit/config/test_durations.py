"""Durations as written in config files, and their pydantic field types."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from nyxmon.config import Duration, PositiveDuration, parse_duration, spell_duration


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        pytest.param("500ms", 0.5, id="milliseconds"),
        pytest.param("30s", 30.0, id="seconds"),
        pytest.param("5m", 300.0, id="minutes"),
        pytest.param("1h", 3600.0, id="hours"),
        pytest.param("7d", 604800.0, id="days"),
        pytest.param("2w", 1209600.0, id="weeks"),
        pytest.param("1h30m", 5400.0, id="compound"),
        pytest.param("1h 30m 15s", 5415.0, id="compound-with-spaces"),
        pytest.param("1.5h", 5400.0, id="fraction"),
        pytest.param("90", 90.0, id="number-as-text-is-seconds"),
        pytest.param(45, 45.0, id="int-is-seconds"),
        pytest.param(0.25, 0.25, id="float-is-seconds"),
        pytest.param(" 10S ", 10.0, id="case-and-space-insensitive"),
    ],
)
def test_duration_is_parsed_to_seconds(text: str | float, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize(
    "bad",
    ["fast", "", "10x", "1h30", "h", "-5s", "5 s s", "1e3s", "ms"],
)
def test_malformed_duration_is_refused_naming_the_input(bad: str) -> None:
    with pytest.raises(ValueError, match="expected a duration like 30s") as caught:
        parse_duration(bad)
    assert repr(bad).strip("'") in str(caught.value)


@pytest.mark.parametrize("bad", [-1, float("nan"), float("inf"), True, None, [1]])
def test_negative_or_non_numeric_duration_is_refused(bad: object) -> None:
    with pytest.raises(ValueError, match="expected a duration"):
        parse_duration(bad)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0.5, "500ms"),
        (30, "30s"),
        (90, "1m30s"),
        (3600, "1h"),
        (5400, "1h30m"),
        (0, "0s"),
        (86400 * 14, "14d"),
        (1.5, "1.5s"),
    ],
)
def test_format_duration_gives_the_natural_spelling(seconds: float, text: str) -> None:
    assert spell_duration(seconds) == text


@given(st.integers(min_value=0, max_value=10**8))
def test_formatted_whole_seconds_parse_back_to_the_same_value(seconds: int) -> None:
    assert parse_duration(spell_duration(seconds)) == seconds


class _Model(BaseModel):
    wait: Duration
    every: PositiveDuration


def test_duration_fields_accept_text_and_numbers() -> None:
    model = _Model.model_validate({"wait": "0s", "every": "1m"})
    assert (model.wait, model.every) == (0.0, 60.0)


def test_positive_duration_field_refuses_zero_with_a_clear_message() -> None:
    with pytest.raises(ValidationError) as caught:
        _Model.model_validate({"wait": 1, "every": "0s"})
    (error,) = caught.value.errors()
    assert error["loc"] == ("every",)
    assert error["msg"] == 'expected a duration above zero, got "0s"'
