"""Hostile conditions and hostile observations through the condition language.

Compiling any text ends in a condition or in ``ConditionSyntaxError`` with a message; a
compiled condition evaluated against anything a probe may observe (a body nested past the JSON
parser, numbers past a float, invalid UTF-8, a megabyte of text) gives an outcome, never an
exception, within bounded memory. ``pat()`` globs match as the regex they describe, without
its backtracking.
"""

from __future__ import annotations

import json
import tracemalloc

from hypothesis import given
from hypothesis import strategies as st

from nyxmon.domain.conditions import Observation, compile_condition
from nyxmon.domain.conditions._operands import glob_match, glob_regex
from nyxmon.errors import ConditionSyntaxError
from tests.reliability._budget import budget

MAX_TRACED_MB = 64

PIECES = [
    *["[STATUS]", "[BODY]", "[BODY].a", "[BODY].a[0]", "[BODY][-1]", "[HEADERS].x", "[IP]"],
    *["[RESPONSE_TIME]", "[CERTIFICATE_EXPIRATION]", "[DNS_RCODE]", "[ANSWERS]", "[NOPE]"],
    *["==", "!=", "<", "<=", ">", ">=", "=", " ", "(", ")", ",", '"', "'", "\\", "."],
    *["len(", "has(", "pat(", "any(", "len(" * 200, ")" * 200, "*", "?", "*a*b*c*"],
    *["200", "-1", "1e400", "1" + "0" * 5000, "nan", "inf", "true", "7d", "9" * 30 + "d"],
    *["99999999999999999999999999999w", "1.5", "0x10", "NOERROR", "é", "\x00", "[", "]"],
]

BODIES = st.one_of(
    st.none(),
    st.binary(max_size=200),
    st.sampled_from(
        [
            b"[" * 100_000 + b"]" * 100_000,
            b'{"a": ' * 900 + b"1" + b"}" * 900,
            b'{"a": [' + b"9" * 5000 + b"]}",
            b'{"a": ["' + b"9" * 5000 + b'"]}',
            b'{"a": [1e400, -1e400, NaN, Infinity]}',
            b"\xff\xfe\x00 not utf-8",
            b"ab" * 500_000,
            json.dumps({"a": [1, "x", None, True, {"b": []}]}).encode(),
        ]
    ),
)

OBSERVATIONS = st.builds(
    Observation,
    status=st.one_of(st.none(), st.integers(min_value=0, max_value=999)),
    body=BODIES,
    headers=st.one_of(st.none(), st.dictionaries(st.sampled_from(["x", "X", "y"]), st.text())),
    response_time_ms=st.one_of(st.none(), st.floats(allow_nan=True)),
    connected=st.one_of(st.none(), st.booleans()),
    certificate_expiration=st.one_of(st.none(), st.floats(allow_nan=True)),
    dns_rcode=st.one_of(st.none(), st.text(max_size=10)),
    ips=st.lists(st.text(max_size=20), max_size=3),
    answers=st.one_of(st.none(), st.lists(st.text(max_size=20), max_size=3)),
)


def compile_or_refuse(text: str) -> None:
    message = None
    try:
        compile_condition(text)
    except ConditionSyntaxError as exc:
        message = str(exc)
    assert message is None or message.strip()


@budget(300, 5000)
@given(st.lists(st.sampled_from(PIECES), max_size=12))
def test_conditions_from_pieces_compile_or_are_refused_with_a_message(pieces: list[str]) -> None:
    compile_or_refuse(" ".join(pieces))


@budget(200, 3000)
@given(st.text(max_size=200))
def test_any_text_compiles_or_is_refused_with_a_message(text: str) -> None:
    compile_or_refuse(text)


@budget(150, 3000)
@given(
    condition=st.sampled_from(
        [
            "[STATUS] == 200",
            "[BODY].a[0] < 1" + "0" * 5000,
            "[BODY].a[0] == " + "9" * 5000,
            "[BODY] == pat(*a*b*a*b*a*b*a*b*a*b*c)",
            "[BODY] == pat(" + "*?" * 200 + "z)",
            "len([BODY]) > 0",
            "has([BODY].a.b.c)",
            "[BODY].a == any(1, x, true)",
            "[RESPONSE_TIME] < 99999999999999999999999999999d",
            "[CERTIFICATE_EXPIRATION] > 7d",
            "[HEADERS].x == pat(*)",
            "[BODY][-1] >= -1e400",
        ]
    ),
    observation=OBSERVATIONS,
)
def test_conditions_evaluate_hostile_observations_to_an_outcome(
    condition: str, observation: Observation
) -> None:
    compiled = compile_condition(condition)
    tracemalloc.start()
    try:
        outcome = compiled.evaluate(observation)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert isinstance(outcome.ok, bool)
    assert outcome.description
    assert peak < MAX_TRACED_MB * 1_048_576, f"{peak / 1_048_576:.0f} MB traced"


@budget(300, 5000)
@given(
    glob=st.text(alphabet="ab*?", max_size=10),
    text=st.text(alphabet="ab\n", max_size=12),
)
def test_glob_matching_agrees_with_the_regex_it_describes(glob: str, text: str) -> None:
    assert glob_match(glob, text) is (glob_regex(glob).fullmatch(text) is not None)


def test_a_glob_of_many_stars_against_a_large_body_is_linear_not_exponential() -> None:
    # The regex of this glob backtracks for ages on such a body (the suite's per-test timeout
    # ends it); the matcher looks at each piece once.
    body = "ab" * 200_000
    assert not glob_match("*a" * 30 + "*c", body)
    assert glob_match("*a" * 30 + "*b", body)
