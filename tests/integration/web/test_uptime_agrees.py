"""One uptime, everywhere: API, overview, check page, status page, badges and the CLI show the
same 24 h / 7 d / 30 d figure for a check whose history is rolled up into hours, with failures
in the current, partial hour (the case where a figure counting only rolled-up hours said 100 %
next to red beats)."""

from __future__ import annotations

import math
import re
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

import requests
from tests.integration.web.conftest import WebEnv

from nyxmon.config import LoadedConfig
from nyxmon.domain.history.figures import DAY, HOUR
from nyxmon.domain.history.uptime import percent_text
from nyxmon.domain.model import Outcome, Result
from nyxmon.service_layer.reconcile import reconcile_config
from nyxmon.service_layer.records.batches import WriteBatch
from nyxmon.store.sqlite.store import SqliteStore

CHECK = "shop.front"
CONFIG = """\
services:
  - name: Shop
    checks:
      - name: front
        type: http
        url: {target}/health
        interval: 1h
        timeout: 5s
"""
PAGES = "  status_pages:\n    - {slug: shop, title: Shop, services: [Shop]}"


def _result(at: float, ok: bool) -> Result:
    return Result(
        check_id=CHECK,
        scheduled_at=at,
        started_at=at,
        duration=0.02,
        outcome=Outcome.OK if ok else Outcome.FAIL,
        message="" if ok else "HTTP 503",
    )


def _seed(db: Path, config: LoadedConfig) -> list[Result]:
    """20 rolled-up hours (one failure among them) and three failures in this partial hour."""
    now = time.time()
    hour = math.floor(now / HOUR) * HOUR
    past = [
        _result(hour - h * HOUR + 60.0 + 600.0 * i, not (h == 5 and i == 0))
        for h in range(20, 0, -1)
        for i in range(4)
    ]
    partial = [_result(hour + (now - hour) * share, False) for share in (0.2, 0.5, 0.8)]
    with SqliteStore(db) as store:
        reconcile_config(store, config.services, config.checks)
        store.write_batch(WriteBatch([*past, *partial]))
        while store.rollup_step(now).more:
            pass
        assert store.rollups(CHECK, level="hourly"), "the past hours are rolled up"
    return [*past, *partial]


def _pct_of(text: str) -> float | None:
    return None if text == "—" else float(text.rstrip(" %"))


def test_every_view_shows_the_same_uptime(start_web: Callable[..., WebEnv]) -> None:
    seeded: list[Result] = []

    def prepare(db: Path, config: LoadedConfig) -> None:
        seeded.extend(_seed(db, config))

    env = start_web(CONFIG, PAGES, prepare=prepare)
    # The check runs hourly and its last (seeded) run was minutes ago: nothing new arrives
    # while the views are read (checked at the end), so they all see the same history.
    runs = [stored.result for stored in env.agent.store.results(CHECK, limit=1000).items]
    assert len(runs) == len(seeded)
    now = time.time()

    def expected(window: float) -> float:
        start = math.floor((now - window) / HOUR) * HOUR
        inside = [r for r in runs if r.started_at >= start]
        return 100.0 * sum(r.ok for r in inside) / len(inside)

    day = expected(DAY)
    assert day < 100.0 * 79 / 80  # below the rolled-up hours alone: the partial hour counts
    api = env.get(f"/api/v1/checks/{CHECK}/uptime").json()["windows"]
    session = env.login()
    beats = session.get(env.url + "/overview/beats", params={"id": CHECK}).json()
    page = session.get(env.url + f"/checks/{CHECK}").text
    cards = dict(
        re.findall(r'<div class="label">(\w+)</div>\s*<div class="value">([^<]+)</div>', page)
    )
    status = requests.get(env.url + "/status/shop.json", timeout=10).json()
    (service,) = status["services"]
    status_html = requests.get(env.url + "/status/shop", timeout=10).text
    db = str(env.folder / "nyxmon.db")
    shown = subprocess.run(
        [sys.executable, "-m", "nyxmon", "check", "show", CHECK, "--db", db],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    cli = re.search(r"24h uptime\s+([\d.]+)% of (\d+) runs", shown)
    assert cli is not None, shown

    assert api["24h"]["uptime_pct"] == day
    assert beats["checks"][CHECK]["uptime_24h"] == day
    assert service["uptime_24h"] == day
    assert service["checks"][0]["uptime_24h"] == day
    assert float(cli.group(1)) == round(day, 2)
    assert int(cli.group(2)) == api["24h"]["count"]
    assert f"24 h uptime: {percent_text(day)}" in status_html
    for name, window in (("24h", DAY), ("7d", 7 * DAY), ("30d", 30 * DAY)):
        figure = expected(window)
        assert api[name]["uptime_pct"] == figure, name
        assert _pct_of(cards[name]) == _pct_of(percent_text(figure)), name
        badge = requests.get(env.url + f"/badge/{CHECK}/uptime/{name}.svg", timeout=10)
        label = ET.fromstring(badge.text).get("aria-label")
        assert label == f"uptime {name}: {percent_text(figure)}", name
    assert service["uptime_90d"] == expected(90 * DAY)
    assert env.agent.store.count_results(CHECK) == len(runs)
