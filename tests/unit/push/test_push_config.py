"""A push check in the config file: its key, its schedule and its timeout, judged like the rest
of the file, every mistake named with its key path."""

from __future__ import annotations

import pytest

from nyxmon.config import ConfigValidationError, load_config_text

HEAD = "agent: {database: ':memory:'}\nservices:\n  - name: Jobs\n    checks:\n"


def load(checks: str) -> object:
    return load_config_text(HEAD + checks, environ={})


def problems(checks: str) -> list[str]:
    with pytest.raises(ConfigValidationError) as caught:
        load(checks)
    return [f"{issue.path}: {issue.message}" for issue in caught.value.errors]


def test_a_cron_push_check_may_run_longer_than_the_default_interval() -> None:
    config = load(
        "      - {name: nightly, type: push, token: k1, cron: '30 2 * * *',"
        " timezone: Europe/Berlin, grace: 15m, timeout: 2h}\n"
    )
    (check,) = config.checks  # type: ignore[attr-defined]
    assert check.params["cron"] == "30 2 * * *"
    assert check.params["grace"] == 900
    assert check.timeout == 7200


@pytest.mark.parametrize(
    ("checks", "expected"),
    [
        pytest.param(
            "      - {name: a, type: push}\n",
            "services[0].checks[0].token: a push check needs its ping key (token)",
            id="no-key",
        ),
        pytest.param(
            "      - {name: a, type: push, token: k}\n      - {name: b, type: push, token: k}\n",
            "services[0].checks[1].token: this ping key is already the key of "
            "services[0].checks[0]",
            id="shared-key",
        ),
        pytest.param(
            "      - {name: a, type: push, token: 'a/b'}\n",
            "services[0].checks[0].token:",
            id="slash-in-key",
        ),
        pytest.param(
            "      - {name: a, type: push, token: k, cron: 'every day'}\n",
            "services[0].checks[0].cron: expected five cron fields",
            id="bad-cron",
        ),
        pytest.param(
            "      - {name: a, type: push, token: k, cron: '@daily', timezone: Mars/Base}\n",
            'services[0].checks[0].timezone: unknown time zone "Mars/Base"',
            id="bad-zone",
        ),
        pytest.param(
            "      - {name: a, type: push, token: k, grace: soon}\n",
            "services[0].checks[0].grace: expected a duration",
            id="bad-grace",
        ),
        pytest.param(
            "      - {name: a, type: push, token: k, conditions: ['[STATUS] == 200']}\n",
            "services[0].checks[0].conditions[0]",
            id="unobserved-placeholder",
        ),
    ],
)
def test_mistakes_are_named(checks: str, expected: str) -> None:
    found = problems(checks)
    assert any(line.startswith(expected) for line in found), found
