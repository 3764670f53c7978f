"""The overview follows the live feed in a real browser: checks added or removed elsewhere (the
API, the CLI in another process) appear and go without a reload, the counts agree with the
rows and the API, a state change moves rows in problems-first order, and the view's filters
and order live in the address bar.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import sign_in
from tests.browser.live import LiveSite

pytestmark = pytest.mark.browser
expect.set_options(timeout=10_000)


def _nyxmon(site: LiveSite, *args: str) -> None:
    """The CLI, as a user runs it next to the agent (another process, the same database)."""
    config = site.nyx.folder / "nyxmon.yaml"
    command = [sys.executable, "-m", "nyxmon", *args, "-c", str(config)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def _api_total(site: LiveSite, **params: str) -> int:
    answer = site.session.get(site.nyx.url + "/api/v1/checks", params=params, timeout=10)
    assert answer.status_code == 200, answer.text
    total = answer.json()["total"]
    assert isinstance(total, int)
    return total


def test_checks_added_and_removed_elsewhere_come_and_go_live_and_the_counts_agree(
    page: Page, live_site: LiveSite, artifacts_dir: Path
) -> None:
    site = live_site
    site.switch(up=True)
    site.wait_state("shop.switch", "up")
    sign_in(page, site.nyx)
    summary = page.locator("#summary .summary strong")
    shown = page.locator("#rows tr.more.end")
    rows = page.locator("#rows tr.check")
    expect(rows).to_have_count(2)
    expect(summary).to_have_text("2")
    page.wait_for_function("() => window.nyxmonLive && window.nyxmonLive.connected")
    page.evaluate("window.__sameDocument = true")

    # -- through the API (another tab, a script) ---------------------------------------------
    body = {"service": "Ops", "check": {"name": "new", "type": "http", "url": site.target.url("/")}}
    created = site.session.post(site.nyx.url + "/api/v1/checks", json=body, timeout=10)
    assert created.status_code == 201, created.text
    expect(page.locator('[data-check="ops.new"]')).to_be_visible()
    expect(page.locator("#rows tr.group", has_text="Ops")).to_be_visible()
    expect(page.locator("#f-service option", has_text="Ops")).to_have_count(1)  # a choice now
    expect(rows).to_have_count(3)
    expect(summary).to_have_text("3")
    expect(shown).to_have_text("3 of 3 checks shown.")

    # -- through the CLI, in another process: the page has no other way to know ----------------
    _nyxmon(
        site, "check", "add", "--service", "Batch", "--name", "cli", "--type", "http",
        "--set", f"url={site.target.url('/health')}", "--interval", "1s", "--timeout", "900ms",
    )  # fmt: skip
    expect(page.locator('[data-check="batch.cli"]')).to_be_visible()
    expect(summary).to_have_text("4")
    expect(shown).to_have_text("4 of 4 checks shown.")
    expect(page.locator('[data-check="batch.cli"] [data-field=state]')).to_have_text("Up")
    assert _api_total(site) == 4

    # -- removed: through the API, then the CLI ----------------------------------------------
    assert site.session.delete(site.nyx.url + "/api/v1/checks/ops.new", timeout=10).ok
    expect(page.locator('[data-check="ops.new"]')).to_have_count(0)
    expect(page.locator("#rows tr.group", has_text="Ops")).to_have_count(0)
    expect(page.locator("#f-service option", has_text="Ops")).to_have_count(0)
    _nyxmon(site, "check", "remove", "batch.cli")
    expect(page.locator('[data-check="batch.cli"]')).to_have_count(0)
    expect(summary).to_have_text("2")
    expect(shown).to_have_text("2 of 2 checks shown.")

    # -- a state change: the row, its group's count and the page's counts agree ---------------
    uptime = page.locator('[data-check="shop.switch"] [data-field=uptime]')
    expect(uptime).to_have_text("100 %")
    site.switch(up=False)
    expect(page.locator('[data-check="shop.switch"] [data-field=state]')).to_have_text("Down")
    # The row's 24 h uptime follows its state at once (not when the beats next grow old).
    expect(uptime).not_to_have_text("100 %", timeout=5_000)
    expect(page.locator("#summary .pill.s-down")).to_have_text("1 down")
    expect(page.locator("#rows tr.group", has_text="Shop").locator(".pill.s-down")).to_have_text(
        "1 down"
    )
    assert _api_total(site, state="down") == 1
    page.screenshot(path=str(artifacts_dir / "browser-live-overview-down.png"), full_page=True)
    site.switch(up=True)
    expect(page.locator('[data-check="shop.switch"] [data-field=state]')).to_have_text("Up")
    expect(page.locator("#summary .pill.s-down")).to_have_count(0)
    expect(page.locator("#summary .pill.s-up")).to_have_text("2 up")
    assert page.evaluate("window.__sameDocument") is True, "the page was reloaded"
    assert page.js_errors == []  # type: ignore[attr-defined]


def test_problems_first_moves_a_failing_check_up_live_and_the_address_keeps_the_view(
    page: Page, live_site: LiveSite
) -> None:
    site = live_site
    site.switch(up=True)
    site.wait_state("shop.switch", "up")
    sign_in(page, site.nyx)
    ids = page.locator("#rows tr.check")
    expect(ids).to_have_count(2)
    assert ids.first.get_attribute("data-check") == "shop.switch"  # by service name: Shop first
    page.get_by_label("Order").select_option(label="Problems first")
    expect(page).to_have_url(site.nyx.url + "/?sort=problems")
    page.wait_for_function("() => window.nyxmonLive && window.nyxmonLive.connected")

    # Both are up: by name. Website's check fails: its group comes first, live.
    body = {
        "service": "Website",
        "check": {"name": "broken", "type": "http", "url": site.target.url("/status/503")},
    }
    assert site.session.post(site.nyx.url + "/api/v1/checks", json=body, timeout=10).ok
    expect(page.locator('[data-check="website.broken"] [data-field=state]')).to_have_text("Down")
    expect(ids.first).to_have_attribute("data-check", "website.broken")
    order = ids.evaluate_all("rows => rows.map(r => r.dataset.check)")
    assert order == ["website.broken", "website.home", "shop.switch"]

    # The search box and the order live in the address: a reload shows the same view.
    page.get_by_role("searchbox", name="Search").fill("web")
    expect(page).to_have_url(site.nyx.url + "/?q=web&sort=problems")
    expect(ids).to_have_count(2)
    page.reload()
    expect(page.get_by_role("searchbox", name="Search")).to_have_value("web")
    expect(page.get_by_label("Order")).to_have_value("problems")
    assert ids.evaluate_all("rows => rows.map(r => r.dataset.check)") == [
        "website.broken",
        "website.home",
    ]
    page.go_back()  # the unfiltered view, as it was
    expect(page).to_have_url(site.nyx.url + "/?sort=problems")
    expect(ids).to_have_count(3)
    assert site.session.delete(site.nyx.url + "/api/v1/checks/website.broken", timeout=10).ok
