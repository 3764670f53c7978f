"""A running NyxMon (agent + web server + a real HTTP target) shared by a test module."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from tests.integration.web_pages.harness import Running, running_nyxmon, wait_for
from tests.servers.http_target import ThreadedHttpTarget

CHECKS_YAML = """\
services:
  - name: Website
    description: The public site.
    checks:
      - name: home
        type: http
        url: {target}/health
        labels: {{tier: front}}
      - name: broken
        type: http
        url: {target}/status/503
        conditions: ["[STATUS] == 200"]
  - name: API
    checks:
      - name: health
        type: json
        url: {target}/json
        conditions: ["[BODY].status == UP"]
"""
STATUS_PAGES = (
    "  status_pages:\n    - {slug: public, title: Example status, services: [Website, API]}"
)


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
    folder: Path = tmp_path_factory.mktemp("nyxmon")
    config = CHECKS_YAML.format(target=target.target.base_url)
    with running_nyxmon(folder, config, web_yaml=STATUS_PAGES) as running:
        wanted = {"website.home": "up", "website.broken": "down", "api.health": "up"}

        def settled() -> bool:
            statuses = running.agent.control.statuses()
            return all(
                (s := statuses.get(check_id)) is not None and s.state == state
                for check_id, state in wanted.items()
            )

        wait_for(settled, what=f"the checks to settle as {wanted}")
        yield running


@pytest.fixture(scope="module")
def session(nyx: Running) -> requests.Session:
    return nyx.login()
