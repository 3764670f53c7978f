"""``${VAR}`` substitution in config strings."""

from __future__ import annotations

import pytest

from nyxmon.config.envsubst import SubstitutionError, substitute

ENV = {"HOST": "db.local", "PORT": "5432", "EMPTY": ""}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("plain", "plain", id="no-dollar"),
        pytest.param("${HOST}", "db.local", id="whole"),
        pytest.param("http://${HOST}:${PORT}/x", "http://db.local:5432/x", id="several"),
        pytest.param("${MISSING:-fallback}", "fallback", id="default-when-unset"),
        pytest.param("${EMPTY:-fallback}", "fallback", id="default-when-empty"),
        pytest.param("${HOST:-fallback}", "db.local", id="set-ignores-default"),
        pytest.param("${MISSING:-}", "", id="empty-default"),
        pytest.param("${MISSING:-a:-b}", "a:-b", id="default-keeps-rest"),
        pytest.param("$${HOST}", "${HOST}", id="escaped"),
        pytest.param("cost: $5 and $HOST", "cost: $5 and $HOST", id="lone-dollars-stay"),
        pytest.param("${EMPTY}", "", id="set-but-empty"),
    ],
)
def test_substitution_replaces_references(text: str, expected: str) -> None:
    assert substitute(text, ENV) == expected


def test_every_unset_variable_of_a_string_is_reported() -> None:
    with pytest.raises(SubstitutionError) as caught:
        substitute("${A}/${HOST}/${B}", ENV)
    assert len(caught.value.problems) == 2
    assert "environment variable A is not set" in caught.value.problems[0]
    assert "${B:-value}" in caught.value.problems[1]


@pytest.mark.parametrize("text", ["${1BAD}", "${}", "${A B}", "${HOST"])
def test_malformed_reference_is_an_error(text: str) -> None:
    with pytest.raises(SubstitutionError, match="variable reference"):
        substitute(text, ENV)
