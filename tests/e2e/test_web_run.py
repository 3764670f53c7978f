"""``nyxmon run`` serves the web plane; ``nyxmon user`` and ``nyxmon token`` manage its access.

Real processes: the agent as a child process with its dashboard on a free loopback port, the
CLI as subprocesses against the same database.
"""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import requests

from tests.e2e.conftest import AgentProcess, nyxmon, wait_for
from tests.servers.http_target import HttpTarget

Agents = Callable[..., AgentProcess]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _config(folder: Path, target: HttpTarget, port: int) -> Path:
    path = folder / "nyxmon.yaml"
    path.write_text(
        f"agent: {{database: {folder / 'nyxmon.db'}, shutdown_grace: 2s}}\n"
        f"web: {{listen: '127.0.0.1:{port}'}}\n"
        "defaults: {interval: 1s, timeout: 900ms}\n"
        "services:\n  - name: web\n    checks:\n"
        f"      - {{name: home, type: http, url: '{target.url('/health')}'}}\n"
    )
    return path


def _sign_in(base: str, password: str) -> requests.Session:
    session = requests.Session()
    form = session.get(base + "/login", timeout=10).text
    token = re.search(r'name="csrf_token" value="([^"]+)"', form)
    assert token is not None
    answer = session.post(
        base + "/login",
        data={"username": "admin", "password": password, "csrf_token": token.group(1)},
        allow_redirects=False,
        timeout=10,
    )
    assert answer.status_code == 303, answer.text
    return session


def test_run_serves_the_dashboard_and_prints_the_first_password_once(
    tmp_path: Path, target: HttpTarget, agents: Agents, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NYXMON_ADMIN_PASSWORD", raising=False)
    port = _free_port()
    config = _config(tmp_path, target, port)
    agent = agents("run", "--config", str(config))
    base = f"http://127.0.0.1:{port}"
    wait_for(lambda: "dashboard:" in agent.output(), what="the dashboard URL")
    assert f"dashboard: {base}/" in agent.output()
    match = re.search(r"admin password: (\S+)", agent.output())
    assert match is not None, agent.output()
    session = _sign_in(base, match.group(1))
    wait_for(lambda: session.get(base + "/api/v1/checks/web.home").json()["state"] == "up")
    assert "web.home" in session.get(base + "/").text
    agent.signal(signal.SIGTERM)
    assert agent.wait(30) == 0
    with_again = agents("run", "--config", str(config))
    wait_for(lambda: "dashboard:" in with_again.output(), what="the second start")
    assert "admin password" not in with_again.output()
    _sign_in(base, match.group(1))  # the same password still works
    with_again.signal(signal.SIGTERM)
    assert with_again.wait(30) == 0


def test_run_refuses_a_busy_web_port_naming_it(tmp_path: Path, target: HttpTarget) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        config = _config(tmp_path, target, port)
        result = nyxmon("run", "--config", str(config), timeout=60)
    assert result.returncode == 1
    assert f"web.listen: cannot listen on 127.0.0.1:{port}" in result.stderr


def test_user_set_password_and_tokens_from_the_command_line(
    tmp_path: Path, target: HttpTarget, agents: Agents
) -> None:
    port = _free_port()
    config = _config(tmp_path, target, port)
    base = f"http://127.0.0.1:{port}"
    agent = agents("run", "--config", str(config))
    wait_for(lambda: "dashboard:" in agent.output(), what="the agent")

    changed = subprocess.run(
        [
            sys.executable,
            "-m",
            "nyxmon",
            "user",
            "set-password",
            "admin",
            "--stdin",
            "-c",
            str(config),
        ],
        input="a-brand-new-password\n",
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert changed.returncode == 0, changed.stderr
    assert "changed the password of user admin" in changed.stdout
    _sign_in(base, "a-brand-new-password")

    short = subprocess.run(
        [sys.executable, "-m", "nyxmon", "user", "set-password", "--stdin", "-c", str(config)],
        input="short\n",
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert short.returncode == 1
    assert "at least 8 characters" in short.stderr

    created = nyxmon("token", "create", "ci", "-c", str(config))
    assert created.returncode == 0, created.stderr
    token = created.stdout.strip().splitlines()[-1]
    assert token.startswith("nyx_")
    api = {"Authorization": f"Bearer {token}"}
    assert requests.get(base + "/api/v1/me", headers=api, timeout=10).json()["via"] == "token"
    listed = nyxmon("token", "list", "-c", str(config))
    assert "ci" in listed.stdout
    assert token not in listed.stdout
    revoked = nyxmon("token", "revoke", "1", "-c", str(config))
    assert revoked.returncode == 0, revoked.stderr
    wait_for(
        lambda: requests.get(base + "/api/v1/me", headers=api, timeout=10).status_code == 401,
        what="the revoked token to be refused",
    )
    again = nyxmon("token", "revoke", "1", "-c", str(config))
    assert again.returncode == 1
    assert "no live token with id 1" in again.stderr
    nobody = nyxmon("token", "create", "x", "--owner", "nobody", "-c", str(config))
    assert nobody.returncode == 1
    assert "--owner: no user named 'nobody'" in nobody.stderr
    agent.signal(signal.SIGTERM)
    assert agent.wait(30) == 0
