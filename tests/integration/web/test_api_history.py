"""Results, uptime, series, state history and incidents through the API; alerting endpoints."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from tests.integration.web.conftest import WebEnv, wait_for

from nyxmon.service_layer.records.alerts import Transition
from nyxmon.service_layer.records.batches import WriteBatch


def test_results_come_newest_first_in_keyset_pages(web: WebEnv) -> None:
    api = web.api()
    wait_for(lambda: web.agent.store.count_results("website.home") >= 3, what="three results")
    first = api.get(web.url + "/api/v1/checks/website.home/results?limit=2").json()
    assert len(first["items"]) == 2
    assert first["items"][0]["started_at"] >= first["items"][1]["started_at"]
    assert first["next_cursor"]
    second = api.get(
        web.url + "/api/v1/checks/website.home/results",
        params={"limit": 2, "cursor": first["next_cursor"]},
    ).json()
    seen = {item["id"] for item in first["items"]}
    assert second["items"]
    assert not seen & {item["id"] for item in second["items"]}
    assert second["items"][0]["started_at"] <= first["items"][1]["started_at"]


@pytest.mark.parametrize(
    ("query", "expect_some"),
    [
        pytest.param({"since": "1h"}, True, id="duration"),
        pytest.param({"since": str(time.time() - 3600)}, True, id="posix"),
        pytest.param({"since": "99999d"}, True, id="back-before-1970"),
        pytest.param({"since": "999999.999w" * 40}, True, id="many-parts"),
        pytest.param({"until": "99999d"}, False, id="until-before-1970"),
        pytest.param({"since": "2000-01-01T00:00:00Z", "until": "2000-01-02"}, False, id="iso"),
    ],
)
def test_results_by_time_range(web: WebEnv, query: dict[str, str], expect_some: bool) -> None:
    wait_for(lambda: web.agent.store.count_results("website.home") >= 1, what="a result")
    answer = web.get("/api/v1/checks/website.home/results", params=query)
    assert answer.status_code == 200, answer.text
    assert bool(answer.json()["items"]) is expect_some


@pytest.mark.parametrize(
    ("query", "field"),
    [
        pytest.param({"since": "yesterday"}, "query.since", id="words"),
        pytest.param({"until": "nan"}, "query.until", id="nan"),
        pytest.param({"since": "-5"}, "query.since", id="negative"),
        pytest.param({"cursor": "abc"}, "query.cursor", id="cursor"),
        pytest.param({"limit": "0"}, "query.limit", id="limit"),
    ],
)
def test_bad_result_queries_name_the_parameter(
    web: WebEnv, query: dict[str, str], field: str
) -> None:
    answer = web.get("/api/v1/checks/website.home/results", params=query)
    assert answer.status_code == 422, answer.text
    assert answer.json()["errors"][0]["field"] == field


@pytest.mark.parametrize(
    "path", ["results", "uptime", "series", "history", "incidents"], ids=lambda p: p
)
def test_history_of_an_unknown_check_is_404(web: WebEnv, path: str) -> None:
    answer = web.get(f"/api/v1/checks/nope.nothing/{path}")
    assert answer.status_code == 404
    assert answer.json()["detail"] == "no check with id 'nope.nothing'"


def test_uptime_covers_the_four_windows_with_percentiles(web: WebEnv) -> None:
    wait_for(lambda: web.agent.store.count_results("website.broken") >= 2, what="results")
    uptime = web.get("/api/v1/checks/website.broken/uptime").json()
    assert set(uptime["windows"]) == {"24h", "7d", "30d", "90d"}
    day = uptime["windows"]["24h"]
    assert day["count"] >= 2
    assert day["uptime_pct"] == 0.0
    assert day["duration_p99"] is not None


def test_series_has_one_point_per_step_for_the_window(web: WebEnv) -> None:
    wait_for(lambda: web.agent.store.count_results("website.home") >= 1, what="a result")
    series = web.get("/api/v1/checks/website.home/series", params={"window": "1h"}).json()
    assert series["step"] == 60.0
    assert 59 <= len(series["points"]) <= 61
    assert series["points"][-1]["count"] >= 1 or series["points"][-2]["count"] >= 1
    bad = web.get("/api/v1/checks/website.home/series", params={"window": "2h"})
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "query.window"


def _transitions(web: WebEnv, check_id: str, *moves: tuple[float, str, str]) -> None:
    web.agent.store.write_batch(
        WriteBatch(
            transitions=[
                Transition(check_id, at, before, after, f"{before}->{after}")
                for at, before, after in moves
            ]
        )
    )


QUIET = """\
services:
  - name: Website
    checks:
      - {name: home, type: http, url: "{target}/health", enabled: false}
"""


def test_history_and_incidents_are_read_from_state_changes(
    start_web: Callable[..., WebEnv],
) -> None:
    web = start_web(checks_yaml=QUIET)
    # The agent itself records the disabled check as paused once; wait for that first.
    wait_for(lambda: web.get("/api/v1/checks/website.home/history").json(), what="pause")
    (paused,) = web.get("/api/v1/checks/website.home/history").json()
    assert paused["to_state"] == "paused"
    now = time.time()
    _transitions(
        web,
        "website.home",
        (now - 5000, "pending", "up"),
        (now - 4000, "up", "down"),
        (now - 3400, "down", "up"),
        (now - 2000, "up", "degraded"),
        (now - 1000, "degraded", "down"),
    )
    mine = {"until": str(now - 500)}
    history = web.get("/api/v1/checks/website.home/history", params=mine).json()
    assert [t["to_state"] for t in history] == ["down", "degraded", "up", "down", "up"]
    everything = web.get("/api/v1/checks/website.home/history").json()
    assert everything[0]["to_state"] == "paused"
    incidents = web.get("/api/v1/checks/website.home/incidents").json()
    # Ordered by time, the agent's "paused" change (written at start) comes last here: an
    # incident ends with any change out of down.
    assert [(round(i["start"] - now), i["end"] is None) for i in incidents] == [
        (-1000, False),
        (-4000, False),
    ]
    assert incidents[1]["duration"] == pytest.approx(600, abs=0.01)
    assert incidents[0]["message"] == "degraded->down"
    # An incident still open when the window starts counts; one over before it does not.
    overlapping = web.get(
        "/api/v1/checks/website.home/incidents", params={"since": str(now - 3700)}
    ).json()
    assert [round(i["start"] - now) for i in overlapping] == [-1000, -4000]
    later = web.get("/api/v1/checks/website.home/incidents", params={"since": "3000s"}).json()
    assert [round(i["start"] - now) for i in later] == [-1000]


def test_ongoing_incidents_list_every_check_that_is_down(web: WebEnv) -> None:
    api = web.api()
    wait_for(
        lambda: (
            [i["check_id"] for i in api.get(web.url + "/api/v1/incidents").json()]
            == ["website.broken"]
        ),
        what="the broken check in the incident list",
    )
    incident = api.get(web.url + "/api/v1/incidents").json()[0]
    assert incident["end"] is None
    assert incident["start"] <= time.time()


def test_maintenance_and_routes_come_from_the_config_without_secrets(
    start_web: Callable[..., WebEnv],
) -> None:
    env = start_web(
        checks_yaml="""\
alerting:
  routes:
    - name: ops
      type: webhook
      url: "https://user:pw@hooks.example/notify?token=secret"
      default: true
    - name: chat
      type: apprise
      urls: ["tgram://123456:ABCDEF/987"]
      match: {services: [Website]}
maintenance:
  - name: nightly
    services: [Website]
    days: mon-sun
    from: "02:00"
    to: "03:00"
services:
  - name: Website
    checks:
      - name: home
        type: http
        url: {target}/health
""",
    )
    api = env.api()
    routes = {r["name"]: r for r in api.get(env.url + "/api/v1/routes").json()}
    # credentials and query are there, and masked
    assert routes["ops"]["targets"] == ["https://***@hooks.example/notify?***"]
    assert routes["chat"]["targets"] == ["tgram://***"]
    assert routes["chat"]["match"]["services"] == ["Website"]
    assert "secret" not in str(routes)
    assert "ABCDEF" not in str(routes)
    windows = api.get(env.url + "/api/v1/maintenance").json()
    assert [w["name"] for w in windows] == ["nightly"]
    assert windows[0]["scope"]["services"] == ["Website"]
    assert windows[0]["schedule"]["kind"] == "weekly"
    assert windows[0]["next_change"] is not None
    unknown = api.post(env.url + "/api/v1/notify/test", json={"route": "pager"})
    assert unknown.status_code == 404
    assert "known routes: ops, chat" in unknown.json()["detail"]
    empty = api.post(env.url + "/api/v1/notify/test", json={"route": ""})
    assert empty.status_code == 422
