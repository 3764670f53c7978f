"""What the pages say, in words and numbers, against a running agent: a check without results
says so in a sentence, every percentage has the dashboard's one format, states have the API's
names, the public status page keeps itself current (also without JavaScript), and the API's
documentation page is written for its users."""

from __future__ import annotations

import re

import requests
from tests.integration.web_pages.harness import Running

from nyxmon.web.pages.formatting import STATE_LABELS, percent

#: Anything a user should never read on the API's page: reStructuredText, internal names.
INTERNAL = (
    "``",
    ":class:",
    ":func:",
    ":mod:",
    "cache_seconds",
    "run_timeout",
    "hammered",
    "API-owned",
    "state machine",
    "AgentStatistics",
    "dispatcher",
    "outbox",
)


def test_a_paused_check_without_results_says_so_in_a_sentence(
    nyx: Running, session: requests.Session
) -> None:
    body = {
        "service": "Ops",
        "check": {"name": "sleeper", "type": "http", "url": "http://127.0.0.1:9/", "paused": True},
    }
    assert session.post(nyx.url + "/api/v1/checks", json=body).status_code == 201
    html = session.get(nyx.url + "/checks/ops.sleeper").text
    last = re.search(r'<p id="last-result".*?</p>', html, re.S)
    assert last is not None
    text = " ".join(re.sub(r"<[^>]+>", " ", last.group(0)).split())
    assert text == "No results yet: the check is paused."
    assert 'data-field="state">Paused<' in html
    assert not re.search(r"never\s*:", html)
    assert session.delete(nyx.url + "/api/v1/checks/ops.sleeper").status_code == 204


def test_percentages_have_one_format_on_every_page(nyx: Running, session: requests.Session) -> None:
    shown = re.compile(r"(\d+(?:\.\d+)?) %")
    pages = {
        "status page": requests.get(nyx.url + "/status/public", timeout=10).text,
        "check page": session.get(nyx.url + "/checks/website.broken").text,
    }
    for name, html in pages.items():
        numbers = shown.findall(re.sub(r"<p class=\"sp-legend\".*?</p>", "", html, flags=re.S))
        assert numbers, name
        for number in numbers:
            assert percent(float(number)) == f"{number} %", f"{name}: {number} %"
    status = pages["status page"]
    assert "100 % uptime" in status  # website.home, every run passed
    assert "100.0 %" not in status


def test_the_status_page_uses_the_api_state_names(nyx: Running) -> None:
    html = requests.get(nyx.url + "/status/public", timeout=10).text
    badges = re.findall(r'<span class="badge s-(\w+)">([^<]+)</span>', html)
    assert badges
    for state, word in badges:
        assert word == STATE_LABELS[state], (state, word)
    assert "Operational<" not in html
    assert "Unstable" not in html


def test_the_status_page_refreshes_itself_with_and_without_javascript(nyx: Running) -> None:
    html = requests.get(nyx.url + "/status/public", timeout=10).text
    max_age = nyx.server.app.state.nyxmon.settings.public_max_age
    assert f'<noscript><meta http-equiv="refresh" content="{max_age}"></noscript>' in html
    assert re.search(
        rf'<div class="status-page" data-refresh="{max_age}" data-version="[\d.]+"', html
    )
    assert "js/status.js" in html


def test_the_api_documentation_is_written_for_users(
    nyx: Running, session: requests.Session
) -> None:
    html = session.get(nyx.url + "/api/v1/docs").text
    for word in INTERNAL:
        assert word not in html, word
    operations = re.findall(r'<article class="panel api-op" id="([^"]+)".*?</article>', html, re.S)
    schema = session.get(nyx.url + "/api/v1/openapi.json").json()
    expected = sum(len(methods) for methods in schema["paths"].values())
    assert len(operations) == expected
    for article in re.findall(r'<article class="panel api-op".*?</article>', html, re.S):
        paragraphs = re.findall(r"<p>(.*?)</p>", article, re.S)
        assert len(paragraphs) >= 2, article[:200]  # the summary, then what it does
        assert "<td></td>" not in article, article[:200]  # every parameter is explained
    assert "<code>next_cursor</code>" in html  # inline code is code, not backticks
    assert re.search(r'<h2 id="checks">Checks</h2>', html)
