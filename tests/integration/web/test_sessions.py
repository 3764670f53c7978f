"""Sessions end when someone says so: signing out, signing out everywhere, a new password.

A copy of the cookie taken before (a stolen cookie, a shared computer's) is refused on the
very next request, for the API and the pages alike.
"""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
import threading
import time

import requests
from tests.integration.web.conftest import WebEnv, wait_for


def _replay(web: WebEnv, cookie: str) -> requests.Session:
    copy = requests.Session()
    copy.cookies.set("nyxmon_session", cookie)
    return copy


def _refused(web: WebEnv, client: requests.Session) -> bool:
    api = client.get(web.url + "/api/v1/me", timeout=10)
    page = client.get(web.url + "/", allow_redirects=False, timeout=10)
    return (
        api.status_code == 401
        and page.status_code == 303
        and (page.headers["location"].startswith("/login"))
    )


def test_a_cookie_replayed_after_signing_out_is_refused(web: WebEnv) -> None:
    session = web.login()
    cookie = session.cookies["nyxmon_session"]
    csrf = session.headers["X-CSRF-Token"]
    assert not _refused(web, _replay(web, cookie))
    answer = session.post(web.url + "/logout", data={"csrf_token": csrf}, allow_redirects=False)
    assert answer.status_code == 303
    replayed = _replay(web, cookie)
    assert _refused(web, replayed)
    # Nor can the old cookie change anything, even with its CSRF token.
    paused = replayed.post(
        web.url + "/api/v1/checks/website.home/pause", headers={"X-CSRF-Token": csrf}
    )
    assert paused.status_code == 401
    assert not web.agent.store.get_check("website.home").paused


def test_signing_out_ends_only_that_session(web: WebEnv) -> None:
    first, second = web.login(), web.login()
    cookie = first.cookies["nyxmon_session"]
    assert first.post(web.url + "/logout", allow_redirects=False).status_code == 303
    assert _refused(web, _replay(web, cookie))
    assert not _refused(web, second)


def test_the_store_keeps_only_a_hash_of_the_session_token(web: WebEnv) -> None:
    session = web.login()
    cookie = session.cookies["nyxmon_session"]
    with sqlite3.connect(web.folder / "nyxmon.db") as db:
        rows = db.execute("SELECT token_hash, user FROM web_sessions").fetchall()
        dump = "\n".join(db.iterdump())
    assert rows
    assert all(user == "admin" for _, user in rows)
    assert cookie not in dump


def test_the_account_page_lists_the_users_sessions_and_signs_out_everywhere(
    web: WebEnv,
) -> None:
    web.server.app.state.nyxmon.auth.set_password_blocking("bob", "bobs-long-password")
    phone, laptop = web.login(), web.login()
    bob = web.login("bob", "bobs-long-password")
    page = laptop.get(web.url + "/account")
    assert page.status_code == 200
    assert page.text.count("<tr") == 3  # a header row and two sessions, not bob's
    assert "(this one)" in page.text
    assert "Sign out everywhere" in page.text
    assert page.headers["content-security-policy"].startswith("default-src 'self'")

    without_csrf = requests.Session()
    without_csrf.cookies.update(laptop.cookies)
    refused = without_csrf.post(web.url + "/account/sign-out-everywhere", allow_redirects=False)
    assert refused.status_code == 403
    assert not _refused(web, phone)

    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token is not None
    done = laptop.post(
        web.url + "/account/sign-out-everywhere",
        data={"csrf_token": token.group(1)},
        allow_redirects=False,
    )
    assert done.status_code == 303
    assert done.headers["location"] == "/login"
    assert _refused(web, phone)
    assert _refused(web, _replay(web, laptop.cookies.get("nyxmon_session") or "gone"))
    assert not _refused(web, bob)


def test_a_new_password_set_in_this_process_ends_every_session_at_once(web: WebEnv) -> None:
    sessions = [web.login() for _ in range(3)]
    web.server.app.state.nyxmon.auth.set_password_blocking("admin", "another-long-password")
    assert all(_refused(web, session) for session in sessions)


def test_a_password_set_by_the_cli_process_ends_sessions_while_requests_go_on(
    web: WebEnv,
) -> None:
    """The CLI sets the password from its own process while the browser keeps asking: every
    request sent after ``nyxmon user set-password`` returned is refused (no cache grace)."""
    session = web.login()
    cookie = session.cookies["nyxmon_session"]
    answers: list[tuple[float, int]] = []
    stop = threading.Event()

    def hammer() -> None:
        client = _replay(web, cookie)
        while not stop.is_set():
            sent = time.monotonic()
            answers.append((sent, client.get(web.url + "/api/v1/me", timeout=10).status_code))

    threads = [threading.Thread(target=hammer) for _ in range(4)]
    for thread in threads:
        thread.start()
    try:
        # The session works while the requests go on (on a busy machine the first answers can
        # come after a quick CLI's change, so the CLI starts only once one came back 200).
        wait_for(lambda: any(status == 200 for _, status in answers), 10, "a 200 answer")
        changed = subprocess.run(
            [
                sys.executable,
                "-m",
                "nyxmon",
                "user",
                "set-password",
                "admin",
                "--stdin",
                "--db",
                str(web.folder / "nyxmon.db"),
            ],
            input="a-password-from-the-cli\n",
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, "COLUMNS": "200"},
            check=False,
        )
        returned = time.monotonic()
        assert changed.returncode == 0, changed.stderr
        assert _refused(web, _replay(web, cookie))
        time.sleep(0.3)
    finally:
        stop.set()
        for thread in threads:
            thread.join(10)
    after = [status for sent, status in answers if sent > returned]
    assert after, "requests went on after the password change"
    assert set(after) == {401}, "no request sent after the password change got through"


def test_an_open_event_stream_ends_when_its_session_ends(web: WebEnv) -> None:
    """A page left open keeps its event stream: signing out elsewhere ends it, so the stream
    carries nothing more to that browser (the checks here report every second)."""
    session = web.login()
    stream = session.get(web.url + "/events", stream=True, timeout=30)
    assert stream.status_code == 200
    lines = stream.iter_lines(decode_unicode=True)
    assert next(lines).startswith("retry:")
    assert next(line for line in lines if line.startswith("event:")) == "event: status"
    ended = requests.Session()
    ended.cookies.update(session.cookies)
    ended.headers["X-CSRF-Token"] = session.headers["X-CSRF-Token"]
    assert ended.post(web.url + "/logout", allow_redirects=False).status_code == 303
    rest = list(lines)  # ends when the server closes the stream (else the read times out)
    assert len([line for line in rest if line.startswith("event:")]) <= 1  # one in flight
    stream.close()
