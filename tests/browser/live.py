"""A running NyxMon for the live-page browser tests: its own target, fast everything.

Each test module that uses :func:`live_site` gets an agent whose checks run every second and
change state on one result, a status page cached for one second, and a catalog watch that
looks five times a second, so live changes show within a second or two and every wait is a
condition, never a sleep.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import requests

from tests.integration.web_pages.harness import Running, running_nyxmon, wait_for
from tests.servers.http_target import ThreadedHttpTarget

__all__ = ["LiveSite", "live_nyxmon"]

CHECKS_YAML = """\
services:
  - name: Shop
    checks:
      - name: switch
        type: http
        url: {target}/switch
  - name: Website
    checks:
      - name: home
        type: http
        url: {target}/health
"""
STATUS_PAGES = "  status_pages:\n    - {slug: public, title: Example status}"
FAST_ALERTS = "{failure_threshold: 1, success_threshold: 1, retries: 0}"


@dataclass
class LiveSite:
    nyx: Running
    target: ThreadedHttpTarget
    #: Signed in, with the CSRF header: the API as another browser tab or script uses it.
    session: requests.Session

    def switch(self, *, up: bool) -> None:
        """Make the target's ``/switch`` answer 200 (up) or 503."""
        answer = requests.post(self.target.url("/switch/up" if up else "/switch/down"), timeout=5)
        answer.raise_for_status()

    def wait_state(self, check_id: str, state: str) -> None:
        def reached() -> bool:
            status = self.nyx.agent.control.statuses().get(check_id)
            return status is not None and status.state == state

        wait_for(reached, what=f"{check_id} to be {state}")


@contextmanager
def live_nyxmon(folder: Path) -> Iterator[LiveSite]:
    target = ThreadedHttpTarget()
    target.start()
    try:
        config = CHECKS_YAML.format(target=target.target.base_url)
        with running_nyxmon(
            folder,
            config,
            web_yaml=STATUS_PAGES,
            alert=FAST_ALERTS,
            public_max_age=1,
            catalog_poll=0.2,
        ) as nyx:
            site = LiveSite(nyx, target, nyx.login())
            site.wait_state("shop.switch", "up")
            site.wait_state("website.home", "up")
            yield site
    finally:
        target.stop()
