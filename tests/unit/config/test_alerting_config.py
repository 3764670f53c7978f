"""Alert policies, routes and maintenance windows in valid files, and their warnings."""

from __future__ import annotations

from datetime import datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from nyxmon.config import (
    LoadedConfig,
    check_from_spec,
    load_config,
    load_config_text,
    validate_check,
)
from nyxmon.config.maintenance import parse_clock, parse_days
from nyxmon.domain.alerting import (
    AlertPolicy,
    Cron,
    NoticeKind,
    OneOff,
    Severity,
    Weekly,
)
from nyxmon.domain.model import Check, CheckSource

from .conftest import errors_of

SERVICE = """\
services:
  - name: Web
    checks:
      - name: home
        type: http
        url: http://127.0.0.1:8090/healthy
      - name: api
        type: http
        url: http://127.0.0.1:8090/json/health
        interval: 20s
        alert:
          failure_threshold: 1
          remind_every: null
          retries: 2
          retry_interval: 5s
"""


def load(text: str, **env: str) -> LoadedConfig:
    return load_config_text(text, filename="test.yaml", environ=env)


def test_defaults_alert_applies_to_every_check_and_overrides_replace_only_their_keys() -> None:
    config = load(
        """\
defaults:
  alert:
    failure_threshold: 3
    remind_every: 10m
    remind_max: 5
    flap_window: 0
"""
        + SERVICE
    )
    base = AlertPolicy(failure_threshold=3, remind_every=600.0, remind_max=5, flap_window=0)
    assert config.agent.defaults.alert == base
    assert config.policies["web.home"] == base
    assert config.policies["web.api"] == AlertPolicy(
        failure_threshold=1,
        remind_every=None,
        remind_max=5,
        flap_window=0,
        retries=2,
        retry_interval=5.0,
    )
    home, api = config.checks
    assert dict(home.alert) == {}
    assert dict(api.alert) == {
        "failure_threshold": 1,
        "remind_every": None,
        "retries": 2,
        "retry_interval": 5.0,
    }
    assert "alert" not in api.params
    assert config.policy_for(api) == config.policies["web.api"]


def test_a_file_without_alert_keys_gets_the_built_in_policy() -> None:
    config = load(SERVICE.replace("        alert:", "        x:").split("        x:")[0])
    assert config.agent.defaults.alert == AlertPolicy()
    assert set(config.policies.values()) == {AlertPolicy()}
    assert (config.routes, config.maintenance) == ((), ())


def test_a_check_added_through_the_api_gets_defaults_plus_its_overrides() -> None:
    config = load("defaults: {alert: {success_threshold: 4}}\n" + SERVICE)
    spec = validate_check(
        {
            "name": "extra",
            "type": "http",
            "url": "http://127.0.0.1:8090/healthy",
            "alert": {"retries": 1, "escalate_after": "15m"},
        }
    )
    check = check_from_spec(spec, service="Web", defaults=config.agent.defaults)
    assert check.source is CheckSource.API
    assert dict(check.alert) == {"retries": 1, "escalate_after": 900.0}
    assert config.policy_for(check) == AlertPolicy(
        success_threshold=4, retries=1, escalate_after=900.0
    )


def test_routes_become_domain_routes_with_tokens_from_the_environment() -> None:
    config = load(
        """\
alerting:
  routes:
    - name: phone
      type: apprise
      urls: ["tgram://${BOT}/${CHAT}"]
      match: {kinds: [down, recovered], min_severity: warning, labels: {team: web}}
    - name: hook
      type: webhook
      url: http://127.0.0.1:8090/webhook
      headers: {X-Env: demo}
      secret: ${HOOK_SECRET}
      default: true
      title_template: "{{ notice.check_id }} is {{ notice.state }}"
""",
        BOT="123:abc",
        CHAT="42",
        HOOK_SECRET="s3cret",
    )
    phone, hook = config.routes
    assert (phone.name, phone.kind, phone.urls) == ("phone", "apprise", ("tgram://123:abc/42",))
    assert phone.match.kinds == (NoticeKind.DOWN, NoticeKind.RECOVERED)
    assert phone.match.min_severity is Severity.WARNING
    assert dict(phone.match.labels) == {"team": "web"}
    assert not phone.default
    assert (hook.kind, hook.webhook_url, hook.secret) == (
        "webhook",
        "http://127.0.0.1:8090/webhook",
        "s3cret",
    )
    assert dict(hook.headers) == {"X-Env": "demo"}
    assert hook.default
    assert hook.title_template is not None


def test_errors_about_urls_never_show_the_substituted_secret() -> None:
    text = """\
alerting:
  routes:
    - {name: phone, type: apprise, urls: ["${TOKEN}"]}
    - {name: hook, type: webhook, url: "ftp://${TOKEN}@example.com/"}
"""
    errors = errors_of(text, environ={"TOKEN": "very-secret-token"})
    assert [e.path for e in errors] == ["alerting.routes[0].urls[0]", "alerting.routes[1].url"]
    for error in errors:
        assert "very-secret-token" not in str(error)
    assert "got ftp://..." in errors[1].message


def test_routes_warn_about_checks_and_services_the_file_does_not_define() -> None:
    config = load(
        SERVICE
        + """\
alerting:
  routes:
    - name: hook
      type: webhook
      url: http://127.0.0.1:8090/webhook
      match: {checks: [web.home, web.hom], services: [Wbe]}
"""
    )
    messages = [(w.path, w.message) for w in config.warnings]
    assert messages == [
        (
            "alerting.routes[0].match.checks[1]",
            'no check id "web.hom" in this file; did you mean "web.home"? '
            "(it matches once one exists)",
        ),
        (
            "alerting.routes[0].match.services[0]",
            'no service "Wbe" in this file; did you mean "Web"? (it matches once one exists)',
        ),
    ]


def test_escalate_to_without_escalate_after_is_a_warning() -> None:
    config = load(
        """\
defaults:
  alert: {escalate_to: [pager]}
alerting:
  routes: [{name: pager, type: webhook, url: "http://127.0.0.1:8090/webhook"}]
"""
        + SERVICE
    )
    (warning,) = config.warnings
    assert (warning.line, warning.path) == (2, "defaults.alert.escalate_to")
    assert "escalate_after" in warning.message


def test_maintenance_windows_of_each_kind_become_domain_windows() -> None:
    config = load(
        SERVICE
        + """\
maintenance:
  - name: release
    checks: [web.home]
    start: 2026-05-01 22:00
    end: "2026-05-02T01:00:00+02:00"
    timezone: Europe/Berlin
  - name: nightly
    services: [Web]
    cron: "@daily"
    duration: 15m
    timezone: America/New_York
  - name: weekend
    labels: {env: demo}
    days: [fri-mon, wed]
    from: "22:00"
    to: "24:00"
  - name: everything
    all: true
    days: sun
    from: "03:00"
    to: "03:30"
"""
    )
    release, nightly, weekend, everything = config.maintenance
    berlin = ZoneInfo("Europe/Berlin")
    assert release.schedule == OneOff(
        datetime(2026, 5, 1, 22, 0, tzinfo=berlin).timestamp(),
        datetime(2026, 5, 2, 1, 0, tzinfo=berlin).timestamp(),
    )
    assert release.scope.checks == frozenset({"web.home"})
    assert nightly.schedule == Cron("@daily", 900.0, "America/New_York")
    assert nightly.scope.services == frozenset({"Web"})
    assert weekend.schedule == Weekly([4, 5, 6, 0, 2], time(22, 0), time(0, 0), "UTC")
    assert dict(weekend.scope.labels) == {"env": "demo"}
    assert everything.scope.everything
    home = config.checks[0]
    assert release.applies_to(home)
    assert everything.applies_to(home)
    assert not weekend.applies_to(home)


def test_maintenance_naming_an_unknown_check_or_service_warns_with_a_suggestion() -> None:
    config = load(
        SERVICE
        + """\
maintenance:
  - {name: w, checks: [web.hone], services: [Dns], cron: "0 3 * * *", duration: 1h}
"""
    )
    assert [(w.path, w.message.split(" in this file")[0]) for w in config.warnings] == [
        ("maintenance[0].checks[0]", 'no check id "web.hone"'),
        ("maintenance[0].services[0]", 'no service "Dns"'),
    ]


@pytest.mark.parametrize(
    ("written", "days"),
    [
        pytest.param("mon-fri", {0, 1, 2, 3, 4}, id="range"),
        pytest.param("fri-mon", {4, 5, 6, 0}, id="wrapping-range"),
        pytest.param(["Saturday", "sun"], {5, 6}, id="full-names"),
        pytest.param("mon,wed", {0, 2}, id="comma-list"),
        pytest.param(["mon-tue", "thu"], {0, 1, 3}, id="mixed"),
    ],
)
def test_weekdays_are_read_as_names_lists_and_ranges(
    written: str | list[str], days: set[int]
) -> None:
    assert parse_days(written) == frozenset(days)


@pytest.mark.parametrize("bad", ["", "mon-", "someday", "mon--fri"])
def test_unreadable_weekdays_are_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="weekday"):
        parse_days(bad)


def test_clock_times_allow_24_00_as_the_end_of_the_day() -> None:
    assert parse_clock("02:00") == time(2, 0)
    assert parse_clock("7:05") == time(7, 5)
    assert parse_clock("24:00") == time(0, 0)
    for bad in ("24:30", "12", "12:60", "noon"):
        with pytest.raises(ValueError, match="time of day"):
            parse_clock(bad)


def test_every_alerting_problem_of_a_file_is_reported_in_one_run() -> None:
    text = (
        """\
defaults:
  alert: {flap_low: 0.9, escalate_to: [nobody], escalate_after: 1h}
alerting:
  routes:
    - {name: a, type: apprise}
    - {name: a, type: webhook, url: "http://127.0.0.1:8090/webhook", secret: x}
maintenance:
  - {name: m, all: true, start: "2026-05-01 10:00"}
  - {name: m, all: true, services: [Web], cron: "@hourly", duration: 5m}
"""
        + SERVICE
    )
    errors = errors_of(text)
    assert [(e.line, e.path) for e in errors] == [
        (2, "defaults.alert.escalate_to[0]"),
        (2, "defaults.alert.flap_low"),
        (5, "alerting.routes[0]"),
        (6, "alerting.routes[1].name"),
        (8, "maintenance[0]"),
        (9, "maintenance[1].all"),
        (9, "maintenance[1].name"),
    ]


def test_a_webhook_only_key_on_an_apprise_route_is_refused() -> None:
    (error,) = errors_of(
        """\
alerting:
  routes:
    - name: a
      type: apprise
      urls: ["ntfy://127.0.0.1/topic"]
      headers: {X: y}
"""
    )
    assert (error.line, error.path) == (6, "alerting.routes[0].headers")
    assert error.message == '"headers" is for webhook routes; apprise routes take urls'


def test_an_alert_override_that_breaks_a_rule_names_the_check_key_and_line() -> None:
    errors = errors_of(
        SERVICE.replace("retry_interval: 5s", "retry_interval: 20s").replace(
            "remind_every: null", "flap_window: 2"
        )
    )
    assert [(e.line, e.path) for e in errors] == [
        (13, "services[0].checks[1].alert.flap_window"),
        (15, "services[0].checks[1].alert.retry_interval"),
    ]
    assert errors[1].message == (
        "expected a retry interval shorter than the check's interval (20s), got 20s"
    )


def test_config_checks_carry_their_overrides_as_plain_json_data() -> None:
    (check, api) = load(SERVICE).checks
    assert isinstance(api, Check)
    assert all(isinstance(v, int | float | type(None)) for v in api.alert.values())
    assert check.alert == {}


EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "nyxmon.yaml"
COMMENTED_BLOCKS = ("# escalate_after:", "# secret:", "# - name: phone", "# maintenance:")


def _uncomment(text: str, markers: tuple[str, ...]) -> str:
    """Uncomment each block that starts at a marker and runs until a non-comment line."""
    lines = text.splitlines()
    for marker in markers:
        start = next(i for i, line in enumerate(lines) if line.lstrip().startswith(marker))
        end = start
        while end < len(lines) and lines[end].lstrip().startswith("#"):
            indent = len(lines[end]) - len(lines[end].lstrip())
            lines[end] = lines[end][:indent] + lines[end].lstrip()[2:]
            end += 1
    return "\n".join(lines) + "\n"


def test_the_example_routes_notices_to_the_demo_webhook_with_offline_defaults() -> None:
    config = load_config(EXAMPLE, environ={})
    (route,) = config.routes
    assert (route.kind, route.webhook_url, route.default) == (
        "webhook",
        "http://127.0.0.1:8090/webhook",
        True,
    )
    assert config.agent.defaults.alert.retries == 1
    assert config.policies["demo-website.flaky-page"].flap_window == 10
    assert config.policies["demo-website.homepage"].flap_window == 20
    assert config.maintenance == ()


def test_the_commented_alerting_examples_are_valid_once_uncommented() -> None:
    text = _uncomment(EXAMPLE.read_text(), COMMENTED_BLOCKS)
    assert "\nmaintenance:\n" in text
    env = {
        "TELEGRAM_BOT_TOKEN": "123:abc",
        "TELEGRAM_CHAT_ID": "42",
        "NYXMON_WEBHOOK_SECRET": "s3cret",
    }
    config = load_config_text(text, filename=str(EXAMPLE), base_dir=EXAMPLE.parent, environ=env)
    assert [r.name for r in config.routes] == ["demo-webhook", "phone"]
    assert config.routes[1].urls == ("tgram://123:abc/42",)
    assert config.routes[0].secret == "s3cret"
    assert config.agent.defaults.alert.escalate_to == ("phone",)
    assert [w.name for w in config.maintenance] == [
        "weekend backups",
        "nightly deploy",
        "database migration",
    ]
    assert not config.warnings
