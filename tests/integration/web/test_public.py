"""Public routes: status pages, SVG badges and Prometheus /metrics."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable
from typing import Any

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families
from tests.integration.web.conftest import WebEnv, wait_for

from nyxmon.web.public.svg import badge_svg, text_width

PAGES = """\
  status_pages:
    - {slug: public, title: Our services, services: [Website], description: Hello}
    - {slug: all, title: Everything}"""


@pytest.fixture
def site(start_web: Callable[..., WebEnv]) -> WebEnv:
    env = start_web(web_yaml=PAGES)

    def settled() -> bool:
        states = {s.check_id: str(s.state) for s in env.agent.control.statuses().values()}
        return states.get("website.broken") == "down" and states.get("website.home") == "up"

    wait_for(settled, what="the alert states to settle (broken down, home up)")
    env.server.app.state.nyxmon.live.invalidate()
    return env


def test_status_page_json_shows_only_its_services_with_state_bars_and_incidents(
    site: WebEnv,
) -> None:
    answer = requests.get(site.url + "/status/public.json", timeout=10)
    assert answer.status_code == 200
    assert answer.headers["cache-control"] == "public, max-age=10"
    page = answer.json()
    assert (page["title"], page["description"]) == ("Our services", "Hello")
    assert [s["name"] for s in page["services"]] == ["Website"]
    website = page["services"][0]
    assert website["state"] == "down"  # the worst of its checks
    assert page["state"] == "down"
    assert len(website["days"]) == 90
    assert website["days"][-1]["count"] >= 2
    assert 0 < website["uptime_90d"] < 100
    assert {c["id"] for c in website["checks"]} == {"website.home", "website.broken"}
    assert [(i["service"], i["check"]) for i in page["incidents"]] == [("Website", "broken")]
    assert "url" not in answer.text
    assert "127.0.0.1" not in answer.text
    every = requests.get(site.url + "/status/all.json", timeout=10).json()
    assert [s["name"] for s in every["services"]] == ["API", "Website"]


def test_status_pages_are_cacheable_with_an_etag(site: WebEnv) -> None:
    first = requests.get(site.url + "/status/public", timeout=10)
    assert first.status_code == 200
    assert first.headers["content-type"].startswith("text/html")
    assert "Our services" in first.text
    etag = first.headers["etag"]
    again = requests.get(site.url + "/status/public", headers={"If-None-Match": etag}, timeout=10)
    assert again.status_code == 304
    assert again.content == b""


def test_an_unknown_status_page_is_404(site: WebEnv) -> None:
    assert requests.get(site.url + "/status/nope.json", timeout=10).status_code == 404
    html = requests.get(site.url + "/status/nope", headers={"Accept": "text/html"}, timeout=10)
    assert html.status_code == 404
    assert "no status page" in html.text


def _svg(url: str) -> tuple[int, ET.Element, requests.Response]:
    answer = requests.get(url, timeout=10)
    return answer.status_code, ET.fromstring(answer.text), answer


def test_status_badge_shows_the_state_in_its_colour(site: WebEnv) -> None:
    status, svg, answer = _svg(site.url + "/badge/website.broken/status.svg")
    assert status == 200
    assert answer.headers["content-type"] == "image/svg+xml"
    assert answer.headers["cache-control"] == "public, max-age=10"
    assert svg.get("aria-label") == "status: down"
    assert 'fill="#e05d44"' in answer.text
    _, labelled, _ = _svg(site.url + "/badge/website.broken/status.svg?label=shop")
    assert labelled.get("aria-label") == "shop: down"


def test_uptime_and_latency_badges(site: WebEnv) -> None:
    status, svg, _ = _svg(site.url + "/badge/website.broken/uptime/24h.svg")
    assert status == 200
    assert svg.get("aria-label") == "uptime 24h: 0 %"
    _, svg, _ = _svg(site.url + "/badge/website.home/uptime/7d.svg")
    assert svg.get("aria-label") == "uptime 7d: 100 %"
    _, svg, _ = _svg(site.url + "/badge/website.home/latency.svg")
    label = svg.get("aria-label") or ""
    assert label.startswith("response time 24h: ")
    assert label.endswith(" ms")
    assert (
        requests.get(site.url + "/badge/website.home/uptime/1y.svg", timeout=10).status_code == 422
    )


def test_badges_of_unknown_checks_are_grey_404s(site: WebEnv) -> None:
    for path in ("status.svg", "uptime/24h.svg", "latency.svg"):
        status, svg, _ = _svg(site.url + f"/badge/nope/{path}")
        assert status == 404
        assert (svg.get("aria-label") or "").endswith(": not found")


def test_badges_of_private_checks_look_exactly_like_those_of_unknown_ids(
    start_web: Callable[..., WebEnv], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only checks on a public status page have badges. A private check and an id that does
    not exist get the same status, headers and bytes, and neither touches the store (the
    same timing class: nothing to measure that tells them apart)."""
    env = start_web(
        web_yaml="  status_pages:\n    - {slug: site, title: Site, services: [Website]}"
    )
    wait_for(lambda: env.agent.store.count_results("api.health") >= 1, what="a result of api")
    store = env.server.app.state.nyxmon.context.store
    reads: list[str] = []
    for name in ("availability", "uptime_many", "series", "results", "get_check"):
        monkeypatch.setattr(store, name, _spy(getattr(store, name), name, reads))
    for path in ("status.svg", "uptime/24h.svg", "latency.svg", "uptime/7d.svg?label=x"):
        private = requests.get(env.url + f"/badge/api.health/{path}", timeout=10)
        unknown = requests.get(env.url + f"/badge/api.nope/{path}", timeout=10)
        assert private.status_code == unknown.status_code == 404, path
        assert private.content == unknown.content, path
        assert _shown_headers(private) == _shown_headers(unknown), path
    assert reads == []
    public = requests.get(env.url + "/badge/website.home/uptime/24h.svg", timeout=10)
    assert public.status_code == 200
    assert reads == ["availability"]


def _spy(real: Callable[..., Any], name: str, calls: list[str]) -> Callable[..., Any]:
    def spied(*args: Any, **kwargs: Any) -> Any:
        calls.append(name)
        return real(*args, **kwargs)

    return spied


def _shown_headers(answer: requests.Response) -> dict[str, str]:
    return {k.lower(): v for k, v in answer.headers.items() if k.lower() not in ("date",)}


def test_badge_width_follows_its_text() -> None:
    short = ET.fromstring(badge_svg("status", "up", "#4c1"))
    long = ET.fromstring(badge_svg("status", "maintenance", "#4c1"))
    assert int(long.get("width") or 0) > int(short.get("width") or 0)
    assert text_width("iii") < text_width("WWW")
    escaped = badge_svg("<b>", "&", "#4c1")
    assert "<b>" not in escaped
    ET.fromstring(escaped)


def _families(text: str) -> dict[str, object]:
    return {family.name: family for family in text_string_to_metric_families(text)}


def test_metrics_expose_per_check_series_and_the_agents_own_figures(site: WebEnv) -> None:
    # Counting starts when the web plane does: the first results may predate it.
    wait_for(
        lambda: (
            'check="website.broken",outcome="fail"'
            in requests.get(site.url + "/metrics", timeout=10).text
        ),
        what="a counted failure of the broken check",
    )
    answer = requests.get(site.url + "/metrics", timeout=10)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain")
    families = {f.name: f for f in text_string_to_metric_families(answer.text)}
    up = {s.labels["check"]: s.value for s in families["nyxmon_check_up"].samples}
    assert up["website.home"] == 1.0
    assert up["website.broken"] == 0.0
    state = {s.labels["check"]: s.value for s in families["nyxmon_check_state"].samples}
    assert state["website.broken"] == 2.0
    durations = families["nyxmon_check_duration_seconds"]
    assert durations.type == "histogram"
    phases = {s.labels["phase"] for s in durations.samples if s.labels["check"] == "website.home"}
    assert phases == {"total"}  # the other phases only on request: /metrics?phases=all
    every = requests.get(site.url + "/metrics", params={"phases": "all"}, timeout=10).text
    detailed = {f.name: f for f in text_string_to_metric_families(every)}
    phases = {
        s.labels["phase"]
        for s in detailed["nyxmon_check_duration_seconds"].samples
        if s.labels["check"] == "website.home"
    }
    assert {"total", "connect", "first_byte"} <= phases
    assert requests.get(site.url + "/metrics?phases=some", timeout=10).status_code == 422
    results = families["nyxmon_check_results"]
    outcomes = {
        (s.labels["check"], s.labels["outcome"])
        for s in results.samples
        if s.name.endswith("_total")
    }
    assert ("website.broken", "fail") in outcomes
    for name in (
        "nyxmon_runtime_loop_lag_seconds",
        "nyxmon_dispatcher_queue_depth",
        "nyxmon_dispatcher_batch_max_lag_seconds",
        "nyxmon_store_batch_seconds",
        "nyxmon_scheduler_start_lag_seconds",
        "nyxmon_outbox_rows",
        "nyxmon_agent_check_results",
    ):
        assert name in families, name
    info = [s for s in families["nyxmon_check_info"].samples if s.labels["check"] == "api.health"]
    assert info[0].labels["type"] == "json"


def test_metrics_forget_checks_that_were_removed(site: WebEnv) -> None:
    api = site.api()
    body = {"service": "Tmp", "check": {"name": "t", "type": "http", "url": site.url + "/healthz"}}
    assert api.post(site.url + "/api/v1/checks", json=body).status_code == 201
    wait_for(lambda: site.agent.store.count_results("tmp.t") >= 1, what="a result of tmp.t")
    wait_for(lambda: 'check="tmp.t"' in requests.get(site.url + "/metrics", timeout=10).text)
    assert api.delete(site.url + "/api/v1/checks/tmp.t").status_code == 204
    assert 'check="tmp.t"' not in requests.get(site.url + "/metrics", timeout=10).text


def test_metrics_token_is_required_when_configured(start_web: Callable[..., WebEnv]) -> None:
    env = start_web(web_yaml="  metrics_token: scrape-me-please-0123")
    assert requests.get(env.url + "/metrics", timeout=10).status_code == 401
    wrong = {"Authorization": "Bearer scrape-me-please-9999"}
    assert requests.get(env.url + "/metrics", headers=wrong, timeout=10).status_code == 401
    right = {"Authorization": "Bearer scrape-me-please-0123"}
    answer = requests.get(env.url + "/metrics", headers=right, timeout=10)
    assert answer.status_code == 200
    assert "nyxmon_check_up" in answer.text
