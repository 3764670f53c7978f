"""A real agent on a real SQLite file with the web app served by uvicorn on an ephemeral port.

``web`` gives a :class:`WebEnv`: the running agent, the server's URL, and HTTP helpers that
sign in (session + CSRF token) or carry an API token. Requests go over real sockets with
``requests`` (schemathesis brings it; httpx, which starlette's TestClient needs, is not
installed).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
from tests.servers.http_target import HttpTarget, ThreadedHttpTarget

from nyxmon.agent.agent import Agent
from nyxmon.bootstrap import build_agent
from nyxmon.config import LoadedConfig, load_config
from nyxmon.web import WebServer, WebSettings, create_app

PASSWORD = "correct-horse-battery"

CHECKS_YAML = """\
services:
  - name: Website
    labels: {team: web}
    checks:
      - name: home
        type: http
        url: {target}/health
        labels: {tier: front}
      - name: broken
        type: http
        url: {target}/status/503
        conditions: ["[STATUS] == 200"]
  - name: API
    checks:
      - name: health
        type: json
        url: {target}/json
        interval: 2s
        conditions: ["[BODY].status == UP"]
"""


def wait_for(predicate: Callable[[], object], timeout: float = 15.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or predicate}")
        time.sleep(0.02)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
def target() -> Iterator[HttpTarget]:
    with ThreadedHttpTarget() as running:
        yield running


@dataclass
class WebEnv:
    agent: Agent
    server: WebServer
    settings: WebSettings
    folder: Path
    announced: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return self.server.url

    def anonymous(self) -> requests.Session:
        return requests.Session()

    def login(self, user: str = "admin", password: str = PASSWORD) -> requests.Session:
        """A browser-like session, signed in, whose mutating requests carry the CSRF header."""
        session = requests.Session()
        form = session.get(self.url + "/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
        assert token is not None, form.text
        answer = session.post(
            self.url + "/login",
            data={"username": user, "password": password, "csrf_token": token.group(1)},
            allow_redirects=False,
        )
        assert answer.status_code == 303, answer.text
        page = session.get(self.url + "/")
        csrf = re.search(r'name="csrf-token" content="([^"]+)"', page.text)
        assert csrf is not None, page.text[:500]
        session.headers["X-CSRF-Token"] = csrf.group(1)
        return session

    def token(self, name: str = "tests") -> str:
        raw, _ = self.server.app.state.nyxmon.auth.create_token_blocking(name, "admin")
        return str(raw)

    def api(self) -> requests.Session:
        """A client holding a fresh API token."""
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {self.token()}"
        return session

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.api().get(self.url + path, **kwargs)


@pytest.fixture
def start_web(tmp_path: Path, target: HttpTarget) -> Iterator[Callable[..., WebEnv]]:
    started: list[WebEnv] = []
    folders = iter(range(1000))

    def start(
        checks_yaml: str = CHECKS_YAML,
        web_yaml: str = "",
        *,
        prepare: Callable[[Path, LoadedConfig], None] | None = None,
        **overrides: Any,
    ) -> WebEnv:
        """``prepare(database, config)`` runs before the agent starts (to seed history)."""
        folder = tmp_path / f"agent{next(folders)}"
        folder.mkdir()
        config_path = folder / "nyxmon.yaml"
        config_path.write_text(
            f"agent: {{database: {folder / 'nyxmon.db'}, shutdown_grace: 2s}}\n"
            "defaults: {interval: 1s, timeout: 900ms}\n"
            + (f"web:\n{web_yaml}\n" if web_yaml else "")
            + checks_yaml.replace("{target}", target.base_url)
        )
        config = load_config(config_path)
        if prepare is not None:
            prepare(folder / "nyxmon.db", config)
        agent = build_agent(config, watch_period=0.2, cleaner_period=3600)
        agent.start()
        options: dict[str, Any] = {"admin_password": PASSWORD, "port": 0}
        options.update(overrides)
        settings = WebSettings.from_config(config.agent.web, **options)
        announced: list[str] = []
        try:
            app = create_app(agent, settings, announce=announced.append)
            server = WebServer(app, "127.0.0.1", 0).start()
        except BaseException:
            agent.stop(grace=0)
            raise
        env = WebEnv(agent, server, settings, folder, announced)
        started.append(env)
        return env

    yield start
    for env in started:
        env.server.stop(timeout=5)
        if env.agent.runtime.running:
            env.agent.stop(grace=1)


@pytest.fixture
def web(start_web: Callable[..., WebEnv]) -> WebEnv:
    return start_web()
