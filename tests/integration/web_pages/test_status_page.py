"""The public status page's HTML: no login, the same bytes for everyone (so it can be cached),
state in words, 90 daily bars per service, current incidents."""

from __future__ import annotations

import re

import requests
from tests.integration.web_pages.harness import Running
from tests.servers.http_target import ThreadedHttpTarget


def test_status_page_is_public_cacheable_and_the_same_for_everyone(
    nyx: Running, session: requests.Session
) -> None:
    anonymous = requests.get(nyx.url + "/status/public", timeout=10)
    assert anonymous.status_code == 200
    assert anonymous.headers["cache-control"].startswith("public, max-age=")
    etag = anonymous.headers["etag"]
    signed_in = session.get(nyx.url + "/status/public")
    # Nothing depends on the visitor: no CSRF token, no user name, same ETag.
    assert signed_in.headers["etag"] == etag
    assert "csrf" not in anonymous.text.lower()
    assert "Sign out" not in anonymous.text
    again = requests.get(nyx.url + "/status/public", headers={"If-None-Match": etag}, timeout=10)
    assert again.status_code == 304


def test_status_page_shows_services_states_bars_and_incidents(
    nyx: Running, target: ThreadedHttpTarget
) -> None:
    html = requests.get(nyx.url + "/status/public", timeout=10).text
    assert '<p class="banner s-down" role="status">Some systems are down' in html
    names = re.findall(r'<h2 id="sp-s\d+"><span>([^<]+)</span> <span class="badge s-(\w+)">', html)
    assert names == [("Website", "down"), ("API", "up")]
    assert html.count('data-day="') == 2 * 90
    assert "Today: " in html
    assert "89 days ago" in html
    incidents = re.search(r'id="sp-incidents".*?</section>', html, re.S)
    assert incidents is not None
    assert "<strong>Website</strong> · broken: down" in incidents.group(0)
    assert "The public site." in html
    assert "js/theme.js" in html
    assert "data-theme-toggle" in html
    # Only what the page shows: no check URLs or probe messages leave the process.
    assert target.target.base_url not in html
    assert "(503)" not in html


def test_unknown_status_pages_are_404(nyx: Running) -> None:
    answer = requests.get(nyx.url + "/status/nope", timeout=10, headers={"Accept": "text/html"})
    assert answer.status_code == 404
