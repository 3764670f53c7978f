"""Secrets never leave: not in an answer, a log line or a stored error (issue 13, defect 5).

A Telegram route (Apprise, no internet here, so every send fails and Apprise's error quotes
the bot URL) and a check whose URL carries credentials run in a real agent; then every place a
text leaves is read: the agent's log, the outbox's stored error, ``nyxmon notify test`` and
``notify outbox``, and the API's answers.
"""

from __future__ import annotations

import signal
from collections.abc import Callable
from pathlib import Path

import requests

from nyxmon.store.sqlite.store import SqliteStore
from tests.e2e.conftest import AgentProcess, free_port, nyxmon, wait_for

BOT_TOKEN = "123456:ABCDEFsecretTOKENxyz"
PASSWORD = "pa55wordSECRET"
API_KEY = "KEYsecret987654"
SECRETS = (BOT_TOKEN, "ABCDEFsecretTOKENxyz", PASSWORD, API_KEY)


def _clean(text: str, where: str) -> None:
    leaked = [secret for secret in SECRETS if secret in text]
    assert leaked == [], f"{where} shows {leaked}"


def _stored_error(db: Path) -> str:
    try:
        with SqliteStore(db, readonly=True) as store:
            return " ".join(item.last_error for item in store.outbox())
    except Exception:
        return ""


def test_no_secret_reaches_an_answer_a_log_line_or_a_stored_error(
    tmp_path: Path, agents: Callable[..., AgentProcess]
) -> None:
    db = tmp_path / "nyxmon.db"
    port = free_port()
    config = tmp_path / "nyxmon.yaml"
    config.write_text(
        f"web: {{listen: '127.0.0.1:{port}'}}\n"
        f"agent: {{database: {db}}}\n"
        "defaults: {interval: 1s, timeout: 900ms, alert: {failure_threshold: 1}}\n"
        "alerting:\n  routes:\n"
        f"    - {{name: tg, type: apprise, urls: ['tgram://{BOT_TOKEN}/987'], default: true}}\n"
        "services:\n  - name: web\n    checks:\n"
        f"      - {{name: site, type: http, url: 'http://admin:{PASSWORD}@127.0.0.1:9/x?"
        f"apikey={API_KEY}'}}\n"
    )
    agent = agents("run", "--config", str(config), "--log-level", "debug")
    wait_for(lambda: _stored_error(db), timeout=60, what="a failed delivery stored")
    _clean(_stored_error(db), "outbox.last_error")

    shown = nyxmon("notify", "outbox", "--config", str(config))
    _clean(shown.stdout + shown.stderr, "nyxmon notify outbox")
    tried = nyxmon("notify", "test", "tg", "--config", str(config))
    assert tried.returncode != 0  # no internet: Telegram cannot be reached
    assert "Telegram" in tried.stdout + tried.stderr, "the failure is still explained"
    _clean(tried.stdout + tried.stderr, "nyxmon notify test")

    created = nyxmon("token", "create", "tester", "--scope", "admin", "--config", str(config))
    token = next(word for word in created.stdout.split() if word.startswith("nyx_"))
    api = requests.Session()
    api.headers["Authorization"] = f"Bearer {token}"
    base = f"http://127.0.0.1:{port}"
    answer = api.post(f"{base}/api/v1/notify/test", json={"route": "tg"}, timeout=60)
    assert answer.ok, answer.text
    _clean(answer.text, "POST /api/v1/notify/test")
    for path in ("/api/v1/routes", "/api/v1/checks/web.site/results?limit=5"):
        _clean(api.get(base + path, timeout=10).text, f"GET {path}")

    agent.signal(signal.SIGTERM)
    agent.wait(30)
    _clean(agent.output(), "the agent's log")
