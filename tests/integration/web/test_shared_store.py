"""The web plane on a shared PostgreSQL database follows the agents through the database.

Real pieces on loopback: the local PostgreSQL (a schema per test), the web app served by
uvicorn with a :class:`~nyxmon.web.shared_store.SharedStoreContext` (no control socket, no
agent feed), and either a real agent in this process writing results to the same schema, or
a store writing the agent writer's batches itself. The web hears of them only through
LISTEN/NOTIFY and its re-reads: the API and a live event stream follow without reload, and
when PostgreSQL drops the listening session the web says so on /healthz, reconnects and
catches up on what changed meanwhile.
"""

from __future__ import annotations

import json
import queue
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import pytest
import requests
from tests.integration.store.store_helpers import T0, add_checks, make_result
from tests.servers.http_target import HttpTarget, ThreadedHttpTarget

from nyxmon.agent.agent import Agent
from nyxmon.bootstrap import build_agent, build_web
from nyxmon.config import load_config
from nyxmon.domain.model import Outcome
from nyxmon.service_layer.records.alerts import StateRow
from nyxmon.service_layer.records.batches import WriteBatch
from nyxmon.store.postgres import PostgresStore
from nyxmon.web import WebServer, WebSettings, create_app
from nyxmon.web.shared_store import SharedStoreContext

from .conftest import PASSWORD, wait_for


@dataclass
class SharedWeb:
    context: SharedStoreContext
    server: WebServer
    token: str
    events: queue.Queue[dict[str, Any]] = field(default_factory=queue.Queue)

    @property
    def url(self) -> str:
        return self.server.url

    def get(self, path: str) -> requests.Response:
        return requests.get(
            self.url + path, headers={"Authorization": f"Bearer {self.token}"}, timeout=10
        )

    def post(self, path: str, body: Any = None) -> requests.Response:
        return requests.post(
            self.url + path,
            json=body,
            headers={"Authorization": f"Bearer {self.token}"},
            timeout=10,
        )

    def state(self, check_id: str) -> str:
        answer = self.get("/api/v1/checks")
        assert answer.status_code == 200, answer.text
        return {c["id"]: c["state"] for c in answer.json()["items"]}.get(check_id, "absent")

    def follow_events(self) -> None:
        """Read ``/events`` on a thread; every status it carries goes to ``events``."""
        ready = threading.Event()

        def read() -> None:
            with requests.get(
                self.url + "/events",
                headers={"Authorization": f"Bearer {self.token}"},
                stream=True,
                timeout=60,
            ) as answer:
                ready.set()
                for line in answer.iter_lines(decode_unicode=True):
                    if line and line.startswith("data: "):
                        for check in json.loads(line[6:]).get("checks", ()):
                            self.events.put(check)

        threading.Thread(target=read, daemon=True).start()
        assert ready.wait(10)

    def wait_event(self, check_id: str, state: str, timeout: float = 30.0) -> dict[str, Any]:
        while True:
            check = self.events.get(timeout=timeout)
            if check["id"] == check_id and check["state"] == state:
                return check


@pytest.fixture
def target() -> Iterator[HttpTarget]:
    with ThreadedHttpTarget() as running:
        yield running


@pytest.fixture
def shared_web(pg_dsn: str, tmp_path: Path) -> Iterator[Callable[..., SharedWeb]]:
    started: list[tuple[WebServer, PostgresStore]] = []

    def start(config_path: Path, **options: Any) -> SharedWeb:
        config = load_config(config_path)
        store = PostgresStore(pg_dsn, readers=2)
        context = SharedStoreContext(config, store, **options)
        settings = WebSettings.from_config(config.agent.web, admin_password=PASSWORD, port=0)
        app = create_app(context, settings, announce=lambda line: None)
        server = WebServer(app, "127.0.0.1", 0).start()
        started.append((server, store))
        token, _ = app.state.nyxmon.auth.create_token_blocking("tests", "admin")
        return SharedWeb(context, server, str(token))

    yield start
    for server, store in started:
        server.stop(timeout=5)
        store.close()


def _config(folder: Path, dsn: str, checks: str = "") -> Path:
    path = folder / "nyxmon.yaml"
    path.write_text(
        f"agent: {{database: '{dsn}', shutdown_grace: 2s}}\n"
        "defaults: {interval: 1s, timeout: 900ms, alert: {failure_threshold: 2}}\n" + checks
    )
    return path


def test_the_api_and_the_event_stream_follow_an_agent_without_reload(
    pg_dsn: str,
    tmp_path: Path,
    target: HttpTarget,
    shared_web: Callable[..., SharedWeb],
) -> None:
    path = _config(
        tmp_path,
        pg_dsn,
        "services:\n  - name: web\n    checks:\n"
        f"      - {{name: home, type: http, url: '{target.url('/switch')}'}}\n",
    )
    agent: Agent = build_agent(
        load_config(path), store=PostgresStore(pg_dsn, readers=2), watch_period=0.2
    )
    agent.start()
    try:
        web = shared_web(path, full_refresh=3600.0)  # no safety net: notices alone
        wait_for(lambda: web.state("web.home") == "up", timeout=30, what="up from the agent")
        web.follow_events()
        notices = web.context.listener.notices
        target.state.healthy = False
        seen = web.wait_event("web.home", "down")
        assert seen["last_outcome"] != "ok"
        # The API's list is shared for a moment (web.cache_seconds), then follows.
        wait_for(lambda: web.state("web.home") == "down", timeout=5, what="the API to say down")
        target.state.healthy = True
        web.wait_event("web.home", "up")
        wait_for(lambda: web.state("web.home") == "up", timeout=5, what="the API to say up")
        assert web.context.listener.notices > notices
        assert web.context.full_refreshes == 1  # the first read; the rest came by notices
    finally:
        agent.stop(grace=1)


def test_it_reconnects_after_losing_postgresql_and_catches_up(
    pg_dsn: str, tmp_path: Path, shared_web: Callable[..., SharedWeb]
) -> None:
    with PostgresStore(pg_dsn, readers=1) as writer:
        add_checks(writer, "web.a")
        writer.write_batch(WriteBatch(results=(make_result("web.a", T0),)))
        web = shared_web(_config(tmp_path, pg_dsn), full_refresh=3600.0, backoff=3.0)
        wait_for(lambda: web.state("web.a") == "up", what="the first read")
        web.follow_events()
        assert web.get("/healthz").status_code == 200
        pid = web.context.listener.backend_pid
        assert pid is not None
        with psycopg.connect(pg_dsn, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        wait_for(lambda: web.get("/healthz").status_code == 503, what="/healthz to say so")
        problems = web.get("/healthz").json()["problems"]
        assert any("not following the database" in p for p in problems), problems
        # Written while nobody listens: its notice is lost; the re-read after the reconnect
        # is what brings it.
        notices = web.context.listener.notices
        writer.write_batch(
            WriteBatch(
                results=(make_result("web.a", T0 + 60, outcome=Outcome.ERROR),),
                states=(StateRow("web.a", "down", T0 + 60, {}, T0 + 60),),
            )
        )
        wait_for(lambda: web.get("/healthz").status_code == 200, what="the reconnect")
        assert web.context.listener.generation == 2
        web.wait_event("web.a", "down", timeout=10)
        wait_for(lambda: web.state("web.a") == "down", timeout=5, what="the API to say down")
        assert web.context.listener.notices == notices  # caught up by the re-read alone
        # And it follows notices again.
        writer.write_batch(
            WriteBatch(
                results=(make_result("web.a", T0 + 120),),
                states=(StateRow("web.a", "up", T0 + 120, {}, T0 + 120),),
            )
        )
        web.wait_event("web.a", "up", timeout=10)


def test_writes_from_the_web_reach_the_store_and_run_now_says_no_agent(
    pg_dsn: str, tmp_path: Path, shared_web: Callable[..., SharedWeb]
) -> None:
    web = shared_web(_config(tmp_path, pg_dsn))
    check = {"name": "status", "type": "http", "url": "http://127.0.0.1:9/", "interval": "5s"}
    answer = web.post("/api/v1/checks", {"service": "Status page", "check": check})
    assert answer.status_code == 201, answer.text
    with PostgresStore(pg_dsn, readonly=True, readers=1) as reader:
        assert reader.get_check("status-page.status") is not None
    paused = web.post("/api/v1/checks/status-page.status/pause")
    assert paused.status_code == 200, paused.text
    with PostgresStore(pg_dsn, readonly=True, readers=1) as reader:
        stored = reader.get_check("status-page.status")
        assert stored is not None
        assert stored.paused
    refused = web.post("/api/v1/checks/status-page.status/run")
    assert refused.status_code == 503
    assert "no agent" in refused.json()["detail"]


def test_an_agents_own_web_thread_follows_the_database_and_runs_checks_through_it(
    pg_dsn: str, tmp_path: Path, target: HttpTarget, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NYXMON_ADMIN_PASSWORD", PASSWORD)
    path = _config(
        tmp_path,
        pg_dsn,
        f"web: {{listen: '127.0.0.1:{_free_port()}', separate_process: false}}\n"
        "services:\n  - name: web\n    checks:\n"
        f"      - {{name: home, type: http, url: '{target.url('/switch')}'}}\n",
    )
    config = load_config(path)
    agent = build_agent(config, store=PostgresStore(pg_dsn, readers=2), watch_period=0.2)
    agent.start()
    server = build_web(agent, config, announce=lambda line: None).start()
    try:
        context = server.app.state.nyxmon.context
        assert isinstance(context, SharedStoreContext)
        token, _ = server.app.state.nyxmon.auth.create_token_blocking("tests", "admin")
        web = SharedWeb(context, server, str(token))
        wait_for(lambda: web.state("web.home") == "up", timeout=30, what="up")
        target.state.healthy = False
        wait_for(lambda: web.state("web.home") == "down", timeout=30, what="down")
        assert context.listener.notices > 0  # it came through the database
        ran = web.post("/api/v1/checks/web.home/run")
        assert ran.status_code == 200, ran.text  # through the agent beside it
        assert ran.json()["outcome"] != "ok"
        assert web.get("/healthz").status_code == 200
    finally:
        server.stop(timeout=5)
        agent.stop(grace=1)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
