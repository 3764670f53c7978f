"""Sessions end at once in the running web plane, whoever ends them: ``POST /logout``, a new
password set by ``nyxmon user set-password`` from another process, or ``nyxmon user sign-out``.

Real processes: ``nyxmon run`` with its web plane in a process of its own (the default) or as a
thread of the agent, and the CLI as subprocesses on the same database. The old cookie is tried
on the very next request after the command returned: no waiting, no cache grace.
"""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import requests

from tests.e2e.conftest import AgentProcess, nyxmon, wait_for
from tests.e2e.test_web_run import _sign_in
from tests.servers.http_target import HttpTarget

Agents = Callable[..., AgentProcess]
PASSWORD = "the-first-long-password"


def _config(folder: Path, target: HttpTarget, *, separate: bool) -> tuple[Path, str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    path = folder / "nyxmon.yaml"
    path.write_text(
        f"agent: {{database: {folder / 'nyxmon.db'}, shutdown_grace: 2s}}\n"
        f"web: {{listen: '127.0.0.1:{port}', separate_process: {str(separate).lower()}}}\n"
        "defaults: {interval: 1s, timeout: 900ms}\n"
        "services:\n  - name: web\n    checks:\n"
        f"      - {{name: home, type: http, url: '{target.url('/health')}'}}\n"
    )
    return path, f"http://127.0.0.1:{port}"


def _works(base: str, cookie: str) -> bool:
    """Whether a browser holding only ``cookie`` is let in (API and page)."""
    client = requests.Session()
    client.cookies.set("nyxmon_session", cookie)
    api = client.get(base + "/api/v1/me", timeout=10).status_code
    page = client.get(base + "/", allow_redirects=False, timeout=10).status_code
    assert (api == 200) == (page == 200), (api, page)
    return api == 200


@pytest.mark.parametrize("separate", [True, False], ids=["web-process", "web-thread"])
def test_logout_a_new_password_and_sign_out_end_sessions_at_once(
    tmp_path: Path,
    target: HttpTarget,
    agents: Agents,
    monkeypatch: pytest.MonkeyPatch,
    separate: bool,
) -> None:
    monkeypatch.setenv("NYXMON_ADMIN_PASSWORD", PASSWORD)
    config, base = _config(tmp_path, target, separate=separate)
    agent = agents("run", "--config", str(config))
    wait_for(lambda: "dashboard:" in agent.output(), what="the dashboard URL")

    # Signing out: a copy of the cookie taken before is refused.
    leaving = _sign_in(base, PASSWORD)
    copy = leaving.cookies["nyxmon_session"]
    assert _works(base, copy)
    me = leaving.get(base + "/api/v1/me", timeout=10).json()
    out = leaving.post(
        base + "/logout", data={"csrf_token": me["csrf_token"]}, allow_redirects=False
    )
    assert out.status_code == 303
    assert not _works(base, copy)

    # A new password from the command line, while the web plane serves.
    staying = _sign_in(base, PASSWORD)
    cookie = staying.cookies["nyxmon_session"]
    assert _works(base, cookie)  # cached in the web plane from now on
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
        input="the-second-long-password\n",
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert changed.returncode == 0, changed.stderr
    assert "changed the password of user admin and signed out 1 session" in changed.stdout
    assert not _works(base, cookie)

    # Signing out everywhere from the command line.
    phone = _sign_in(base, "the-second-long-password").cookies["nyxmon_session"]
    laptop = _sign_in(base, "the-second-long-password").cookies["nyxmon_session"]
    assert _works(base, phone)
    assert _works(base, laptop)
    ended = nyxmon("user", "sign-out", "admin", "-c", str(config))
    assert ended.returncode == 0, ended.stderr
    assert "signed out 2 sessions of user admin" in ended.stdout
    assert not _works(base, phone)
    assert not _works(base, laptop)
    _sign_in(base, "the-second-long-password")  # signing in again works

    nobody = nyxmon("user", "sign-out", "nobody", "-c", str(config))
    assert nobody.returncode == 1
    assert "USER: no user named 'nobody'" in nobody.stderr
    agent.signal(signal.SIGTERM)
    assert agent.wait(30) == 0
