"""Playwright driving Debian's chromium against a running NyxMon (agent, web server and a real
HTTP target whose ``/switch`` can be flipped down and up).

The pages' Content-Security-Policy forbids eval, and Playwright polls a *string* predicate of
``wait_for_function`` through eval: give it a function (``"() => ..."``) instead."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from tests.browser.live import LiveSite, live_nyxmon
from tests.integration.web_pages.harness import PASSWORD, Running, running_nyxmon, wait_for
from tests.servers.http_target import ThreadedHttpTarget

CHECKS_YAML = """\
services:
  - name: Website
    description: The public site.
    checks:
      - name: home
        type: http
        url: {target}/health
"""
# Every service on the status page (empty list), so the check added by the test shows too.
STATUS_PAGES = "  status_pages:\n    - {slug: public, title: Example status}"
# One result decides the state, so the live change follows the first failing run.
FAST_ALERTS = "{failure_threshold: 1, success_threshold: 1, retries: 0}"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def target() -> Iterator[ThreadedHttpTarget]:
    running = ThreadedHttpTarget()
    running.start()
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def nyx(tmp_path_factory: pytest.TempPathFactory, target: ThreadedHttpTarget) -> Iterator[Running]:
    config = CHECKS_YAML.format(target=target.target.base_url)
    folder = tmp_path_factory.mktemp("nyxmon")
    with running_nyxmon(folder, config, web_yaml=STATUS_PAGES, alert=FAST_ALERTS) as running:
        wait_for(
            lambda: (
                (s := running.agent.control.statuses().get("website.home")) is not None
                and s.state == "up"
            ),
            what="the config check to be up",
        )
        yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    executable = shutil.which("chromium")
    if executable is None:
        pytest.skip("Debian's chromium is not installed (scripts/install-system installs it)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    context.set_default_timeout(15_000)
    try:
        yield context
    finally:
        context.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.js_errors = errors  # type: ignore[attr-defined]
    return page


def sign_in(page: Page, nyx: Running) -> None:
    page.goto(nyx.url + "/")
    page.wait_for_url(re.compile(r"/login\?next="))
    page.get_by_label("User").fill("admin")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(nyx.url + "/")


@pytest.fixture(scope="module")
def live_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveSite]:
    """A NyxMon of the module's own with a target to break and fix (tests/browser/live.py)."""
    with live_nyxmon(tmp_path_factory.mktemp("live")) as site:
        yield site
