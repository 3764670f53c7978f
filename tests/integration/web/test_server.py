"""The web server's life inside the agent process: start, serve, stop, refuse a busy port."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable

import pytest
import requests
from tests.integration.web.conftest import WebEnv

from nyxmon.web import WebServer, WebServerError


def test_server_serves_on_its_own_thread_and_loop_and_stops(web: WebEnv) -> None:
    assert web.server.running
    names = {thread.name for thread in threading.enumerate()}
    assert "nyxmon-web" in names
    health = requests.get(web.url + "/healthz", timeout=5).json()
    assert (health["status"], health["live"], health["ready"]) == ("ok", True, True)
    assert web.server.stop(timeout=5)
    assert not web.server.running
    with pytest.raises(requests.ConnectionError):
        requests.get(web.url + "/healthz", timeout=2)


def test_a_busy_port_is_refused_naming_the_address(web: WebEnv) -> None:
    other = WebServer(web.server.app, "127.0.0.1", web.server.port)
    expected = rf"web.listen: cannot listen on 127.0.0.1:{web.server.port}"
    with pytest.raises(WebServerError, match=expected):
        other.start()


def test_stop_ends_open_event_streams_promptly(web: WebEnv) -> None:
    session = web.login()
    stream = session.get(web.url + "/events", stream=True, timeout=10)
    assert stream.status_code == 200
    lines = stream.iter_lines()
    assert next(lines) == b"retry: 3000"
    assert web.server.app.state.nyxmon.hub.clients == 1
    assert web.server.stop(timeout=5)
    list(lines)  # ends instead of hanging: a stream left open would raise ReadTimeout here
    assert web.server.app.state.nyxmon.hub.clients == 0


def test_health_reports_a_failed_agent_with_503(start_web: Callable[..., WebEnv]) -> None:
    env = start_web()
    env.agent._fail("the scheduler crashed: test")
    answer = requests.get(env.url + "/healthz", timeout=5)
    assert answer.status_code == 503
    health = answer.json()
    assert (health["status"], health["live"], health["ready"]) == ("failing", False, False)
    assert health["problems"] == ["the scheduler crashed: test"]
    live = requests.get(env.url + "/livez", timeout=5)
    assert (live.status_code, live.json()["live"]) == (503, False)


def test_port_zero_picks_a_free_port_reported_in_the_url(web: WebEnv) -> None:
    assert web.server.port > 0
    assert web.url == f"http://127.0.0.1:{web.server.port}"
    with socket.create_connection(("127.0.0.1", web.server.port), timeout=2):
        pass


def test_a_spent_cpu_budget_makes_requests_wait_but_never_the_health_check(
    start_web: Callable[..., WebEnv],
) -> None:
    env = start_web(cpu_share=0.05, cpu_burst=0.0)
    budget = env.server.app.state.nyxmon.budget
    api = env.api()
    for _ in range(5):
        assert api.get(env.url + "/api/v1/checks").status_code == 200
    assert budget.waits >= 1
    waits = budget.waits
    for _ in range(5):
        assert requests.get(env.url + "/healthz", timeout=5).status_code == 200
    assert budget.waits == waits


def test_answers_carry_security_headers_and_only_public_pages_may_be_framed(
    start_web: Callable[..., WebEnv],
) -> None:
    env = start_web(web_yaml="  status_pages: [{slug: s, title: S}]")
    page = requests.get(env.url + "/login", timeout=5)
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["referrer-policy"] == "same-origin"
    status = requests.get(env.url + "/status/s", timeout=5)
    assert status.headers["x-content-type-options"] == "nosniff"
    assert "x-frame-options" not in status.headers
