"""``agent.location`` and ``agent.lease_seconds``: how an agent shares a PostgreSQL database."""

from __future__ import annotations

import pytest

from nyxmon.config import ConfigValidationError, load_config_text

CHECKS = "services: []\n"


def test_an_agent_is_at_the_default_location_with_15_second_leases() -> None:
    agent = load_config_text(CHECKS, environ={}).agent
    assert agent.location == "default"
    assert agent.lease_seconds == 15.0


def test_location_and_lease_are_read() -> None:
    text = "agent: {location: eu-west.1, lease_seconds: 6s}\n" + CHECKS
    agent = load_config_text(text, environ={}).agent
    assert agent.location == "eu-west.1"
    assert agent.lease_seconds == 6.0


@pytest.mark.parametrize(
    ("setting", "path", "words"),
    [
        pytest.param("location: 'eu west'", "agent.location", "expected a label", id="space"),
        pytest.param("location: ''", "agent.location", "expected a label", id="empty"),
        pytest.param("lease_seconds: 1s", "agent.lease_seconds", "expected 3 s to 1 h", id="short"),
        pytest.param("lease_seconds: 2h", "agent.lease_seconds", "expected 3 s to 1 h", id="long"),
    ],
)
def test_a_bad_location_or_lease_is_refused_naming_the_key(
    setting: str, path: str, words: str
) -> None:
    with pytest.raises(ConfigValidationError) as caught:
        load_config_text(f"agent: {{{setting}}}\n" + CHECKS, environ={})
    [issue] = caught.value.errors
    assert issue.path == path
    assert words in issue.message
