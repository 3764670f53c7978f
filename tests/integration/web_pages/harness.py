"""A running NyxMon for dashboard tests: a real agent on a SQLite file, the web app served by
uvicorn on an ephemeral port, and HTTP helpers that sign in like a browser.

Shared by the page integration tests and the Playwright browser tests (tests/browser).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from nyxmon.agent.agent import Agent
from nyxmon.bootstrap import build_agent
from nyxmon.config import load_config
from nyxmon.web import WebServer, WebSettings, create_app

__all__ = ["PASSWORD", "Running", "running_nyxmon", "wait_for"]

PASSWORD = "correct-horse-battery"


def wait_for(predicate: Callable[[], object], timeout: float = 15.0, what: str = "") -> None:
    """Poll ``predicate`` until it is truthy; AssertionError naming ``what`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what or predicate}")
        time.sleep(0.02)


@dataclass
class Running:
    agent: Agent
    server: WebServer
    folder: Path
    announced: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return self.server.url

    def login(self, user: str = "admin", password: str = PASSWORD) -> requests.Session:
        """A signed-in session whose changes carry the CSRF header, like htmx's."""
        session = requests.Session()
        form = session.get(self.url + "/login", timeout=10)
        token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
        assert token is not None, form.text
        answer = session.post(
            self.url + "/login",
            data={"username": user, "password": password, "csrf_token": token.group(1)},
            allow_redirects=False,
            timeout=10,
        )
        assert answer.status_code == 303, answer.text
        page = session.get(self.url + "/", timeout=10)
        csrf = re.search(r'name="csrf-token" content="([^"]+)"', page.text)
        assert csrf is not None, page.text[:500]
        session.headers["X-CSRF-Token"] = csrf.group(1)
        session.csrf = csrf.group(1)  # type: ignore[attr-defined]
        return session


@contextmanager
def running_nyxmon(
    folder: Path, config_yaml: str, *, web_yaml: str = "", alert: str = "", **settings: Any
) -> Iterator[Running]:
    """An agent for ``config_yaml`` (services and checks) with its web app, stopped on exit.

    Checks run every second by default; ``alert`` is a flow mapping of ``defaults.alert``
    (``"{failure_threshold: 1}"``) and ``settings`` override :class:`WebSettings` fields.
    """
    folder.mkdir(parents=True, exist_ok=True)
    config_path = folder / "nyxmon.yaml"
    config_path.write_text(
        f"agent: {{database: {folder / 'nyxmon.db'}, shutdown_grace: 2s}}\n"
        "defaults: {interval: 1s, timeout: 900ms"
        + (f", alert: {alert}" if alert else "")
        + "}\n"
        + (f"web:\n{web_yaml}\n" if web_yaml else "")
        + config_yaml
    )
    config = load_config(config_path)
    agent = build_agent(config, watch_period=0.2, cleaner_period=3600)
    agent.start()
    announced: list[str] = []
    try:
        options: dict[str, Any] = {"admin_password": PASSWORD, "port": 0, **settings}
        web_settings = WebSettings.from_config(config.agent.web, **options)
        app = create_app(agent, web_settings, announce=announced.append)
        server = WebServer(app, "127.0.0.1", 0).start()
    except BaseException:
        agent.stop(grace=0)
        raise
    try:
        yield Running(agent, server, folder, announced)
    finally:
        server.stop(timeout=5)
        if agent.runtime.running:
            agent.stop(grace=1)
