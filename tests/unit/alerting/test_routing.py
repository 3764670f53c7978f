from __future__ import annotations

import logging
from types import MappingProxyType

import pytest

from nyxmon.domain.alerting.routing import routes_for
from nyxmon.domain.alerting.types import NoticeKind, Route, RouteMatch, Severity
from tests.unit.notify.fakes import notice


def route(name: str, *, default: bool = False, **match: object) -> Route:
    return Route(
        name=name,
        kind="webhook",
        webhook_url=f"http://127.0.0.1:9/{name}",
        match=RouteMatch(**match),  # type: ignore[arg-type]
        default=default,
    )


ROUTES = (
    route("chat"),
    route("web-team", services=("web",)),
    route("pager", min_severity=Severity.CRITICAL),
    route("db-only", checks=("db.*",)),
    route("core-labels", labels=MappingProxyType({"team": "core"})),
    route("recoveries", kinds=(NoticeKind.RECOVERED,)),
    route("fallback", default=True),
)


def names(routes: tuple[Route, ...]) -> list[str]:
    return [r.name for r in routes]


def test_a_notice_goes_to_every_matching_route_in_config_order() -> None:
    chosen = routes_for(notice("web.home"), "web", {"team": "core"}, ROUTES)
    assert names(chosen) == ["chat", "web-team", "pager", "core-labels"]


def test_services_labels_kinds_and_severity_each_filter() -> None:
    warning = notice("api.users", NoticeKind.RECOVERED, severity=Severity.WARNING)
    chosen = routes_for(warning, "api", {"team": "edge"}, ROUTES)
    assert names(chosen) == ["chat", "recoveries"]


def test_check_patterns_match_the_check_id_or_its_name() -> None:
    by_id = routes_for(notice("db.primary"), "db", {}, [route("db-only", checks=("db.*",))])
    by_name = routes_for(
        notice("x.y"), "db", {}, [route("named", checks=("primary",))], check_name="primary"
    )
    neither = routes_for(notice("x.y"), "db", {}, [route("named", checks=("primary",))])
    assert names(by_id) == ["db-only"]
    assert names(by_name) == ["named"]
    assert neither == ()


def test_every_label_of_a_match_must_hold() -> None:
    both = route("both", labels=MappingProxyType({"team": "core", "env": "prod"}))
    assert routes_for(notice(), "web", {"team": "core"}, [both]) == ()
    assert names(routes_for(notice(), "web", {"team": "core", "env": "prod"}, [both])) == ["both"]


def test_default_routes_take_only_what_no_other_route_matched() -> None:
    only_web = (route("web-team", services=("web",)), route("fallback", default=True))
    assert names(routes_for(notice("web.home"), "web", {}, only_web)) == ["web-team"]
    assert names(routes_for(notice("db.main"), "db", {}, only_web)) == ["fallback"]


def test_a_default_route_still_applies_its_own_filter() -> None:
    picky = (
        route("web-team", services=("web",)),
        route("fb", default=True, min_severity=Severity.WARNING),
    )
    info = notice("db.main", severity=Severity.INFO)
    assert routes_for(info, "db", {}, picky) == ()


def test_nothing_matching_and_no_default_means_no_route() -> None:
    assert routes_for(notice("db.main"), "db", {}, [route("web", services=("web",))]) == ()


def test_an_escalation_naming_routes_goes_to_exactly_those() -> None:
    escalation = notice("web.home", NoticeKind.ESCALATION, routes=("pager", "fallback"))
    assert names(routes_for(escalation, "web", {}, ROUTES)) == ["pager", "fallback"]


def test_an_escalation_naming_unknown_routes_uses_the_known_ones_and_says_so(
    caplog: pytest.LogCaptureFixture,
) -> None:
    escalation = notice("web.home", NoticeKind.ESCALATION, routes=("nope", "pager"))
    with caplog.at_level(logging.WARNING):
        chosen = routes_for(escalation, "web", {}, ROUTES)
    assert names(chosen) == ["pager"]
    assert "nope" in caplog.text


def test_an_escalation_naming_only_unknown_routes_falls_back_to_matching() -> None:
    escalation = notice("db.main", NoticeKind.ESCALATION, routes=("nope",))
    chosen = routes_for(escalation, "db", {}, (route("fallback", default=True),))
    assert names(chosen) == ["fallback"]


def test_an_escalation_without_routes_is_routed_like_any_notice() -> None:
    escalation = notice("web.home", NoticeKind.ESCALATION)
    assert names(routes_for(escalation, "web", {}, (route("web-team", services=("web",)),))) == [
        "web-team"
    ]


def test_a_route_listed_twice_is_used_once() -> None:
    twice = (route("chat"), route("chat"))
    assert names(routes_for(notice(), "web", {}, twice)) == ["chat"]
