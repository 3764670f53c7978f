"""The overview page and its fragments against a running agent: every check with its state,
grouped by service, filtered on the server, beats for the rows on screen, login required."""

from __future__ import annotations

import re

import pytest
import requests
from tests.integration.web_pages.harness import Running, wait_for


def _row_ids(html: str) -> list[str]:
    return re.findall(r'<tr id="live-([^"]+)" data-check=', html)


def _state_of(html: str, check_id: str) -> str:
    row = re.search(rf'<tr id="live-{re.escape(check_id)}".*?</tr>', html, re.S)
    assert row is not None, f"no row for {check_id}"
    badge = re.search(r'class="badge s-(\w+)" data-field="state">(\w+)<', row.group(0))
    assert badge is not None
    return f"{badge.group(1)}:{badge.group(2)}"


def test_overview_shows_every_check_grouped_by_service_with_state_in_words(
    nyx: Running, session: requests.Session
) -> None:
    page = session.get(nyx.url + "/")
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    html = page.text
    assert _row_ids(html) == ["api.health", "website.broken", "website.home"]
    groups = re.findall(
        r'<tr class="group">\s*<th colspan="7" scope="colgroup">\s*<a [^>]*>([^<]+)</a>', html
    )
    assert groups == ["API", "Website"]
    assert _state_of(html, "website.broken") == "down:Down"
    assert _state_of(html, "website.home") == "up:Up"
    assert "[STATUS] (503) == 200" in html  # the last message, next to the state
    assert "data-live" in html
    assert "js/live.js" in html
    assert "3 of 3 checks shown" in html
    summary = re.search(r'<p class="summary".*?</p>', html, re.S)
    assert summary is not None
    assert "1 down" in summary.group(0)
    assert "2 up" in summary.group(0)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        pytest.param("q=broken", ["website.broken"], id="search"),
        pytest.param("q=JSON", ["api.health"], id="search ignores case"),
        pytest.param("state=down", ["website.broken"], id="state"),
        pytest.param("service=Website", ["website.broken", "website.home"], id="service"),
        pytest.param("type=json", ["api.health"], id="type"),
        pytest.param("label=tier%3Dfront", ["website.home"], id="label"),
        pytest.param(
            "state=exploded",
            ["api.health", "website.broken", "website.home"],
            id="bad state ignored",
        ),
    ],
)
def test_rows_are_filtered_on_the_server(
    nyx: Running, session: requests.Session, query: str, expected: list[str]
) -> None:
    fragment = session.get(nyx.url + "/overview/rows?" + query, headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    assert _row_ids(fragment.text) == expected
    assert "<html" not in fragment.text
    # The address bar follows the filters, so a reload shows the same rows.
    assert fragment.headers["hx-push-url"].startswith("/")
    full = session.get(nyx.url + "/?" + query)
    assert _row_ids(full.text) == expected


def test_no_match_says_so_and_offers_every_check(nyx: Running, session: requests.Session) -> None:
    fragment = session.get(nyx.url + "/overview/rows?q=nothing-matches-this")
    assert _row_ids(fragment.text) == []
    assert "No check matches these filters" in fragment.text
    assert fragment.headers["hx-push-url"] == "/?q=nothing-matches-this"


def test_a_page_at_a_time_with_a_button_for_the_next(
    nyx: Running, session: requests.Session
) -> None:
    first = session.get(nyx.url + "/?limit=2").text
    assert _row_ids(first) == ["api.health", "website.broken"]
    more = re.search(r'hx-get="(/overview/rows\?[^"]+)"', first)
    assert more is not None
    assert "offset=2" in more.group(1)
    assert "Load 1 more" in first
    rest = session.get(nyx.url + more.group(1).replace("&amp;", "&"))
    assert _row_ids(rest.text) == ["website.home"]
    assert rest.text.count('class="group"') == 0  # Website's heading came with page one
    assert "hx-push-url" not in rest.headers  # appending does not change the address
    assert "3 of 3 checks shown" in rest.text


def test_bad_paging_parameters_are_refused(nyx: Running, session: requests.Session) -> None:
    assert session.get(nyx.url + "/overview/rows?limit=0").status_code == 422
    assert session.get(nyx.url + "/overview/rows?offset=-1").status_code == 422
    assert session.get(nyx.url + "/?limit=abc").status_code == 422


def test_beats_are_recent_results_oldest_first_for_the_asked_checks(
    nyx: Running, session: requests.Session
) -> None:
    wait_for(lambda: nyx.agent.store.count_results("website.broken") >= 3, what="three results")
    answer = session.get(
        nyx.url + "/overview/beats",
        params=[("id", "website.broken"), ("id", "website.home"), ("id", "no.such-check")],
    )
    assert answer.status_code == 200
    data = answer.json()
    assert data["beats"] == 30
    assert set(data["checks"]) == {"website.broken", "website.home"}
    broken = data["checks"]["website.broken"]["beats"]
    assert len(broken) >= 3
    assert {beat[1] for beat in broken} == {"d"}
    home = data["checks"]["website.home"]["beats"]
    assert {beat[1] for beat in home} == {"u"}
    times = [beat[0] for beat in home]
    assert times == sorted(times)
    assert all(beat[2] > 0 for beat in home)
    # Nothing is rolled up in a fresh database: the 24 h figure counts this hour's results.
    assert data["checks"]["website.home"]["uptime_24h"] == 100.0
    assert data["checks"]["website.broken"]["uptime_24h"] == 0.0


def test_the_summary_fragment_counts_states(nyx: Running, session: requests.Session) -> None:
    fragment = session.get(nyx.url + "/overview/summary")
    assert fragment.status_code == 200
    assert "<strong>3</strong> checks" in fragment.text
    assert 'href="/?state=down">1 down</a>' in fragment.text


@pytest.mark.parametrize(
    "path", ["/", "/overview/rows", "/overview/summary", "/overview/beats?id=website.home"]
)
def test_pages_send_strangers_to_the_login(nyx: Running, path: str) -> None:
    answer = requests.get(nyx.url + path, allow_redirects=False, timeout=10)
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/login?next=")
    assert "website.home" not in answer.text
