"""Checks probed from several locations, with agents at three locations on one PostgreSQL
schema and a webhook receiver (issue 17, "Locations").

The target answers by the probe's User-Agent, which names the agent's location. Down as seen
from one location: the check stays UP and nobody is told, and the page, API and CLI show
that location's view as down. Down from two (the default quorum of three locations): exactly
one DOWN notice. Back up: exactly one RECOVERED. With the third location dead, the other two
still page once and recover once, its view shown stale. And a check that names no location,
with agents at two locations, is probed by one agent and sends one notice per change, not
one each.
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
import pytest
import requests

from tests.e2e.conftest import AgentProcess, free_port, wait_for
from tests.servers.http_target import HttpTarget
from tests.servers.webhook_receiver import ThreadedWebhookReceiver

pytestmark = pytest.mark.timeout(180)

PASSWORD = "locations-password"
CHECK = "svc.shop"
NYXMON = (sys.executable, "-m", "nyxmon")


def _config(path: Path, dsn: str, location: str, port: int, hook: str, check: str) -> Path:
    path.write_text(
        f"web: {{listen: '127.0.0.1:{port}', separate_process: false}}\n"
        f"agent: {{database: '{dsn}', location: {location}, lease_seconds: 6s,"
        " shutdown_grace: 2s}\n"
        "defaults: {interval: 1s, timeout: 900ms, alert: {failure_threshold: 1,"
        " success_threshold: 1, retries: 0, flap_window: 0}}\n"
        f"alerting:\n  routes:\n    - {{name: hook, type: webhook, url: '{hook}'}}\n"
        f"services:\n  - name: svc\n    checks:\n      - {check}\n"
    )
    return path


def _sign_in(base: str) -> requests.Session:
    session = requests.Session()
    form = session.get(base + "/login", timeout=10).text
    token = re.search(r'name="csrf_token" value="([^"]+)"', form)
    assert token is not None
    answer = session.post(
        base + "/login",
        data={"username": "admin", "password": PASSWORD, "csrf_token": token.group(1)},
        allow_redirects=False,
        timeout=10,
    )
    assert answer.status_code == 303, answer.text
    return session


def _check(session: requests.Session, base: str) -> dict[str, Any]:
    try:
        answer = session.get(f"{base}/api/v1/checks/{CHECK}", timeout=5)
    except requests.RequestException:
        return {}
    return dict(answer.json()) if answer.status_code == 200 else {}


def _views(check: dict[str, Any]) -> dict[str, str]:
    return {
        view["location"]: "stale" if view["stale"] else view["state"]
        for view in check.get("location_views", ())
    }


def _kinds(receiver: ThreadedWebhookReceiver) -> list[str]:
    return [str(doc["kind"]) for doc in receiver.call(lambda s: list(s.accepted_for(CHECK)))]


def _rows(dsn: str, sql: str, *params: object) -> list[tuple[Any, ...]]:
    try:
        with psycopg.connect(dsn, autocommit=True) as conn:
            return list(conn.execute(sql.encode(), params).fetchall())
    except psycopg.Error:
        return []  # before the first agent made the schema


def test_a_check_is_down_only_when_the_quorum_of_its_locations_sees_it_down(
    tmp_path: Path,
    pg_dsn: str,
    target: HttpTarget,
    agents: Callable[..., AgentProcess],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("NYXMON_ADMIN_PASSWORD", PASSWORD)
    receiver = ThreadedWebhookReceiver()
    hook = receiver.start()
    check = f"{{name: shop, type: http, url: '{target.url('/located')}', locations: [eu, us, ap]}}"
    ports = {name: free_port() for name in ("eu", "us", "ap")}
    try:
        started = [
            agents(
                "run",
                "--config",
                str(_config(tmp_path / f"{n}.yaml", pg_dsn, n, port, hook.url(), check)),
            )
            for n, port in ports.items()
        ]

        def logs() -> str:
            return "\n".join(
                f"--- {n}\n{a.output()[-1500:]}" for n, a in zip(ports, started, strict=True)
            )

        base = f"http://127.0.0.1:{ports['us']}"
        wait_for(lambda: "dashboard:" in started[1].output(), timeout=60, what=logs())
        session = _sign_in(base)
        everyone_up = {"eu": "up", "us": "up", "ap": "up"}
        wait_for(
            lambda: (
                (got := _check(session, base)).get("state") == "up" and _views(got) == everyone_up
            ),
            timeout=60,
            what=f"every location's view up\n{logs()}",
        )
        shown = _check(session, base)
        assert shown["locations"] == ["eu", "us", "ap"]
        assert (shown["quorum"], shown["quorum_needed"]) == (None, 2)
        agents_seen = {view["agent_id"] for view in shown["location_views"]}
        assert len(agents_seen) == 3  # each location probed by its own agent
        assert set(target.state.located_hits) == {"eu", "us", "ap"}

        # Down from one location: its view says so, the check stays up, nobody is told.
        target.state.down_from.add("eu")
        wait_for(
            lambda: _views(_check(session, base)) == {**everyone_up, "eu": "down"},
            timeout=30,
            what=f"eu's view down\n{logs()}",
        )
        time.sleep(3.0)
        shown = _check(session, base)
        assert shown["state"] == "up"
        (eu,) = [view for view in shown["location_views"] if view["location"] == "eu"]
        assert eu["message"]  # what eu's last run said
        assert _kinds(receiver) == []
        page = session.get(f"{base}/checks/{CHECK}", timeout=10).text
        assert re.search(r'data-location="eu" data-state="down"', page), page
        assert re.search(r'data-location="us" data-state="up"', page)
        listed = session.get(f"{base}/api/v1/checks", timeout=10).json()["items"]
        assert _views(listed[0]) == {**everyone_up, "eu": "down"}
        shown_by_cli = subprocess.run(
            [*NYXMON, "check", "show", CHECK, "--json", "--config", str(tmp_path / "us.yaml")],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        assert _views(json.loads(shown_by_cli.stdout)) == {**everyone_up, "eu": "down"}

        # Down from two of three (the quorum): one DOWN, however many agents and results.
        target.state.down_from.add("us")
        wait_for(lambda: "down" in _kinds(receiver), timeout=30, what=f"a DOWN\n{logs()}")
        wait_for(
            lambda: (
                (got := _check(session, base)).get("state") == "down"
                and _views(got) == {**everyone_up, "eu": "down", "us": "down"}
            ),
            timeout=10,
            what="the API to say down",
        )
        time.sleep(3.0)
        assert _kinds(receiver).count("down") == 1

        # Back up everywhere: one RECOVERED.
        target.state.down_from.clear()
        wait_for(lambda: "recovered" in _kinds(receiver), timeout=30, what=f"a RECOVERED\n{logs()}")
        time.sleep(3.0)
        assert _kinds(receiver) == ["down", "recovered"]
        assert _views(_check(session, base)) == everyone_up

        # A whole location dies (its only agent, maybe the one combining): the others go on.
        started[2].signal(signal.SIGKILL)
        started[2].wait(10)
        target.state.down_from.update({"eu", "us"})
        wait_for(
            lambda: _kinds(receiver).count("down") == 2,
            timeout=40,
            what=f"a DOWN without ap\n{logs()}",
        )
        wait_for(
            lambda: _views(_check(session, base)) == {"eu": "down", "us": "down", "ap": "stale"},
            timeout=30,
            what="ap's view stale",
        )
        target.state.down_from.clear()
        wait_for(
            lambda: _kinds(receiver).count("recovered") == 2,
            timeout=40,
            what=f"a RECOVERED without ap\n{logs()}",
        )
        time.sleep(3.0)
        assert _kinds(receiver) == ["down", "recovered", "down", "recovered"]
        assert not receiver.state.duplicates
    finally:
        receiver.stop()
    # The results name the agent (and so the location) that probed them.
    probers = _rows(pg_dsn, "SELECT count(DISTINCT agent_id) FROM results")
    assert probers == [(3,)]


def test_a_check_without_locations_is_probed_once_and_notices_once_from_two_locations(
    tmp_path: Path, pg_dsn: str, target: HttpTarget, agents: Callable[..., AgentProcess]
) -> None:
    receiver = ThreadedWebhookReceiver()
    hook = receiver.start()
    check = f"{{name: shop, type: http, url: '{target.url('/switch')}'}}"
    try:
        started = [
            agents(
                "run",
                "--config",
                str(_config(tmp_path / f"{n}.yaml", pg_dsn, n, free_port(), hook.url(), check)),
            )
            for n in ("eu", "us")
        ]

        def logs() -> str:
            return "\n".join(f"--- {n}\n{a.output()[-1500:]}" for n, a in enumerate(started))

        def state() -> str:
            rows = _rows(
                pg_dsn,
                "SELECT s.state FROM check_states s JOIN checks c ON c.pk = s.check_pk"
                " WHERE c.id = %s",
                CHECK,
            )
            return str(rows[0][0]) if rows else "none"

        wait_for(lambda: state() == "up", timeout=60, what=f"the check up\n{logs()}")
        target.state.healthy = False
        wait_for(lambda: "down" in _kinds(receiver), timeout=30, what=f"a DOWN\n{logs()}")
        time.sleep(2.0)
        target.state.healthy = True
        wait_for(lambda: "recovered" in _kinds(receiver), timeout=30, what=f"a RECOVERED\n{logs()}")
        time.sleep(3.0)
        assert _kinds(receiver) == ["down", "recovered"]
        assert not receiver.state.duplicates
        for agent in started:
            agent.signal(signal.SIGTERM)
        for agent in started:
            assert agent.wait(30) == 0, agent.output()[-3000:]
    finally:
        receiver.stop()
    # One prober at a time: every probe of the target is one stored result.
    (stored,) = _rows(pg_dsn, "SELECT count(*) FROM results")[0]
    assert target.state.hits["/switch"] == stored
    leases = _rows(pg_dsn, "SELECT location, count(*) FROM check_leases GROUP BY location")
    assert leases == [("*", 1)]


def test_a_ping_through_an_agent_not_holding_its_check_asks_for_a_retry(
    tmp_path: Path, pg_dsn: str, agents: Callable[..., AgentProcess]
) -> None:
    """The key is right wherever it arrives: the holder records it (200), another agent
    answers 503 with Retry-After (not 404, which would tell the job its key is wrong)."""
    key = "pushkey-" + "7" * 24
    check = f"{{name: job, type: push, token: {key}, interval: 1h, grace: 5m}}"
    ports = [free_port(), free_port()]
    started = [
        agents(
            "run",
            "--config",
            str(_config(tmp_path / f"{n}.yaml", pg_dsn, "eu", port, "http://127.0.0.1:9/", check)),
        )
        for n, port in enumerate(ports)
    ]

    def holder() -> int | None:
        rows = _rows(
            pg_dsn,
            "SELECT a.id FROM check_leases l JOIN agents a ON a.id = l.owner"
            " WHERE l.check_id = %s AND l.expires > now()",
            "svc.job",
        )
        return int(rows[0][0]) if rows else None

    wait_for(lambda: holder() is not None, timeout=60, what="the push check's lease taken")

    def answers() -> list[requests.Response]:
        return [requests.get(f"http://127.0.0.1:{p}/ping/{key}", timeout=10) for p in ports]

    def codes() -> list[int]:
        try:
            return sorted(a.status_code for a in answers())
        except requests.ConnectionError:  # a web plane not listening yet
            return []

    wait_for(
        lambda: codes() == [200, 503],
        timeout=30,
        what="one agent recording, the other asking for a retry",
    )
    answered = answers()
    refused = next(a for a in answered if a.status_code == 503)
    assert refused.headers["Retry-After"] == "1"
    assert "another agent holds this check" in refused.text
    assert key not in refused.text
    unknown = [
        requests.get(f"http://127.0.0.1:{p}/ping/nokey{'0' * 24}", timeout=10) for p in ports
    ]
    assert [a.status_code for a in unknown] == [404, 404]
    stored = _rows(
        pg_dsn,
        "SELECT count(*) FROM results r JOIN checks c ON c.pk = r.check_pk WHERE c.id = %s",
        "svc.job",
    )
    assert stored[0][0] >= 2  # every 200 is in the database
    for agent in started:
        agent.signal(signal.SIGTERM)
    for agent in started:
        assert agent.wait(30) == 0, agent.output()[-3000:]
