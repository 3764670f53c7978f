"""The public status page keeps itself current for a visitor without a login; every page and
badge calls a state by the API's name for it; the theme switch says whether dark mode is on.
"""

from __future__ import annotations

import re

import pytest
import requests
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.browser.conftest import sign_in
from tests.browser.live import LiveSite
from tests.integration.web_pages.harness import wait_for

pytestmark = pytest.mark.browser
expect.set_options(timeout=10_000)


def _visitor(browser: Browser, **options: str) -> BrowserContext:
    context = browser.new_context(viewport={"width": 1024, "height": 800}, **options)  # type: ignore[arg-type]
    context.set_default_timeout(15_000)
    return context


def test_the_status_page_follows_a_break_and_a_fix_without_a_reload_or_a_login(
    browser: Browser, live_site: LiveSite
) -> None:
    site = live_site
    site.switch(up=True)
    site.wait_state("shop.switch", "up")
    context = _visitor(browser)
    try:
        visitor = context.new_page()
        visitor.goto(site.nyx.url + "/status/public")
        shop = visitor.locator(".sp-service", has_text="Shop").locator("h2 .badge")
        banner = visitor.locator(".banner")
        expect(shop).to_have_text("Up")
        expect(banner).to_have_text("All systems operational")
        # Without JavaScript the page reloads itself at its cache period instead.
        assert re.search(
            r'<noscript><meta http-equiv="refresh" content="1"></noscript>', visitor.content()
        )
        visitor.evaluate("window.__sameDocument = true")
        site.switch(up=False)
        expect(shop).to_have_text("Down")
        expect(banner).to_have_text("Some systems are down")
        expect(visitor.get_by_role("heading", name="Current incidents")).to_be_visible()
        site.switch(up=True)
        expect(shop).to_have_text("Up")
        expect(banner).to_have_text("All systems operational")
        expect(visitor.get_by_role("heading", name="Current incidents")).to_have_count(0)
        assert visitor.evaluate("window.__sameDocument") is True, "the page was reloaded"
        assert visitor.evaluate("window.nyxmonStatus.refreshes") >= 2
    finally:
        context.close()


def test_a_flapping_check_is_called_flapping_everywhere(
    page: Page, browser: Browser, live_site: LiveSite
) -> None:
    site = live_site
    body = {
        "service": "Shop",
        "check": {
            "name": "flaky",
            "type": "http",
            "url": site.target.url("/flaky"),
            "alert": {"flap_window": 4, "flap_high": 0.5, "flap_low": 0.2},
        },
    }
    created = site.session.post(site.nyx.url + "/api/v1/checks", json=body, timeout=10)
    assert created.status_code == 201, created.text
    try:
        site.wait_state("shop.flaky", "flapping")
        api = site.session.get(site.nyx.url + "/api/v1/checks/shop.flaky", timeout=10).json()
        assert api["state"] == "flapping"
        badge = requests.get(site.nyx.url + "/badge/shop.flaky/status.svg", timeout=10).text
        assert 'aria-label="status: flapping"' in badge
        sign_in(page, site.nyx)
        expect(page.locator('[data-check="shop.flaky"] [data-field=state]')).to_have_text(
            "Flapping"
        )
        page.goto(site.nyx.url + "/checks/shop.flaky")
        expect(page.locator("#check-state")).to_have_text("Flapping")
        context = _visitor(browser)
        try:
            visitor = context.new_page()
            visitor.goto(site.nyx.url + "/status/public")
            flaky = visitor.locator(".sp-checks li", has_text="flaky").locator(".badge")
            expect(flaky).to_have_text("Flapping")
            expect(visitor.locator(".banner")).to_have_text("Some systems are flapping")
            text = visitor.locator("body").inner_text()
            assert "Unstable" not in text
            assert "Operational" not in text.replace("All systems operational", "")
        finally:
            context.close()
    finally:
        site.session.delete(site.nyx.url + "/api/v1/checks/shop.flaky", timeout=10)
        wait_for(lambda: site.nyx.agent.store.get_check("shop.flaky") is None, what="removal")


@pytest.mark.parametrize(
    ("scheme", "dark_first"),
    [pytest.param("light", False, id="light system"), pytest.param("dark", True, id="dark system")],
)
def test_the_theme_switch_says_whether_dark_mode_is_on(
    browser: Browser, live_site: LiveSite, scheme: str, dark_first: bool
) -> None:
    context = _visitor(browser, color_scheme=scheme)
    try:
        visitor = context.new_page()
        visitor.goto(live_site.nyx.url + "/status/public")
        toggle = visitor.get_by_role("button", name="Dark mode", exact=True)
        words = toggle.locator(".theme-state")
        for dark in (dark_first, not dark_first, dark_first):
            expect(visitor.locator("html")).to_have_attribute(
                "data-theme", "dark" if dark else "light"
            )
            expect(toggle).to_have_attribute("aria-pressed", "true" if dark else "false")
            expect(words).to_have_text("on" if dark else "off")
            toggle.click()
    finally:
        context.close()
