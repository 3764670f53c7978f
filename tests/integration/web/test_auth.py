"""Signing in and out, sessions, API tokens, CSRF, login rate limiting, the first admin."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
import requests
from tests.integration.web.conftest import PASSWORD, WebEnv

from nyxmon.errors import ConfigError


def _login_form(session: requests.Session, url: str) -> str:
    form = session.get(url + "/login")
    match = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert match is not None
    return match.group(1)


def _post_login(
    session: requests.Session, url: str, password: str, user: str = "admin", **extra: str
) -> requests.Response:
    token = _login_form(session, url)
    data = {"username": user, "password": password, "csrf_token": token, **extra}
    return session.post(url + "/login", data=data, allow_redirects=False)


def test_signing_in_sets_an_httponly_lax_session_cookie_and_goes_to_next(web: WebEnv) -> None:
    session = web.anonymous()
    answer = _post_login(session, web.url, PASSWORD, next="/api/v1/me")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/api/v1/me"
    cookie = answer.headers["set-cookie"]
    assert "nyxmon_session=" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie or "SameSite=Lax" in cookie
    assert "Secure" not in cookie
    me = session.get(web.url + "/api/v1/me").json()
    assert me["user"] == "admin"
    assert me["via"] == "session"


def test_secure_cookies_setting_marks_the_session_cookie_secure(
    start_web: Callable[..., WebEnv],
) -> None:
    env = start_web(web_yaml="  secure_cookies: true")
    answer = _post_login(env.anonymous(), env.url, PASSWORD)
    assert answer.status_code == 303
    assert "Secure" in answer.headers["set-cookie"]


@pytest.mark.parametrize(
    "next_url",
    [
        pytest.param("https://evil.example/", id="absolute"),
        pytest.param("//evil.example/", id="scheme-relative"),
        pytest.param("/\\evil.example", id="backslash"),
    ],
)
def test_login_never_redirects_off_site(web: WebEnv, next_url: str) -> None:
    answer = _post_login(web.anonymous(), web.url, PASSWORD, next=next_url)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/"


def test_a_wrong_password_is_refused_with_the_form_again(web: WebEnv) -> None:
    session = web.anonymous()
    answer = _post_login(session, web.url, "wrong-password")
    assert answer.status_code == 401
    assert "Wrong user name or password." in answer.text
    assert "nyxmon_session" not in session.cookies
    assert session.get(web.url + "/api/v1/me").status_code == 401


def test_login_without_its_csrf_token_is_refused(web: WebEnv) -> None:
    session = web.anonymous()
    _login_form(session, web.url)
    answer = session.post(
        web.url + "/login",
        data={"username": "admin", "password": PASSWORD, "csrf_token": "forged"},
        allow_redirects=False,
    )
    assert answer.status_code == 403
    assert "nyxmon_session" not in session.cookies


def test_login_form_from_another_browser_does_not_count(web: WebEnv) -> None:
    token = _login_form(web.anonymous(), web.url)
    victim = web.anonymous()
    victim.get(web.url + "/login")  # has its own login cookie
    answer = victim.post(
        web.url + "/login",
        data={"username": "admin", "password": PASSWORD, "csrf_token": token},
        allow_redirects=False,
    )
    assert answer.status_code == 403


def test_five_failures_lock_the_address_out_with_retry_after(web: WebEnv) -> None:
    session = web.anonymous()
    for _ in range(5):
        assert _post_login(session, web.url, "nope-nope").status_code == 401
    locked = _post_login(session, web.url, PASSWORD)  # even the right password now
    assert locked.status_code == 429
    assert 1 <= int(locked.headers["retry-after"]) <= 300
    assert "Too many failed sign-ins" in locked.text


def test_failures_for_one_user_lock_that_user_from_any_address(web: WebEnv) -> None:
    limiter = web.server.app.state.nyxmon.limiter
    limiter.failed([f"ip:10.0.0.{n}" for n in range(5)] + ["user:admin"] * 5)
    locked = _post_login(web.anonymous(), web.url, PASSWORD)
    assert locked.status_code == 429


def test_signing_out_ends_the_session_and_needs_csrf(web: WebEnv) -> None:
    session = web.login()
    csrf = session.headers.pop("X-CSRF-Token")
    assert session.post(web.url + "/logout", allow_redirects=False).status_code == 403
    answer = session.post(web.url + "/logout", data={"csrf_token": csrf}, allow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/login"
    assert session.get(web.url + "/api/v1/me").status_code == 401


def test_a_changed_password_ends_existing_sessions(web: WebEnv) -> None:
    session = web.login()
    assert session.get(web.url + "/api/v1/me").status_code == 200
    auth = web.server.app.state.nyxmon.auth
    auth.set_password_blocking("admin", "another-long-password")
    assert session.get(web.url + "/api/v1/me").status_code == 401
    assert _post_login(web.anonymous(), web.url, "another-long-password").status_code == 303


def test_a_tampered_or_made_up_session_cookie_is_ignored(web: WebEnv) -> None:
    session = web.login()
    cookie = session.cookies["nyxmon_session"]
    for forged_value in (cookie[:-1] + ("A" if cookie[-1] != "A" else "B"), "x" * 43, "x" * 500):
        forged = requests.Session()
        forged.cookies.set("nyxmon_session", forged_value)
        assert forged.get(web.url + "/api/v1/me").status_code == 401
        assert forged.get(web.url + "/", allow_redirects=False).status_code == 303


def test_api_tokens_work_until_revoked(web: WebEnv) -> None:
    admin = web.login()
    created = admin.post(web.url + "/api/v1/tokens", json={"name": "grafana"})
    assert created.status_code == 201
    token = created.json()["token"]
    assert token.startswith("nyx_")
    client = requests.Session()
    client.headers["Authorization"] = f"Bearer {token}"
    me = client.get(web.url + "/api/v1/me").json()
    assert me == {"user": "admin", "via": "token", "csrf_token": None, "scope": "read"}
    listed = admin.get(web.url + "/api/v1/tokens").json()
    assert [t["name"] for t in listed] == ["grafana"]
    assert "token" not in listed[0]
    assert listed[0]["last_used_at"] is not None
    assert admin.delete(web.url + f"/api/v1/tokens/{created.json()['id']}").status_code == 204
    refused = client.get(web.url + "/api/v1/me")
    assert refused.status_code == 401
    assert refused.headers["content-type"] == "application/problem+json"
    assert admin.delete(web.url + f"/api/v1/tokens/{created.json()['id']}").status_code == 404


@pytest.mark.parametrize(
    "header",
    [
        pytest.param("Bearer nyx_made-up", id="unknown"),
        pytest.param("Bearer ", id="empty"),
        pytest.param("Basic YWRtaW46YWRtaW4=", id="basic"),
        pytest.param("Bearer not-even-the-prefix", id="no-prefix"),
    ],
)
def test_bad_authorization_headers_get_401(web: WebEnv, header: str) -> None:
    answer = requests.get(web.url + "/api/v1/checks", headers={"Authorization": header})
    assert answer.status_code == 401
    assert answer.json()["status"] == 401
    assert "Bearer" in answer.headers["www-authenticate"]


def test_token_callers_need_no_csrf_but_cookie_callers_do(web: WebEnv) -> None:
    api = web.api()
    assert api.post(web.url + "/api/v1/checks/website.home/pause").status_code == 200
    browser = web.login()
    browser.headers.pop("X-CSRF-Token")
    refused = browser.post(web.url + "/api/v1/checks/website.home/resume")
    assert refused.status_code == 403
    assert refused.json()["type"] == "urn:nyxmon:problem:csrf"
    assert web.agent.store.get_check("website.home").paused  # unchanged by the refused call


def test_first_start_generates_and_announces_the_admin_password_once(
    start_web: Callable[..., WebEnv],
) -> None:
    env = start_web(admin_password=None)
    assert len(env.announced) == 1
    line = env.announced[0]
    match = re.fullmatch(r"admin password: (\S+)  \(user 'admin'; .*\)", line)
    assert match is not None, line
    assert _post_login(env.anonymous(), env.url, match.group(1)).status_code == 303
    from nyxmon.web import create_app

    again: list[str] = []
    create_app(env.agent, env.settings, announce=again.append)
    assert again == []  # a user exists: nothing generated, nothing printed


def test_admin_password_comes_from_the_environment(
    start_web: Callable[..., WebEnv], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NYXMON_ADMIN_PASSWORD", "from-the-environment")
    env = start_web(admin_password=None)
    assert env.announced == ["created user 'admin' with the password from $NYXMON_ADMIN_PASSWORD"]
    assert _post_login(env.anonymous(), env.url, "from-the-environment").status_code == 303


def test_admin_password_comes_from_the_configured_file(
    start_web: Callable[..., WebEnv], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NYXMON_ADMIN_PASSWORD", raising=False)
    secret = tmp_path / "admin.txt"
    secret.write_text("from-a-file-123\n")
    env = start_web(web_yaml=f"  admin_password_file: {secret}", admin_password=None)
    assert _post_login(env.anonymous(), env.url, "from-a-file-123").status_code == 303


def test_a_short_or_missing_admin_password_file_stops_the_start(
    start_web: Callable[..., WebEnv], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NYXMON_ADMIN_PASSWORD", raising=False)
    short = tmp_path / "short.txt"
    short.write_text("abc\n")
    with pytest.raises(ConfigError, match="at least 8 characters, got 3"):
        start_web(web_yaml=f"  admin_password_file: {short}", admin_password=None)
    with pytest.raises(ConfigError, match=r"web.admin_password_file: cannot read .*missing.txt"):
        start_web(
            web_yaml=f"  admin_password_file: {tmp_path / 'missing.txt'}", admin_password=None
        )


def test_a_token_revoked_by_the_cli_process_is_refused_at_once_while_requests_go_on(
    web: WebEnv,
) -> None:
    """The CLI revokes from its own process while clients keep using the token: every
    request sent after ``nyxmon token revoke`` returned is refused (no cache grace)."""
    import os
    import subprocess
    import sys
    import threading
    import time

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

    created = cli("token", "create", "ci")
    assert created.returncode == 0, created.stderr
    raw = created.stdout.strip().splitlines()[-1]
    token_id = created.stdout.split()[2]
    client = requests.Session()
    client.headers["Authorization"] = f"Bearer {raw}"
    assert client.get(web.url + "/api/v1/me").status_code == 200  # cached from now on

    answers: list[tuple[float, int]] = []
    stop = threading.Event()

    def hammer() -> None:
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {raw}"
        while not stop.is_set():
            sent = time.monotonic()
            answers.append((sent, session.get(web.url + "/api/v1/me").status_code))

    threads = [threading.Thread(target=hammer) for _ in range(6)]
    for thread in threads:
        thread.start()
    try:
        time.sleep(0.3)
        revoked = cli("token", "revoke", token_id)
        returned = time.monotonic()
        assert revoked.returncode == 0, revoked.stderr
        assert f"revoked token {token_id}" in revoked.stdout
        assert client.get(web.url + "/api/v1/me").status_code == 401
        time.sleep(0.3)
    finally:
        stop.set()
        for thread in threads:
            thread.join(10)
    before = [status for sent, status in answers if sent < returned]
    after = [status for sent, status in answers if sent > returned]
    assert 200 in before, "the token worked while the CLI started"
    assert after, "requests went on after the revocation"
    assert set(after) == {401}, "no request sent after the revocation got through"
