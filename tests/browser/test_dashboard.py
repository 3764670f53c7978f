"""The dashboard in a real browser (Playwright + Debian's chromium) against a running agent.

One scenario walks what a user does: sign in, add an HTTP check through the form (a bad URL
first, answered next to the field), watch it come up, break its target and see it go down
live without a reload, open its chart, the public status page, and dark mode. Another walks
the pages with the keyboard alone, and one looks at a phone-sized screen. Screenshots go to
the artefacts folder; the delay from a result to the screen is measured and saved there as
``browser-live-latency.json`` (reported, not asserted: machines are noisy).
"""

from __future__ import annotations

import json
import statistics
import time
from pathlib import Path

import pytest
import requests
from playwright.sync_api import Page, expect

from tests.browser.conftest import sign_in
from tests.integration.web_pages.harness import Running, wait_for
from tests.servers.http_target import ThreadedHttpTarget

pytestmark = pytest.mark.browser

ROW = '[data-check="shop.switch"]'


def shot(page: Page, artifacts_dir: Path, name: str) -> None:
    page.screenshot(path=str(artifacts_dir / f"browser-{name}.png"), full_page=True)


def test_add_a_check_watch_it_go_up_and_down_live_then_chart_status_page_and_dark_mode(
    page: Page, nyx: Running, target: ThreadedHttpTarget, artifacts_dir: Path
) -> None:
    requests.post(target.url("/switch/up"), timeout=5)
    sign_in(page, nyx)
    expect(page.get_by_role("heading", name="Overview")).to_be_visible()
    expect(page.locator('[data-check="website.home"] [data-field=state]')).to_have_text("Up")
    shot(page, artifacts_dir, "01-overview")

    # -- add a check: a bad URL is answered next to the field, nothing is saved -------------
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Add check").click()
    expect(page.get_by_role("heading", name="Add a check")).to_be_visible()
    page.get_by_label("Service").fill("Shop")
    page.get_by_label("Name", exact=False).first.fill("switch")
    page.locator("#f-url").fill("not a url")
    page.locator("#f-interval").fill("1s")
    page.locator("#f-timeout").fill("800ms")
    page.get_by_role("button", name="Add check").click()
    error = page.locator("#f-url-error")
    expect(error).to_contain_text("must start with http:// or https://")
    expect(page.locator("#f-url")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#f-url")).to_be_focused()
    assert nyx.agent.store.get_check("shop.switch") is None
    shot(page, artifacts_dir, "02-form-error-next-to-field")

    page.locator("#f-url").fill(target.url("/switch"))
    page.get_by_role("button", name="Add check").click()
    page.wait_for_url("**/checks/shop.switch?done=created")
    expect(page.locator(f"{ROW} [data-field=state]")).to_have_text("Up")
    shot(page, artifacts_dir, "03-check-added-and-up")

    # -- break the target: the overview row turns down live, without a reload ----------------
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Overview").click()
    badge = page.locator(f"{ROW} [data-field=state]")
    expect(badge).to_have_text("Up")
    expect(page.locator(f"{ROW} [data-beats] .b-u").first).to_be_visible()
    page.wait_for_function("() => window.nyxmonLive && window.nyxmonLive.connected")
    page.evaluate(
        """(row) => {
            window.__sameDocument = true;
            window.__downAt = null;
            const badge = document.querySelector(row + ' [data-field=state]');
            new MutationObserver(() => {
                if (badge.textContent === 'Down' && window.__downAt === null) {
                    window.__downAt = Date.now() / 1000;
                }
            }).observe(badge, {childList: true, characterData: true, subtree: true});
        }""",
        ROW,
    )
    flipped_at = time.time()
    requests.post(target.url("/switch/down"), timeout=5)
    expect(badge).to_have_text("Down")
    expect(page.locator(ROW)).to_have_class("check s-down")
    assert page.evaluate("window.__sameDocument") is True, "the page was reloaded"
    down_at = page.evaluate("window.__downAt")
    assert isinstance(down_at, float)
    expect(page.locator(f"{ROW} [data-beats] .b-d").first).to_be_visible()
    shot(page, artifacts_dir, "04-overview-down-live")
    _save_latency(page, nyx, artifacts_dir, flipped_at, down_at)
    assert page.js_errors == []  # type: ignore[attr-defined]

    # -- the check page's chart -------------------------------------------------------------
    page.locator(ROW).get_by_role("link", name="switch").click()
    page.wait_for_url("**/checks/shop.switch")
    page.get_by_role("group", name="Time window").get_by_role("button", name="1h").click()
    chart = page.locator('#latency-chart[data-window="1h"]')
    expect(chart.locator("canvas")).to_have_count(1)
    points = int(chart.get_attribute("data-points") or "0")
    assert points > 0
    expect(page.get_by_role("heading", name="Why the last run failed")).to_be_visible()
    expect(page.locator("#recent tbody tr").first).to_be_visible()
    shot(page, artifacts_dir, "05-check-page-chart")
    requests.post(target.url("/switch/up"), timeout=5)

    # -- the public status page, then dark mode ---------------------------------------------
    public = page.context.browser.new_context()  # type: ignore[union-attr]
    try:
        visitor = public.new_page()
        visitor.goto(nyx.url + "/status/public")
        expect(visitor.get_by_role("heading", name="Example status")).to_be_visible()
        expect(visitor.locator(".sp-service h2")).to_contain_text(["Shop", "Website"])
        assert visitor.locator(".bars").first.locator("span").count() == 90
        shot(visitor, artifacts_dir, "06-status-page")
        toggle = visitor.get_by_role("button", name="Dark mode")
        expect(toggle).to_have_attribute("aria-pressed", "false")
        toggle.click()
        expect(visitor.locator("html")).to_have_attribute("data-theme", "dark")
        expect(toggle).to_have_attribute("aria-pressed", "true")
        background = visitor.evaluate("getComputedStyle(document.body).backgroundColor")
        assert background == "rgb(13, 17, 23)"
        visitor.reload()
        expect(visitor.locator("html")).to_have_attribute("data-theme", "dark")
        shot(visitor, artifacts_dir, "07-status-page-dark")
    finally:
        public.close()
    page.goto(nyx.url + "/")
    page.get_by_role("button", name="Dark mode").click()
    expect(page.locator("html")).to_have_attribute("data-theme", "dark")
    expect(badge).to_have_text("Up")  # the target is back and so is the check, live
    shot(page, artifacts_dir, "08-overview-dark")


def _save_latency(
    page: Page, nyx: Running, artifacts_dir: Path, flipped_at: float, down_at: float
) -> None:
    """Result-to-screen delays: of the change to DOWN, and of every live update seen."""
    wait_for(
        lambda: any(
            not s.result.ok for s in nyx.agent.store.results("shop.switch", since=flipped_at).items
        ),
        what="the failing result in the store",
    )
    failing = [
        s.result
        for s in nyx.agent.store.results("shop.switch", since=flipped_at, limit=100).items
        if not s.result.ok
    ]
    first = min(failing, key=lambda r: r.started_at)
    lags = [float(x) for x in page.evaluate("window.nyxmonLive.lags")]
    figures = {
        "state_change_result_to_dom_s": round(down_at - (first.started_at + first.duration), 4),
        "target_flip_to_dom_s": round(down_at - flipped_at, 4),
        "live_updates": len(lags),
        "update_lag_median_s": round(statistics.median(lags), 4) if lags else None,
        "update_lag_max_s": round(max(lags), 4) if lags else None,
        "coalesce_s": 0.3,
    }
    (artifacts_dir / "browser-live-latency.json").write_text(json.dumps(figures, indent=2))
    print("live latency:", figures)


def test_the_dashboard_works_with_the_keyboard_alone(
    page: Page, nyx: Running, artifacts_dir: Path
) -> None:
    page.goto(nyx.url + "/login")
    expect(page.get_by_label("User")).to_be_focused()  # autofocus
    page.keyboard.type("admin")
    page.keyboard.press("Tab")
    page.keyboard.type("correct-horse-battery")
    page.keyboard.press("Enter")
    page.wait_for_url(nyx.url + "/")

    page.keyboard.press("Tab")  # the skip link comes first on every page
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()
    box = skip.bounding_box()
    assert box is not None
    assert box["y"] >= 0  # on screen once focused
    page.keyboard.press("Enter")
    expect(page.locator("#content")).to_be_focused()

    search = page.get_by_role("searchbox", name="Search")
    for _ in range(10):
        page.keyboard.press("Tab")
        if search.evaluate("el => el === document.activeElement"):
            break
    expect(search).to_be_focused()
    outline = search.evaluate("el => getComputedStyle(el).outlineStyle")
    assert outline != "none", "the focused input shows no focus outline"
    page.keyboard.type("home")
    rows = page.locator("tr.check")
    expect(rows).to_have_count(1)
    expect(page).to_have_url(nyx.url + "/?q=home")
    shot(page, artifacts_dir, "09-keyboard-search")

    link = rows.first.get_by_role("link", name="home")
    for _ in range(15):
        page.keyboard.press("Tab")
        if link.evaluate("el => el === document.activeElement"):
            break
    expect(link).to_be_focused()
    page.keyboard.press("Enter")
    page.wait_for_url("**/checks/website.home")
    window_button = page.get_by_role("button", name="7d")
    window_button.focus()
    page.keyboard.press("Enter")
    expect(window_button).to_have_attribute("aria-pressed", "true")
    expect(page.locator('#latency-chart[data-window="7d"]')).to_have_count(1)


def test_the_overview_fits_a_phone_screen(page: Page, nyx: Running, artifacts_dir: Path) -> None:
    page.set_viewport_size({"width": 360, "height": 740})
    sign_in(page, nyx)
    expect(page.locator('[data-check="website.home"] [data-field=state]')).to_have_text("Up")
    expect(page.locator('[data-check="website.home"] [data-beats] .b-u').first).to_be_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360, f"the page is {width} px wide on a 360 px screen"
    shot(page, artifacts_dir, "10-overview-phone")
    page.goto(nyx.url + "/checks/new")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360, f"the form is {width} px wide on a 360 px screen"
    shot(page, artifacts_dir, "11-form-phone")
