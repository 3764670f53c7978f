"""Every kind of page keeps to the Content-Security-Policy in a real browser, and still works:
no inline script, style or eval is refused on the login page, the overview (live), a check
page (uPlot chart, live), the forms (htmx swaps), the account page, the status page (its own
refresh) and the API docs; and signing out, or out everywhere, ends the session at once.

Violations are caught twice: ``securitypolicyviolation`` events (recorded from before any
page script runs) and the console's "Refused to ..." messages.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, expect

from tests.browser.conftest import sign_in
from tests.browser.live import LiveSite

pytestmark = pytest.mark.browser
expect.set_options(timeout=10_000)

CHECK = "shop.switch"
RECORD_VIOLATIONS = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__csp.push(e.violatedDirective + " " + (e.blockedURI || "inline") + " " +
                    (e.sourceFile || "") + ":" + e.lineNumber);
});
"""


class Watched:
    """A page whose CSP violations are collected (console and events)."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.console: list[str] = []
        page.on("console", self._console)

    def _console(self, message: ConsoleMessage) -> None:
        text = message.text
        if "Content Security Policy" in text or text.startswith("Refused to"):
            self.console.append(text)

    def violations(self) -> list[str]:
        events = self.page.evaluate("window.__csp || []")
        return [*self.console, *events]


@pytest.fixture
def watched(browser: Browser) -> Iterator[tuple[BrowserContext, Watched]]:
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    context.set_default_timeout(15_000)
    context.add_init_script(RECORD_VIOLATIONS)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.js_errors = errors  # type: ignore[attr-defined]
    try:
        yield context, Watched(page)
    finally:
        context.close()


def test_every_kind_of_page_works_within_the_policy(
    watched: tuple[BrowserContext, Watched], live_site: LiveSite
) -> None:
    _, w = watched
    page, site = w.page, live_site
    site.switch(up=True)
    site.wait_state(CHECK, "up")

    page.goto(site.nyx.url + "/login")
    assert w.violations() == [], "login"
    sign_in(page, site.nyx)

    # -- the overview, live ------------------------------------------------------------------
    row = page.locator(f'[data-check="{CHECK}"]')
    expect(row.locator("[data-field=state]")).to_have_text("Up")
    page.wait_for_function("() => window.nyxmonLive && window.nyxmonLive.connected")
    site.switch(up=False)
    expect(row.locator("[data-field=state]")).to_have_text("Down")
    assert w.violations() == [], "overview"

    # -- a check page: the chart draws, the page follows the feed ----------------------------
    page.goto(site.nyx.url + f"/checks/{CHECK}")
    chart = page.locator("#latency-chart")
    expect(chart.locator("canvas")).to_have_count(1)
    expect(chart).to_have_attribute("data-points", re.compile(r"^[1-9]\d*$"))
    expect(page.locator("#recent svg.phases").first).to_be_attached()
    page.wait_for_function("() => window.nyxmonLive && window.nyxmonLive.connected")
    site.switch(up=True)
    expect(page.locator("#check-state")).to_have_text("Up")
    page.get_by_role("group", name="Time window").get_by_role("button", name="1h").click()
    expect(page.locator('#latency-chart[data-window="1h"] canvas')).to_have_count(1)
    assert w.violations() == [], "check page"

    # -- the form: choosing another type swaps the form in (htmx) ----------------------------
    page.goto(site.nyx.url + "/checks/new")
    page.locator("#f-type").select_option("dns")
    expect(page.locator("#f-query_name")).to_be_visible()
    assert w.violations() == [], "form"

    # -- the API docs, the status page (it refreshes itself) ---------------------------------
    page.goto(site.nyx.url + "/api/v1/docs")
    expect(page.get_by_role("heading", name=re.compile("API"))).to_be_visible()
    assert w.violations() == [], "API docs"
    page.goto(site.nyx.url + "/status/public")
    expect(page.locator(".sp-service", has_text="Shop").locator("h2 .badge")).to_have_text("Up")
    # A function, not a string: the policy forbids eval, Playwright's string polling too.
    page.wait_for_function("() => window.nyxmonStatus && window.nyxmonStatus.refreshes >= 1")
    assert w.violations() == [], "status page"
    assert page.js_errors == []  # type: ignore[attr-defined]


def test_sign_out_and_sign_out_everywhere_end_sessions_in_the_browser(
    watched: tuple[BrowserContext, Watched], browser: Browser, live_site: LiveSite
) -> None:
    context, w = watched
    page, site = w.page, live_site
    sign_in(page, site.nyx)
    copy = next(c for c in context.cookies() if c["name"] == "nyxmon_session")

    # Sign out: the same cookie, put back into a browser, no longer gets in.
    page.get_by_role("button", name=re.compile("Sign out")).click()
    page.wait_for_url(re.compile(r"/login$"))
    other = browser.new_context()
    try:
        other.add_cookies([copy])
        replay = other.new_page()
        replay.goto(site.nyx.url + "/")
        replay.wait_for_url(re.compile(r"/login\?next="))
    finally:
        other.close()

    # Sign out everywhere, from the account page: the other browser's session ends too.
    sign_in(page, site.nyx)
    elsewhere = browser.new_context()
    try:
        phone = elsewhere.new_page()
        sign_in(phone, site.nyx)
        page.get_by_role("link", name="Account").click()
        expect(page.get_by_role("heading", name="Signed-in sessions")).to_be_visible()
        assert page.locator("table.sessions tbody tr").count() >= 2  # this one and the phone's
        assert w.violations() == [], "account page"
        page.get_by_role("button", name="Sign out everywhere").click()
        page.wait_for_url(re.compile(r"/login$"))
        phone.goto(site.nyx.url + "/")
        phone.wait_for_url(re.compile(r"/login\?next="))
    finally:
        elsewhere.close()
