"""The bounds of a config: durations and numbers, booleans, nesting, aliases, values and size.

Each bound is tested at its edge (the largest thing allowed loads, the next is refused with a
message naming line and key path); the bad files under fixtures/bad show the messages whole.
"""

from __future__ import annotations

import math
import tracemalloc
from pathlib import Path

import pytest
from pydantic import TypeAdapter, ValidationError

from nyxmon.checktypes.http import MAX_JSON_DEPTH
from nyxmon.config import (
    MAX_DURATION,
    MAX_INTERVAL,
    MAX_TIMEOUT,
    ConfigValidationError,
    IntervalDuration,
    TimeoutDuration,
    load_config,
    load_config_text,
    parse_duration,
    parse_value,
    validate_check,
)
from nyxmon.config._compose import MAX_DEPTH, MAX_NODES
from nyxmon.config.loader import MAX_TEXT

from .conftest import errors_of

CHECK = (
    "services:\n  - name: Web\n    checks:\n      - name: home\n        type: http\n"
    "        url: http://127.0.0.1:9/\n"
)


@pytest.mark.parametrize(
    "value",
    [
        pytest.param(10**400, id="int-of-401-digits"),
        pytest.param("1" + "0" * 400, id="digits-as-text"),
        pytest.param("99999999999999999999999999999d", id="days"),
        pytest.param("9" * 400 + "w", id="weeks-past-float"),
        pytest.param(1e308, id="float"),
        pytest.param(math.inf, id="infinity"),
    ],
)
def test_huge_durations_are_refused_with_a_message_never_an_overflow(value: object) -> None:
    with pytest.raises(ValueError, match="expected a duration of at most 3650d"):
        parse_duration(value)


def test_not_a_number_is_not_a_duration() -> None:
    with pytest.raises(ValueError, match="expected a duration like 30s"):
        parse_duration(math.nan)


@pytest.mark.parametrize(
    ("kind", "maximum", "spelled"),
    [
        pytest.param(IntervalDuration, MAX_INTERVAL, "365d", id="interval"),
        pytest.param(TimeoutDuration, MAX_TIMEOUT, "1d", id="timeout"),
    ],
)
def test_intervals_and_timeouts_reach_their_ceiling_and_not_past_it(
    kind: object, maximum: float, spelled: str
) -> None:
    adapter: TypeAdapter[float] = TypeAdapter(kind)
    assert adapter.validate_python(spelled) == maximum
    assert adapter.validate_python(maximum) == maximum
    with pytest.raises(ValidationError, match=f"at most {spelled}"):
        adapter.validate_python(maximum + 0.001)
    assert parse_duration("3650d") == MAX_DURATION


@pytest.mark.parametrize("word", ["yes", "no", "on", "off", "y", "n", "Yes", "OFF"])
def test_yaml_1_1_words_are_not_booleans(word: str) -> None:
    errors = errors_of(CHECK + f"        paused: {word}\n")
    assert [(e.line, e.path) for e in errors] == [(7, "services[0].checks[0].paused")]
    assert f'got "{word}"' in errors[0].message
    assert "write true or false" in errors[0].message


@pytest.mark.parametrize("value", ["1", "0", "[]", "{}", "~"])
def test_numbers_lists_and_null_are_not_booleans_either(value: str) -> None:
    errors = errors_of(CHECK + f"        enabled: {value}\n")
    assert [e.path for e in errors] == ["services[0].checks[0].enabled"]
    assert "expected true or false" in errors[0].message


@pytest.mark.parametrize(
    ("written", "environ", "paused"),
    [
        pytest.param("true", {}, True, id="true"),
        pytest.param("False", {}, False, id="False"),
        pytest.param('"${PAUSED}"', {"PAUSED": "true"}, True, id="from-the-environment"),
    ],
)
def test_true_and_false_are_booleans_also_from_a_variable(
    written: str, environ: dict[str, str], paused: bool
) -> None:
    config = load_config_text(CHECK + f"        paused: {written}\n", environ=environ)
    assert config.checks[0].paused is paused


def test_a_boolean_word_is_text_wherever_text_is_wanted() -> None:
    config = load_config_text(CHECK + "        labels: {answer: yes, switch: off}\n")
    assert dict(config.checks[0].labels) == {"answer": "yes", "switch": "off"}
    assert parse_value("yes", where="--set x") == "yes"


def _nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def test_nesting_reaches_its_bound_and_not_past_it() -> None:
    # The top-level mapping is one level; x- keys are ignored by the schema.
    load_config_text(f"x-deep: {_nested(MAX_DEPTH - 1)}\n")
    errors = errors_of(f"x-deep: {_nested(MAX_DEPTH)}\n")
    assert [(e.line, e.path) for e in errors] == [(1, "x-deep" + "[0]" * (MAX_DEPTH - 1))]
    assert f"nested more than {MAX_DEPTH} lists and mappings deep" in errors[0].message


def test_a_block_list_nested_without_end_is_refused_at_its_line() -> None:
    text = "x-deep:\n" + "".join(" " * (2 * i + 2) + "-\n" for i in range(200))
    errors = errors_of(text)
    assert errors[0].line == MAX_DEPTH + 1  # "x-deep:" is line 1, its first list line 2
    assert "nested more than" in errors[0].message


def test_an_alias_bomb_is_refused_before_anything_is_expanded() -> None:
    text = "x-a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
    for previous, name in zip("abcdefgh", "bcdefghi", strict=True):
        text += f"x-{name}: &{name} [{', '.join([f'*{previous}'] * 9)}]\n"
    tracemalloc.start()
    try:
        errors = errors_of(text)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert [(e.line, e.path) for e in errors] == [(6, "x-f[6]")]
    assert "alias bomb" in errors[0].message
    assert peak < 20 * 1_048_576, f"{peak / 1_048_576:.0f} MB traced"


def test_aliases_within_the_bound_expand_as_before() -> None:
    text = (
        "x-http: &http {type: http, interval: 30s}\n"
        "services:\n  - name: Web\n    checks:\n"
        "      - {<<: *http, name: a, url: 'http://127.0.0.1:9/a'}\n"
        "      - {<<: *http, name: b, url: 'http://127.0.0.1:9/b', interval: 1m}\n"
    )
    config = load_config_text(text)
    assert [(c.name, c.interval) for c in config.checks] == [("a", 30.0), ("b", 60.0)]


def test_too_many_values_are_refused_at_the_value_that_crosses_the_bound() -> None:
    errors = errors_of("x-flat: [" + "1," * MAX_NODES + "1]\n")
    assert errors[0].line == 1
    assert errors[0].path.startswith("x-flat[")
    assert f"more than {MAX_NODES:,} values" in errors[0].message


def test_a_file_past_the_size_bound_is_refused_without_reading_it_all(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    path.write_bytes(b"# " + b"x" * (MAX_TEXT - 3) + b"\n")
    load_config(path, environ={})  # exactly the bound: a file of one comment loads
    with path.open("ab") as file:
        file.write(b"#")
    with pytest.raises(ConfigValidationError) as caught:
        load_config(path, environ={})
    (issue,) = caught.value.errors
    assert (issue.file, issue.line, issue.path) == (str(path), None, "")
    assert "larger than 4 MiB" in issue.message
    with pytest.raises(ConfigValidationError, match="larger than 4 MiB"):
        load_config_text("#" * (MAX_TEXT + 1))


def test_an_endless_file_is_refused_after_reading_the_bound() -> None:
    with pytest.raises(ConfigValidationError, match="larger than 4 MiB"):
        load_config("/dev/zero", environ={})


def test_a_json_body_nested_past_its_bound_is_refused_naming_the_field() -> None:
    check = {"name": "n", "type": "http", "url": "http://127.0.0.1:9/", "method": "POST"}
    body: object = 1
    for _ in range(MAX_JSON_DEPTH):
        body = [body]
    validate_check({**check, "json_body": body}, prefix=("check",))
    with pytest.raises(ConfigValidationError) as caught:
        validate_check({**check, "json_body": [body]}, prefix=("check",))
    (issue,) = caught.value.errors
    assert issue.path == "check.json_body"
    assert f"nested more than {MAX_JSON_DEPTH}" in issue.message
