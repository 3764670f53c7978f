"""Whatever the bytes, loading ends in a config or a ConfigValidationError with located issues."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nyxmon.config import ConfigValidationError, load_config_text

from .test_load import EXAMPLE

EXAMPLE_TEXT = EXAMPLE.read_text()
_PIECES = [
    ":",
    "-",
    " ",
    "\n",
    "\t",
    "[",
    "]",
    "{",
    "}",
    "'",
    '"',
    "&a",
    "*a",
    "<<",
    "${X}",
    "$${",
    "0",
    "-1",
    "1h",
    "x",
    "#",
    "!!int",
    "? ",
    "|",
    ">",
    "~",
    "null",
    ",",
    "\\",
]


@st.composite
def mutated_example(draw: st.DrawFn) -> str:
    text = EXAMPLE_TEXT
    for _ in range(draw(st.integers(min_value=1, max_value=6))):
        at = draw(st.integers(min_value=0, max_value=len(text)))
        if draw(st.booleans()):
            cut = draw(st.integers(min_value=1, max_value=40))
            text = text[:at] + text[at + cut :]
        else:
            text = text[:at] + draw(st.sampled_from(_PIECES)) + text[at:]
    return text


def _assert_loads_or_names_its_problems(text: str) -> None:
    line_count = text.count("\n") + 2
    errors = []
    try:
        load_config_text(text, filename="f.yaml", environ={})
    except ConfigValidationError as exc:
        errors = exc.errors
        assert errors, "ConfigValidationError without issues"
    for issue in errors:
        assert issue.file == "f.yaml"
        assert issue.message
        assert issue.line is None or 1 <= issue.line <= line_count, str(issue)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_example())
def test_mutated_example_loads_or_fails_with_located_issues(text: str) -> None:
    _assert_loads_or_names_its_problems(text)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), max_size=40))
def test_arbitrary_yamlish_text_loads_or_fails_with_located_issues(pieces: list[str]) -> None:
    _assert_loads_or_names_its_problems("".join(pieces))
