"""One outage start: the DOWN notice, the API's incidents, the check page and the RECOVERED
notice all say an outage began at its first failing run (not when the state changed, two runs
later) and lasted the same time, also across a restart of the agent in the middle of it."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from tests.integration.web_pages.harness import Running, running_nyxmon, wait_for
from tests.servers.http_target import ThreadedHttpTarget
from tests.servers.webhook_receiver import ThreadedWebhookReceiver

from nyxmon.domain.durations import human_duration
from nyxmon.notify.templates import format_time

CHECK = "shop.front"
ALERT = "{failure_threshold: 3, success_threshold: 2, retries: 0}"


@pytest.fixture
def receiver() -> Iterator[ThreadedWebhookReceiver]:
    running = ThreadedWebhookReceiver()
    running.start()
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def target() -> Iterator[ThreadedHttpTarget]:
    running = ThreadedHttpTarget()
    running.start()
    try:
        yield running
    finally:
        running.stop()


def _notices(receiver: ThreadedWebhookReceiver, kind: str) -> list[dict[str, Any]]:
    return [doc for doc in receiver.state.accepted_for(CHECK) if doc["kind"] == kind]


def _incident_rows(
    nyx: Running, session: requests.Session
) -> list[tuple[float, float | None, str]]:
    """``(start, end, duration text)`` of each row of the check page's incident table."""
    page = session.get(nyx.url + f"/checks/{CHECK}").text
    table = re.search(r'id="incidents-h".*?</section>', page, re.S)
    assert table is not None
    rows = []
    for row in re.findall(r'<tr class="incident[^"]*">\s*<td>(.*?)</tr>', table.group(0), re.S):
        times = [float(t) for t in re.findall(r'data-local="([^"]+)"', row)]
        duration = re.search(r'<td class="num duration"[^>]*>([^<]*)</td>', row)
        assert duration is not None
        rows.append((times[0], times[1] if len(times) > 1 else None, html.unescape(duration[1])))
    return rows


def _api(nyx: Running, session: requests.Session, path: str) -> Any:
    answer = session.get(nyx.url + "/api/v1" + path)
    assert answer.status_code == 200, answer.text
    return answer.json()


@pytest.mark.slow
def test_notices_api_and_page_agree_on_the_outage_start_and_length(
    tmp_path: Path, target: ThreadedHttpTarget, receiver: ThreadedWebhookReceiver
) -> None:
    config = (
        f"alerting:\n  routes:\n    - {{name: hook, type: webhook, url: '{receiver.url()}'}}\n"
        "services:\n  - name: Shop\n    checks:\n"
        f"      - {{name: front, type: http, url: '{target.url('/switch')}'}}\n"
    )
    folder = tmp_path / "nyx"
    with running_nyxmon(folder, config, alert=ALERT) as nyx:
        store = nyx.agent.store
        wait_for(lambda: nyx.agent.control.statuses()[CHECK].state == "up", what="UP first")
        target.state.healthy = False
        wait_for(lambda: _notices(receiver, "down"), timeout=20, what="the DOWN notice")
        results = [s.result for s in store.results(CHECK, limit=1000).items][::-1]
        failures = [r for r in results if not r.ok]
        t0 = failures[0].started_at
        assert all(r.ok for r in results if r.started_at < t0)
        (down,) = _notices(receiver, "down")
        changed = [t for t in store.transitions(CHECK) if t.to_state == "down"]
        assert len(changed) == 1
        # The state changed at the third failure; the outage began at the first.
        assert changed[0].at >= failures[2].started_at > t0
        assert down["since"] == t0
        assert f"since {format_time(t0)}" in down["body"]

        session = nyx.login()
        (ongoing,) = _api(nyx, session, "/incidents")
        assert (ongoing["check_id"], ongoing["start"], ongoing["end"]) == (CHECK, t0, None)
        (listed,) = _api(nyx, session, f"/checks/{CHECK}/incidents")
        assert (listed["start"], listed["end"]) == (t0, None)
        assert _api(nyx, session, f"/checks/{CHECK}")["status"]["since"] == t0
        assert [row[:2] for row in _incident_rows(nyx, session)] == [(t0, None)]

    # A restart in the middle of the outage keeps its start (snapshot and transition row).
    with running_nyxmon(folder, config, alert=ALERT) as nyx:
        session = nyx.login()
        wait_for(lambda: nyx.agent.control.statuses()[CHECK].state == "down", what="still DOWN")
        (ongoing,) = _api(nyx, session, "/incidents")
        assert ongoing["start"] == t0
        assert _api(nyx, session, f"/checks/{CHECK}")["status"]["since"] == t0
        assert [row[:2] for row in _incident_rows(nyx, session)] == [(t0, None)]

        target.state.healthy = True
        wait_for(lambda: _notices(receiver, "recovered"), timeout=20, what="RECOVERED")
        (recovered,) = _notices(receiver, "recovered")
        assert len(_notices(receiver, "down")) == 1, "the restart did not repeat DOWN"
        results = [s.result for s in nyx.agent.store.results(CHECK, limit=1000).items][::-1]
        back = next(r for r in results if r.ok and r.started_at > t0).started_at
        lasted = recovered["duration_seconds"]
        assert lasted == back - t0
        assert f"after {human_duration(lasted)} down" in recovered["body"]

        (ended,) = _api(nyx, session, f"/checks/{CHECK}/incidents")
        assert (ended["start"], ended["end"], ended["duration"]) == (t0, back, lasted)
        assert _api(nyx, session, "/incidents") == []
        assert _incident_rows(nyx, session) == [(t0, back, human_duration(lasted))]
