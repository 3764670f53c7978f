"""``nyxmon web -c FILE`` on PostgreSQL with no ``--control``: a web process of its own that
follows the agents through the database.

Real processes: an agent (``nyxmon run``) probing a local HTTP target into a PostgreSQL schema,
and ``nyxmon web`` on the same schema with a config of its own (another port) and no control
socket. The web process's API and event stream follow the agent's state changes without a
reload; when PostgreSQL ends the web's listening session it reconnects and follows again.
"""

from __future__ import annotations

import json
import queue
import re
import signal
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
import pytest
import requests

from tests.e2e.conftest import AgentProcess, free_port, wait_for
from tests.servers.http_target import HttpTarget

PASSWORD = "shared-database-password"


def _config(path: Path, dsn: str, port: int, target: HttpTarget) -> Path:
    path.write_text(
        f"web: {{listen: '127.0.0.1:{port}'}}\n"
        f"agent: {{database: '{dsn}', shutdown_grace: 2s}}\n"
        "defaults: {interval: 1s, timeout: 900ms, alert: {failure_threshold: 2}}\n"
        "services:\n  - name: web\n    checks:\n"
        f"      - {{name: home, type: http, url: '{target.url('/switch')}'}}\n"
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
    csrf = re.search(r'name="csrf-token" content="([^"]+)"', session.get(base + "/").text)
    assert csrf is not None
    session.headers["X-CSRF-Token"] = csrf.group(1)  # for the API calls that change things
    return session


def _state(session: requests.Session, base: str) -> str:
    try:
        answer = session.get(base + "/api/v1/checks/web.home", timeout=5)
    except requests.RequestException:
        return "unreachable"
    return str(answer.json().get("state")) if answer.status_code == 200 else str(answer.status_code)


def _follow(session: requests.Session, base: str) -> queue.Queue[dict[str, Any]]:
    events: queue.Queue[dict[str, Any]] = queue.Queue()

    def read() -> None:
        with session.get(base + "/events", stream=True, timeout=120) as answer:
            for line in answer.iter_lines(decode_unicode=True):
                if line and line.startswith("data: "):
                    for check in json.loads(line[6:]).get("checks", ()):
                        events.put(check)

    threading.Thread(target=read, daemon=True).start()
    return events


def _wait_event(events: queue.Queue[dict[str, Any]], state: str) -> None:
    while True:
        check = events.get(timeout=60)
        if check["id"] == "web.home" and check["state"] == state:
            return


def test_a_web_process_alone_follows_the_agent_through_postgresql(
    tmp_path: Path,
    pg_dsn: str,
    target: HttpTarget,
    agents: Callable[..., AgentProcess],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("NYXMON_ADMIN_PASSWORD", PASSWORD)
    agent_port = free_port()
    agent_config = _config(tmp_path / "agent.yaml", pg_dsn, agent_port, target)
    web_port = free_port()
    web_config = _config(tmp_path / "web.yaml", pg_dsn, web_port, target)
    agent = agents("run", "--config", str(agent_config))
    wait_for(lambda: "dashboard:" in agent.output(), timeout=60, what="the agent")
    web = agents("web", "--config", str(web_config))
    base = f"http://127.0.0.1:{web_port}"
    wait_for(lambda: "dashboard:" in web.output(), timeout=60, what=f"nyxmon web: {web.output()}")
    session = _sign_in(base)
    wait_for(lambda: _state(session, base) == "up", timeout=60, what="up, read from the database")
    events = _follow(session, base)

    target.state.healthy = False
    _wait_event(events, "down")
    wait_for(lambda: _state(session, base) == "down", timeout=10, what="the API to say down")
    # Alone, it has no agent to run a check now; the agent's own web plane (statuses from the
    # database too, run-now through its control socket) has.
    refused = session.post(base + "/api/v1/checks/web.home/run", timeout=10)
    assert refused.status_code == 503
    assert "no agent" in refused.json()["detail"]
    agent_base = f"http://127.0.0.1:{agent_port}"
    beside = _sign_in(agent_base)
    wait_for(lambda: _state(beside, agent_base) == "down", timeout=10, what="the agent's web")
    ran = beside.post(agent_base + "/api/v1/checks/web.home/run", timeout=40)
    assert ran.status_code == 200, ran.text

    # PostgreSQL ends the web's listening session: it listens again and follows again.
    figures = session.get(base + "/api/v1/agent", timeout=10).json()["statistics"]
    listener = figures["shared_store"]["listener"]
    assert listener["listening"]
    with psycopg.connect(pg_dsn, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (listener["backend_pid"],))

    def connects() -> int:
        stats = session.get(base + "/api/v1/agent", timeout=10).json()["statistics"]
        return int(stats["shared_store"]["listener"]["connects"])

    wait_for(lambda: connects() == listener["connects"] + 1, timeout=30, what="the reconnect")
    target.state.healthy = True
    _wait_event(events, "up")
    wait_for(lambda: _state(session, base) == "up", timeout=10, what="the API to say up")
    assert requests.get(base + "/healthz", timeout=5).status_code == 200

    web.signal(signal.SIGTERM)
    assert web.wait(30) == 0, web.output()[-3000:]
    agent.signal(signal.SIGTERM)
    assert agent.wait(30) == 0, agent.output()[-3000:]


def _shared_config(path: Path, dsn: str, port: int, target: HttpTarget, checks: int) -> Path:
    lines = "".join(
        f"      - {{name: c{n}, type: http, url: '{target.url('/switch')}'}}\n"
        for n in range(checks)
    )
    path.write_text(
        f"web: {{listen: '127.0.0.1:{port}'}}\n"
        f"agent: {{database: '{dsn}', shutdown_grace: 2s, lease_seconds: 6s}}\n"
        "defaults: {interval: 1s, timeout: 900ms, alert: {failure_threshold: 2}}\n"
        "services:\n  - name: web\n    checks:\n" + lines
    )
    return path


def test_every_dashboard_follows_the_checks_of_every_agent(
    tmp_path: Path,
    pg_dsn: str,
    target: HttpTarget,
    agents: Callable[..., AgentProcess],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Two agents share six checks; a web process of its own and agent B's own dashboard both
    show all six going down live, agent A's checks included."""
    monkeypatch.setenv("NYXMON_ADMIN_PASSWORD", PASSWORD)
    a = agents(
        "run", "--config", str(_shared_config(tmp_path / "a.yaml", pg_dsn, free_port(), target, 6))
    )
    wait_for(lambda: "dashboard:" in a.output(), timeout=60, what="agent A")
    b_port = free_port()
    b = agents(
        "run", "--config", str(_shared_config(tmp_path / "b.yaml", pg_dsn, b_port, target, 6))
    )
    wait_for(lambda: "dashboard:" in b.output(), timeout=60, what="agent B")
    port = free_port()
    web = agents(
        "web", "--config", str(_shared_config(tmp_path / "w.yaml", pg_dsn, port, target, 6))
    )
    base, b_base = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{b_port}"
    wait_for(lambda: "dashboard:" in web.output(), timeout=60, what="the web process")
    alone, beside_b = _sign_in(base), _sign_in(b_base)

    def states(session: requests.Session, url: str) -> list[str]:
        items = session.get(url + "/api/v1/checks", timeout=10).json()["items"]
        return sorted(item["state"] for item in items)

    def owners() -> int:
        with psycopg.connect(pg_dsn) as conn:
            row = conn.execute(
                "SELECT count(DISTINCT owner) FROM check_leases WHERE owner IS NOT NULL"
            ).fetchone()
        return int(row[0]) if row else 0

    wait_for(lambda: states(alone, base) == ["up"] * 6, timeout=60, what="all six up")
    wait_for(lambda: owners() == 2, timeout=30, what="both agents holding some checks")
    events = _follow(alone, base)
    target.state.healthy = False
    seen: set[str] = set()
    while len(seen) < 6:
        change = events.get(timeout=60)
        if change["state"] == "down":
            seen.add(change["id"])
    wait_for(
        lambda: states(beside_b, b_base) == ["down"] * 6,
        timeout=20,
        what="agent B's dashboard showing agent A's checks down too",
    )
    for process in (web, a, b):
        process.signal(signal.SIGTERM)
        assert process.wait(30) == 0, process.output()[-2000:]
