"""A service's ``labels`` and ``group`` from the config file reach its checks: the API's and the
CLI's label filters find them, routes match on them, notices carry them with the group, and
the overview and the status page show checks under their service group. A check's own label
wins over its service's."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from tests.integration.web_pages.harness import Running, running_nyxmon, wait_for
from tests.servers.http_target import ThreadedHttpTarget
from tests.servers.webhook_receiver import ThreadedWebhookReceiver

CONFIG = """\
alerting:
  routes:
    - {{name: web-team, type: webhook, url: '{hook}/web', match: {{labels: {{team: web}}}}}}
    - {{name: front-only, type: webhook, url: '{hook}/front', match: {{labels: {{tier: front}}}}}}
    - {{name: back-only, type: webhook, url: '{hook}/back', match: {{labels: {{tier: back}}}}}}
services:
  - name: Website
    group: Public
    labels: {{team: web, tier: back}}
    checks:
      - {{name: home, type: http, url: '{target}/health', labels: {{tier: front}}}}
      - {{name: broken, type: http, url: '{target}/status/503'}}
  - name: Billing
    labels: {{team: money}}
    checks:
      - {{name: ledger, type: http, url: '{target}/health'}}
  - name: API
    group: Internal
    checks:
      - {{name: health, type: http, url: '{target}/health', labels: {{team: api}}}}
"""
PAGES = "  status_pages:\n    - {slug: all, title: Everything}"


@pytest.fixture
def receiver() -> Iterator[ThreadedWebhookReceiver]:
    running = ThreadedWebhookReceiver()
    running.start()
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def nyx(
    tmp_path: Path, receiver: ThreadedWebhookReceiver
) -> Iterator[tuple[Running, ThreadedWebhookReceiver]]:
    with ThreadedHttpTarget() as target:
        config = CONFIG.format(hook=receiver.url("").rstrip("/"), target=target.base_url)
        alert = "{failure_threshold: 1, retries: 0}"
        with running_nyxmon(tmp_path / "nyx", config, web_yaml=PAGES, alert=alert) as running:
            wait_for(
                lambda: (
                    len(running.agent.control.statuses()) == 4
                    and all(s.state != "pending" for s in running.agent.control.statuses().values())
                ),
                what="every check decided",
            )
            yield running, receiver


def _ids(answer: requests.Response) -> list[str]:
    assert answer.status_code == 200, answer.text
    return [item["id"] for item in answer.json()["items"]]


def _cli_ids(nyx: Running, *args: str) -> set[str]:
    shown = subprocess.run(
        [
            sys.executable,
            "-m",
            "nyxmon",
            "check",
            "list",
            "--db",
            str(nyx.folder / "nyxmon.db"),
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "COLUMNS": "250"},
        check=True,
    ).stdout
    return set(re.findall(r"\b(website\.\w+|billing\.\w+|api\.\w+)\b", shown))


def test_checks_inherit_their_services_labels_and_group(
    nyx: tuple[Running, ThreadedWebhookReceiver],
) -> None:
    running, receiver = nyx
    session = running.login()
    api = running.url + "/api/v1/checks"

    # The API's filter and the CLI's, own label winning over the service's.
    assert _ids(session.get(api, params={"label": "team=web"})) == [
        "website.broken",
        "website.home",
    ]
    assert _ids(session.get(api, params={"label": "tier=front"})) == ["website.home"]
    assert _ids(session.get(api, params={"label": "tier=back"})) == ["website.broken"]
    assert _ids(session.get(api, params={"label": "team=api"})) == ["api.health"]
    assert _cli_ids(running, "--label", "team=web") == {"website.home", "website.broken"}
    assert _cli_ids(running, "--label", "tier=back") == {"website.broken"}
    assert _cli_ids(running, "--label", "team=money") == {"billing.ledger"}
    home = session.get(api + "/website.home").json()
    assert home["labels"] == {"tier": "front"}  # its own, as a PUT would set them
    assert home["effective_labels"] == {"team": "web", "tier": "front"}
    assert home["group"] == "Public"

    # Routes match on the inherited labels (team from the service, tier=back too, but not
    # tier=front: that is home's own); the notices carry them and the group.
    wait_for(
        lambda: len(receiver.state.accepted_for("website.broken")) >= 2, what="the DOWN notices"
    )
    notices = receiver.state.accepted_for("website.broken")
    assert sorted((doc["kind"], doc["route"]) for doc in notices) == [
        ("down", "back-only"),
        ("down", "web-team"),
    ]
    for doc in notices:
        assert doc["check"]["labels"] == {"team": "web", "tier": "back"}
        assert doc["check"]["group"] == "Public"
    assert {doc["check"]["id"] for doc in receiver.state.accepted} == {"website.broken"}

    # The overview shows checks under their service group, named groups first.
    overview = session.get(running.url + "/").text
    sections = re.findall(r'<tr class="section"><th [^>]*>([^<]+)</th>', overview)
    assert sections == ["Internal", "Public", "Other services"]
    order = re.findall(r'<tr id="live-([\w.]+)"', overview)
    assert order == ["api.health", "website.broken", "website.home", "billing.ledger"]

    # So does the status page.
    page: dict[str, Any] = requests.get(running.url + "/status/all.json", timeout=10).json()
    assert [(s["group"], s["name"]) for s in page["services"]] == [
        ("Internal", "API"),
        ("Public", "Website"),
        ("", "Billing"),
    ]
    html = requests.get(running.url + "/status/all", timeout=10).text
    assert re.findall(r'<h2 class="sp-group">([^<]+)</h2>', html) == [
        "Internal",
        "Public",
        "Other services",
    ]
