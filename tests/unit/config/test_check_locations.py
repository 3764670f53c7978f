"""A check's ``locations`` and ``quorum``: read, defaulted, and refused with the key and line."""

from __future__ import annotations

import pytest

from nyxmon.config import ConfigValidationError, load_config_text

PG = "agent: {database: 'postgresql://127.0.0.1/test', location: eu}\n"
SQLITE = "agent: {location: eu}\n"


def services(check_extra: str) -> str:
    return (
        "services:\n"
        "  - name: shop\n"
        "    checks:\n"
        "      - name: home\n"
        "        type: http\n"
        "        url: http://127.0.0.1:9/\n"
        f"{check_extra}"
    )


def test_locations_and_quorum_are_read() -> None:
    text = PG + services("        locations: [eu, us, ap]\n        quorum: 3\n")
    [check] = load_config_text(text, environ={}).checks
    assert check.locations == ("eu", "us", "ap")
    assert check.quorum == 3
    assert check.quorum_needed == 3


def test_the_quorum_defaults_to_a_majority() -> None:
    text = PG + services("        locations: [eu, us, ap, sa]\n")
    [check] = load_config_text(text, environ={}).checks
    assert check.quorum is None
    assert check.quorum_needed == 3


def test_a_check_without_locations_has_none() -> None:
    [check] = load_config_text(PG + services(""), environ={}).checks
    assert (check.locations, check.quorum_needed) == ((), 1)


@pytest.mark.parametrize(
    ("extra", "path", "line", "words"),
    [
        pytest.param(
            "        locations: [eu, us]\n        quorum: 3\n",
            "services[0].checks[0].quorum",
            9,
            "expected 1 to 2 (the number of locations), got 3",
            id="quorum-above",
        ),
        pytest.param(
            "        locations: [eu, us]\n        quorum: 0\n",
            "services[0].checks[0].quorum",
            9,
            "expected 1 to 2",
            id="quorum-zero",
        ),
        pytest.param(
            "        quorum: 1\n",
            "services[0].checks[0].quorum",
            8,
            "a quorum needs locations",
            id="quorum-alone",
        ),
        pytest.param(
            "        locations: [eu, eu]\n",
            "services[0].checks[0].locations",
            8,
            'location "eu" is listed twice',
            id="twice",
        ),
        pytest.param(
            "        locations: ['e u']\n",
            "services[0].checks[0].locations[0]",
            8,
            "expected a label",
            id="bad-name",
        ),
    ],
)
def test_bad_locations_or_quorum_are_refused_naming_the_key_and_line(
    extra: str, path: str, line: int, words: str
) -> None:
    with pytest.raises(ConfigValidationError) as caught:
        load_config_text(PG + services(extra), environ={})
    [issue] = caught.value.errors
    assert issue.path == path
    assert words in issue.message
    assert issue.line == line


def test_on_sqlite_a_check_may_name_only_the_agents_own_location() -> None:
    [check] = load_config_text(SQLITE + services("        locations: [eu]\n"), environ={}).checks
    assert check.locations == ("eu",)
    with pytest.raises(ConfigValidationError) as caught:
        load_config_text(SQLITE + services("        locations: [eu, us]\n"), environ={})
    [issue] = caught.value.errors
    assert issue.path == "services[0].checks[0].locations"
    assert issue.line == 8
    assert 'location "us" has no agent: on SQLite one agent runs every check' in issue.message
