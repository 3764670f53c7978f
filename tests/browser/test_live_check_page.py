"""The check page follows the live feed in a real browser: break a real target with the page
open, and every element tells the same story without a reload; fix it, and they all agree on
the end of the incident.

The target is an HTTP server on 127.0.0.1 whose ``/switch`` answers 200 or 503 as the test
says; the check runs every second and one result decides its state, so each step waits for
a condition (Playwright's ``expect``), never for a fixed time.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from nyxmon.domain.durations import human_duration
from tests.browser.conftest import sign_in
from tests.browser.live import LiveSite
from tests.integration.web_pages.harness import wait_for

pytestmark = pytest.mark.browser
expect.set_options(timeout=10_000)

CHECK = "shop.switch"


def _runs_24h(page: Page) -> int:
    text = page.locator('#uptime .card[data-window="24h"] .runs').inner_text()
    return int(text.split()[0].replace(",", ""))


def test_breaking_and_fixing_the_target_changes_every_element_of_the_open_check_page(
    page: Page, live_site: LiveSite, artifacts_dir: Path
) -> None:
    site = live_site
    site.switch(up=True)
    site.wait_state(CHECK, "up")
    sign_in(page, site.nyx)
    page.goto(site.nyx.url + f"/checks/{CHECK}")
    badge = page.locator("#check-state")
    failing = page.locator("#failing")
    incidents = page.locator("#incidents tr.incident")
    ongoing = page.locator("#incidents tr.incident.ongoing")
    newest = page.locator("#recent tbody tr").first
    chart = page.locator("#latency-chart")
    expect(badge).to_have_text("Up")
    expect(failing).to_be_hidden()
    expect(page.locator("#incidents")).to_contain_text("No incidents in the last 90 days")
    expect(newest.locator(".badge")).to_have_class("badge s-up")
    page.wait_for_function("() => window.nyxmonLive && window.nyxmonLive.connected")
    expect(chart).to_have_attribute("data-runs", re.compile(r"^\d+$"))
    runs_before = _runs_24h(page)
    chart_runs_before = int(chart.get_attribute("data-runs") or "0")
    page.evaluate("window.__sameDocument = true")

    # -- break it: state, incident, failure panel, results, counters, chart, beats ---------
    site.switch(up=False)
    expect(badge).to_have_text("Down")
    expect(page.locator(f'[data-check="{CHECK}"]')).to_have_class("s-down")
    expect(failing).to_be_visible()
    expect(failing.get_by_role("heading", name="Why the last run failed")).to_be_visible()
    expect(failing).to_contain_text("503")
    expect(page.locator("#last-result [data-field=message]")).to_contain_text("503")
    expect(newest.locator(".badge")).to_have_class("badge s-down")
    expect(page.locator("[data-beats] .b-d").first).to_be_visible()
    expect(ongoing).to_have_count(1)
    expect(ongoing).to_contain_text("Ongoing")
    duration = ongoing.locator("td.duration")
    first = duration.inner_text()
    expect(duration).not_to_have_text(first)  # an ongoing incident keeps counting
    assert _runs_24h(page) > runs_before
    page.wait_for_function(
        f"() => Number(document.querySelector('#latency-chart').dataset.runs) > {chart_runs_before}"
    )
    api = site.session.get(site.nyx.url + f"/api/v1/checks/{CHECK}", timeout=10).json()
    assert api["state"] == "down"
    page.screenshot(path=str(artifacts_dir / "browser-live-check-down.png"), full_page=True)

    # -- fix it: the incident ends with a fixed duration and the panel goes -----------------
    site.switch(up=True)
    expect(badge).to_have_text("Up")
    expect(failing).to_be_hidden()
    expect(ongoing).to_have_count(0)
    expect(incidents).to_have_count(1)
    expect(newest.locator(".badge")).to_have_class("badge s-up")
    ended = incidents.first
    expect(ended.locator("td").nth(1).locator("time")).to_be_visible()
    fixed = ended.locator("td.duration").inner_text()
    refreshes = page.evaluate("window.nyxmonLive.refreshes")
    page.wait_for_function(f"() => window.nyxmonLive.refreshes >= {refreshes + 2}")
    expect(ended.locator("td.duration")).to_have_text(fixed)  # no longer counting
    answer = site.session.get(site.nyx.url + f"/api/v1/checks/{CHECK}/incidents", timeout=10)
    api_incident = answer.json()[0]
    assert api_incident["end"] is not None
    assert human_duration(api_incident["end"] - api_incident["start"]) == fixed
    assert page.evaluate("window.__sameDocument") is True, "the page was reloaded"
    assert page.js_errors == []  # type: ignore[attr-defined]
    page.screenshot(path=str(artifacts_dir / "browser-live-check-fixed.png"), full_page=True)


def test_the_browser_shows_durations_as_the_server_does(page: Page, live_site: LiveSite) -> None:
    sign_in(page, live_site.nyx)
    page.goto(live_site.nyx.url + f"/checks/{CHECK}")
    for seconds in (0, 0.9, 1, 59, 60, 61, 125, 3599, 3600, 3660, 11100, 86399, 86400, 90061):
        shown = page.evaluate(f"window.nyxmonLive.duration({seconds})")
        assert shown == human_duration(seconds), seconds


def test_older_results_are_a_page_away_and_the_address_keeps_the_page(
    page: Page, live_site: LiveSite
) -> None:
    site = live_site
    body = {
        "service": "Ops",
        "check": {"name": "fast", "type": "http", "url": site.target.url("/health")},
    }
    created = site.session.post(site.nyx.url + "/api/v1/checks", json=body, timeout=10)
    assert created.status_code == 201, created.text
    for _ in range(45):  # real runs, recorded as usual, without waiting for 45 intervals
        ran = site.session.post(site.nyx.url + "/api/v1/checks/ops.fast/run", timeout=10)
        assert ran.status_code == 200, ran.text
    store = site.nyx.agent.store
    wait_for(lambda: store.count_results("ops.fast") >= 45, what="45 results")
    sign_in(page, site.nyx)
    page.goto(site.nyx.url + "/checks/ops.fast")
    rows = page.locator("#recent tbody tr")
    ids = "rows => rows.map(r => Number(r.dataset.result))"
    expect(rows).to_have_count(20)
    page.get_by_role("link", name="Older results").click()
    expect(page.get_by_role("heading", name="Older results")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/checks/ops\.fast\?cursor=[0-9.]+%3A\d+$"))
    older = rows.evaluate_all(ids)
    assert len(older) == 20
    assert older == sorted(older, reverse=True)
    stored = [s.id for s in store.results("ops.fast", limit=1000).items]
    first = stored.index(older[0])
    assert stored[first : first + 20] == older, "the older page skips or repeats results"
    assert first >= 20
    page.reload()  # the address holds the page, and an older page does not move
    expect(page.get_by_role("heading", name="Older results")).to_be_visible()
    assert rows.evaluate_all(ids) == older
    page.get_by_role("link", name="Newest results").click()
    expect(page.get_by_role("heading", name="Recent results")).to_be_visible()
    expect(page).to_have_url(site.nyx.url + "/checks/ops.fast")
    assert max(rows.evaluate_all(ids)) > max(older)
    assert site.session.delete(site.nyx.url + "/api/v1/checks/ops.fast", timeout=10).ok
