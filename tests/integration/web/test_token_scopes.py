"""API token scopes over real HTTP: ``read`` tokens read (lists, history, events, figures)
and are refused every change with a 403 problem naming the scope needed; ``admin`` tokens and
signed-in users may do everything; tokens from before scopes existed migrate to ``admin``."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import requests
from tests.integration.web.conftest import WebEnv

from nyxmon.config import LoadedConfig
from nyxmon.store.sqlite.migrations import apply_migrations, bundled_migrations
from nyxmon.web.auth import hash_token


def _client(token: str) -> requests.Session:
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    return session


def _create(web: WebEnv, **body: str) -> dict[str, object]:
    answer = web.api().post(web.url + "/api/v1/tokens", json={"name": "t", **body})
    assert answer.status_code == 201, answer.text
    document: dict[str, object] = answer.json()
    return document


def test_a_token_created_without_a_scope_reads_but_cannot_change_anything(web: WebEnv) -> None:
    created = _create(web)
    assert created["scope"] == "read"
    reader = _client(str(created["token"]))
    for path in (
        "/api/v1/checks",
        "/api/v1/checks/website.home",
        "/api/v1/checks/website.home/results",
        "/api/v1/checks/website.home/uptime",
        "/api/v1/services",
        "/api/v1/incidents",
        "/api/v1/agent",
        "/api/v1/tokens",
        "/api/v1/openapi.json",
    ):
        assert reader.get(web.url + path).status_code == 200, path
    assert reader.head(web.url + "/api/v1/checks").status_code in (200, 405)
    with reader.get(web.url + "/events?snapshot=true", stream=True, timeout=10) as stream:
        assert stream.status_code == 200
        assert stream.headers["content-type"].startswith("text/event-stream")
        first = next(stream.iter_lines())
        assert first  # the snapshot arrives
    assert reader.get(web.url + "/api/v1/me").json()["scope"] == "read"

    refused = [
        reader.post(web.url + "/api/v1/checks/website.home/pause"),
        reader.delete(web.url + "/api/v1/checks/website.home"),
        reader.put(web.url + "/api/v1/services/Website", json={"name": "Website"}),
        reader.post(web.url + "/api/v1/tokens", json={"name": "escalate", "scope": "admin"}),
        reader.post(web.url + "/api/v1/checks/website.home/run"),
    ]
    for answer in refused:
        assert answer.status_code == 403, (answer.request.method, answer.request.url)
        assert answer.headers["content-type"] == "application/problem+json"
        problem = answer.json()
        assert problem["type"] == "urn:nyxmon:problem:insufficient-scope"
        assert "'admin' scope" in problem["detail"]
        assert "'read'" in problem["detail"]
        assert 'scope="admin"' in answer.headers["www-authenticate"]
    check = web.agent.store.get_check("website.home")
    assert check is not None
    assert not check.paused
    names = [token.name for token in web.agent.store.list_tokens()]
    assert "escalate" not in names


def test_an_admin_token_and_a_signed_in_user_may_change_things(web: WebEnv) -> None:
    created = _create(web, scope="admin")
    assert created["scope"] == "admin"
    admin = _client(str(created["token"]))
    assert admin.post(web.url + "/api/v1/checks/website.home/pause").status_code == 200
    browser = web.login()
    assert browser.get(web.url + "/api/v1/me").json()["scope"] == "admin"
    assert browser.post(web.url + "/api/v1/checks/website.home/resume").status_code == 200
    listed = {t["name"]: t["scope"] for t in browser.get(web.url + "/api/v1/tokens").json()}
    assert listed["t"] == "admin"


def test_an_unknown_scope_is_refused_naming_the_field(web: WebEnv) -> None:
    answer = web.api().post(web.url + "/api/v1/tokens", json={"name": "x", "scope": "root"})
    assert answer.status_code == 422
    assert answer.json()["errors"][0]["field"] == "scope"
    assert [t.name for t in web.agent.store.list_tokens()] == ["tests"]


def test_tokens_made_before_scopes_existed_keep_full_access(
    start_web: Callable[..., WebEnv],
) -> None:
    raw = "nyx_" + "old" * 14

    def old_database(database: Path, config: LoadedConfig) -> None:
        conn = sqlite3.connect(database, isolation_level=None)
        apply_migrations(conn, str(database), bundled_migrations()[:4])
        conn.execute(
            "INSERT INTO api_tokens (name, token_hash, owner, created_at) VALUES (?, ?, ?, ?)",
            ("legacy", hash_token(raw), "admin", time.time()),
        )
        conn.close()

    web = start_web(prepare=old_database)
    legacy = _client(raw)
    assert legacy.get(web.url + "/api/v1/me").json()["scope"] == "admin"
    assert legacy.post(web.url + "/api/v1/checks/website.home/pause").status_code == 200
    tokens = {t["name"]: t["scope"] for t in legacy.get(web.url + "/api/v1/tokens").json()}
    assert tokens["legacy"] == "admin"


@pytest.mark.parametrize("scope", ["read", "admin"])
def test_the_cli_creates_and_lists_tokens_with_their_scope(
    web: WebEnv, scope: str, tmp_path: Path
) -> None:
    import json
    import os
    import subprocess
    import sys

    db = str(web.folder / "nyxmon.db")

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "nyxmon", *args, "--db", db],
            capture_output=True,
            text=True,
            timeout=60,
            stdin=subprocess.DEVNULL,
            env={**os.environ, "COLUMNS": "200"},
            check=False,
        )

    extra = ["--scope", scope] if scope == "admin" else []  # read is the default
    created = cli("token", "create", "ci", *extra)
    assert created.returncode == 0, created.stderr
    assert f"scope {scope}" in created.stdout
    raw = created.stdout.strip().splitlines()[-1]
    answer = _client(raw).post(web.url + "/api/v1/checks/website.home/pause")
    assert answer.status_code == (200 if scope == "admin" else 403)
    listed = cli("token", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    assert {t["name"]: t["scope"] for t in json.loads(listed.stdout)}["ci"] == scope
    table = cli("token", "list")
    row = next(line for line in table.stdout.splitlines() if " ci " in line)
    assert scope in row
    bad = cli("token", "create", "x", "--scope", "root")
    assert bad.returncode == 1
    assert "--scope" in bad.stderr + bad.stdout
    assert "root" in bad.stderr + bad.stdout
