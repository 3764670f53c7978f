from __future__ import annotations

import logging

import pytest

from nyxmon.domain.alerting.types import NoticeKind, Route
from nyxmon.notify.templates import (
    DEFAULT_BODIES,
    DEFAULT_TITLES,
    MessageRenderer,
    format_time,
    validate_template,
)
from tests.unit.notify.fakes import T0, check_info, notice, webhook_route

RENDERER = MessageRenderer("https://mon.example.com/")


def test_times_are_shown_in_utc() -> None:
    assert format_time(0) == "1970-01-01 00:00:00 UTC"
    assert format_time(None) == "unknown"


def test_every_notice_kind_has_a_default_title_and_body() -> None:
    assert set(DEFAULT_TITLES) == set(NoticeKind) == set(DEFAULT_BODIES)


@pytest.mark.parametrize("kind", list(NoticeKind))
def test_every_default_renders_and_names_the_check(kind: NoticeKind) -> None:
    msg = RENDERER.render(
        notice("web.home", kind, at=T0 + 600, since=T0, duration=3600.0),
        check_info(),
        webhook_route(),
        "key-1",
    )
    assert msg.title
    assert msg.body
    assert msg.notes == ()
    if kind is not NoticeKind.TEST:
        assert "web / home" in msg.title
        assert "https://mon.example.com/checks/web.home" in msg.body
    else:
        assert "ops" in msg.title


def test_a_down_message_has_state_since_failing_conditions_message_and_link() -> None:
    down = notice(
        "web.home",
        at=T0 + 8040,
        since=T0,
        message="HTTP 503 from https://example.com",
        failing=("[STATUS] == 200 (actual 503)", "[RESPONSE_TIME] < 300 (actual 1250)"),
    )
    msg = RENDERER.render(down, check_info(), webhook_route(), "k")
    assert msg.title == "DOWN: web / home"
    assert msg.body == (
        "web / home is DOWN since 2023-11-14 22:13:20 UTC (2 h 14 min).\n"
        "HTTP 503 from https://example.com\n"
        "Failing:\n"
        "- [STATUS] == 200 (actual 503)\n"
        "- [RESPONSE_TIME] < 300 (actual 1250)\n"
        "Dashboard: https://mon.example.com/checks/web.home"
    )
    assert msg.link == "https://mon.example.com/checks/web.home"


def test_a_recovery_says_how_long_the_outage_lasted() -> None:
    up = notice("web.home", NoticeKind.RECOVERED, at=T0, duration=754.0)
    msg = RENDERER.render(up, check_info(), webhook_route(), "k")
    assert msg.title == "RECOVERED: web / home"
    assert "is UP again after 12 min 34 s down" in msg.body


def test_a_check_without_names_is_shown_by_its_id() -> None:
    from nyxmon.domain.alerting.notices import CheckInfo

    msg = RENDERER.render(notice("x.y"), CheckInfo("x.y"), webhook_route(), "k")
    assert msg.title == "DOWN: x.y"


def test_a_custom_template_sees_the_documented_variables_and_filters() -> None:
    custom = webhook_route(
        template=(
            "{{ check }}@{{ service }} {{ state }} {{ severity }} {{ labels.team }} "
            "{{ elapsed|duration }} {{ since|time }} {{ route }} {{ key }} {{ failing|join(',') }}"
        ),
        title_template="[{{ kind|upper }}] {{ check_id }}",
    )
    down = notice("web.home", at=T0 + 90, since=T0, failing=("a", "b"))
    msg = RENDERER.render(down, check_info(), custom, "the-key")
    assert msg.title == "[DOWN] web.home"
    assert msg.body == (
        "home@web down critical core 1 min 30 s 2023-11-14 22:13:20 UTC ops the-key a,b"
    )


@pytest.mark.parametrize(
    "template",
    [
        pytest.param("{{ no_such_variable }}", id="undefined-variable"),
        pytest.param("{% for x in %}", id="syntax-error"),
        pytest.param("{{ 1 / 0 }}", id="runtime-error"),
        pytest.param("{{ ''.__class__.__mro__ }}", id="sandbox-escape"),
    ],
)
def test_a_failing_custom_template_falls_back_to_the_default_and_says_so(
    template: str, caplog: pytest.LogCaptureFixture
) -> None:
    broken = webhook_route(template=template)
    with caplog.at_level(logging.WARNING):
        msg = RENDERER.render(notice("web.home"), check_info(), broken, "k")
    assert msg.body.startswith("web / home is DOWN since")
    assert len(msg.notes) == 1
    assert "body template of route 'ops' failed" in msg.notes[0]
    assert msg.notes[0] in msg.body
    assert "route 'ops'" in caplog.text


def test_a_failing_title_template_falls_back_alone() -> None:
    broken = webhook_route(title_template="{{ nope }}", template="custom {{ check }}")
    msg = RENDERER.render(notice("web.home"), check_info(), broken, "k")
    assert msg.title == "DOWN: web / home"
    assert msg.body.startswith("custom home")
    assert "title template" in msg.notes[0]


def test_templates_are_not_html_escaped() -> None:
    route = webhook_route(template="{{ message }}")
    msg = RENDERER.render(notice(message="a < b & c"), check_info(), route, "k")
    assert msg.body == "a < b & c"


def test_validate_template_reports_syntax_errors_with_their_line() -> None:
    assert validate_template("{{ check }} is {{ state }}") is None
    problem = validate_template("ok\n{% if %}")
    assert problem is not None
    assert problem.startswith("line 2:")


def test_odd_details_do_not_break_the_default_message() -> None:
    odd = notice(details={"weird": object()})
    msg = RENDERER.render(odd, check_info(), Route("r", "webhook", webhook_url="http://x/"), "k")
    assert msg.title == "DOWN: web / home"
