"""The fragments live pages fetch when the event stream reports a change, over HTTP against a
running agent: the check page's sections (out-of-band swaps of every live part), pages of
older results, and the overview's live refresh (rows plus counts), in problems-first order
when asked."""

from __future__ import annotations

import re
import time

import pytest
import requests
from tests.integration.web_pages.harness import Running, wait_for

from nyxmon.service_layer.records.results import ResultCursor

LIVE_PARTS = (
    "check-state",
    "last-result",
    "head-uptime",
    "check-actions",
    "check-facts",
    "failing",
    "locations",
    "uptime",
    "recent",
    "incidents",
    "settings",
)


def _oob_ids(html: str) -> list[str]:
    return re.findall(r'<template>\s*<\w+ id="([^"]+)"[^>]*hx-swap-oob="true"', html)


def _row_ids(html: str) -> list[str]:
    return re.findall(r'<tr id="live-([^"]+)" data-check=', html)


def test_the_sections_answer_swaps_every_live_part_of_the_check_page(
    nyx: Running, session: requests.Session
) -> None:
    page = session.get(nyx.url + "/checks/website.broken").text
    for part in LIVE_PARTS:
        assert f'id="{part}"' in page, part  # every part the answer swaps is on the page
    answer = session.get(nyx.url + "/checks/website.broken/sections")
    assert answer.status_code == 200
    assert answer.headers["cache-control"] == "no-store"
    assert _oob_ids(answer.text) == list(LIVE_PARTS)
    assert "Why the last run failed" in answer.text
    assert "<code>[STATUS] (503) == 200</code>" in answer.text
    assert re.search(
        r'<tr class="incident ongoing">.*?data-elapsed-since="[\d.]+"', answer.text, re.S
    )
    healthy = session.get(nyx.url + "/checks/website.home/sections").text
    assert '<div id="failing" hidden hx-swap-oob="true"></div>' in healthy  # the panel goes


def test_the_sections_wait_for_the_result_the_event_announced(
    nyx: Running, session: requests.Session
) -> None:
    latest = nyx.agent.store.latest_results(["website.home"])["website.home"].result
    # The stream announces a result before the store commits it: a page asking with the
    # announced time gets that result, not the one before (the next run starts a second on).
    seen = latest.started_at + 0.9
    answer = session.get(nyx.url + "/checks/website.home/sections", params={"seen": seen})
    assert answer.status_code == 200
    first = re.search(r'<tr data-result="\d+">\s*<td><time data-local="([\d.]+)"', answer.text)
    assert first is not None
    assert float(first.group(1)) >= seen


@pytest.mark.parametrize(
    ("path", "status"),
    [
        pytest.param("/checks/no.such/sections", 404, id="unknown check"),
        pytest.param("/checks/website.home/sections?cursor=nonsense", 422, id="bad cursor"),
        pytest.param("/checks/website.home/recent?cursor=1.5", 422, id="cursor without id"),
    ],
)
def test_bad_fragment_requests_are_refused(
    nyx: Running, session: requests.Session, path: str, status: int
) -> None:
    assert session.get(nyx.url + path).status_code == status


def test_older_results_come_a_page_at_a_time_by_the_store_cursor(
    nyx: Running, session: requests.Session
) -> None:
    for _ in range(22):  # real runs, recorded as usual, without waiting for 22 intervals
        assert session.post(nyx.url + "/api/v1/checks/website.home/run").status_code == 200
    wait_for(lambda: nyx.agent.store.count_results("website.home") > 21, what="22 results")
    first = session.get(nyx.url + "/checks/website.home/recent").text
    newest = [int(i) for i in re.findall(r'<tr data-result="(\d+)">', first)]
    assert len(newest) == 20
    older_link = re.search(r'hx-get="/checks/website\.home/recent\?cursor=([^"]+)"', first)
    assert older_link is not None
    cursor = requests.utils.unquote(older_link.group(1))
    assert ResultCursor.decode(cursor).id == newest[-1]
    older = session.get(nyx.url + "/checks/website.home/recent", params={"cursor": cursor}).text
    ids = [int(i) for i in re.findall(r'<tr data-result="(\d+)">', older)]
    assert ids
    assert max(ids) < min(newest)
    assert "Older results" in older
    assert 'hx-push-url="/checks/website.home"' in older  # back to the newest
    full = session.get(nyx.url + "/checks/website.home", params={"cursor": cursor}).text
    assert [int(i) for i in re.findall(r'<tr data-result="(\d+)">', full)] == ids


def test_the_overview_live_refresh_brings_rows_and_counts_without_moving_the_address(
    nyx: Running, session: requests.Session
) -> None:
    answer = session.get(nyx.url + "/overview/rows", params={"live": "true", "limit": 500})
    assert answer.status_code == 200
    assert "hx-push-url" not in answer.headers
    assert _row_ids(answer.text) == ["api.health", "website.broken", "website.home"]
    summary = re.search(
        r'<template><div id="summary" hx-swap-oob="true">(.*?)</div></template>', answer.text, re.S
    )
    assert summary is not None
    assert "<strong>3</strong> checks" in summary.group(1)
    assert 'href="/?state=down">1 down</a>' in summary.group(1)
    choices = re.search(r'<div hx-swap-oob="innerHTML:#f-service">(.*?)</div>', answer.text, re.S)
    assert choices is not None
    assert re.findall(r'<option value="([^"]*)"', choices.group(1)) == ["", "API", "Website"]
    page = session.get(nyx.url + "/").text
    assert re.search(r'<div id="page" data-live data-catalog="\d+" data-states="-?\d+"', page)


def test_problems_first_puts_the_worst_groups_and_checks_on_top(
    nyx: Running, session: requests.Session
) -> None:
    by_name = session.get(nyx.url + "/").text
    assert _row_ids(by_name) == ["api.health", "website.broken", "website.home"]
    problems = session.get(nyx.url + "/?sort=problems").text
    assert _row_ids(problems) == ["website.broken", "website.home", "api.health"]
    assert '<option value="problems" selected>Problems first</option>' in problems
    rows = session.get(nyx.url + "/overview/rows", params={"sort": "problems", "q": "e"})
    assert rows.headers["hx-push-url"] == "/?q=e&sort=problems"
    unknown = session.get(nyx.url + "/?sort=sideways").text  # unknown orders: the default
    assert _row_ids(unknown) == ["api.health", "website.broken", "website.home"]


def test_pages_hand_the_event_stream_the_marks_they_were_rendered_with(
    nyx: Running, session: requests.Session
) -> None:
    page = session.get(nyx.url + "/checks/website.home").text
    found = re.search(r'data-catalog="(\d+)" data-states="(\d+)" data-now="([\d.]+)"', page)
    assert found is not None
    assert abs(float(found.group(3)) - time.time()) < 60
    hub = nyx.server.app.state.nyxmon.hub
    assert int(found.group(1)) == hub.catalog_version
