"""The login limiter, the session records and the cookie's Secure flag see the real client:
``X-Forwarded-For``/``X-Forwarded-Proto``/``Forwarded`` count only from ``web.trusted_proxies``.

The test client is on 127.0.0.1; with nothing trusted (the default) its forwarded headers are
ignored, so rotating them cannot dodge the limit on failed sign-ins.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable

import requests
from tests.integration.web.conftest import PASSWORD, WebEnv


def _sign_in(web: WebEnv, user: str, password: str, headers: dict[str, str]) -> requests.Response:
    session = requests.Session()
    form = session.get(web.url + "/login", timeout=10)
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert token is not None
    return session.post(
        web.url + "/login",
        data={"username": user, "password": password, "csrf_token": token.group(1)},
        headers=headers,
        allow_redirects=False,
        timeout=10,
    )


def _session_clients(web: WebEnv) -> list[str]:
    with sqlite3.connect(web.folder / "nyxmon.db") as db:
        return [row[0] for row in db.execute("SELECT client FROM web_sessions")]


def test_rotating_x_forwarded_for_does_not_escape_the_login_limit(web: WebEnv) -> None:
    for n in range(5):  # another made-up address and user name each time
        spoofed = {"X-Forwarded-For": f"203.0.113.{n}", "Forwarded": f"for=198.51.100.{n}"}
        assert _sign_in(web, f"guess{n}", "wrong-password", spoofed).status_code == 401
    locked = _sign_in(web, "admin", PASSWORD, {"X-Forwarded-For": "203.0.113.200"})
    assert locked.status_code == 429
    assert "retry-after" in locked.headers


def test_without_trusted_proxies_forwarded_headers_change_nothing(web: WebEnv) -> None:
    answer = _sign_in(
        web, "admin", PASSWORD, {"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https"}
    )
    assert answer.status_code == 303
    assert "Secure" not in answer.headers["set-cookie"]  # the request came over plain HTTP
    assert _session_clients(web) == ["127.0.0.1"]


def test_a_trusted_proxy_names_the_client(start_web: Callable[..., WebEnv]) -> None:
    web = start_web(web_yaml="  trusted_proxies: [127.0.0.1, 10.0.0.0/8]")
    behind = {"X-Forwarded-For": "198.51.100.1, 203.0.113.7, 10.1.2.3"}  # right-most untrusted
    for n in range(5):
        assert _sign_in(web, f"guess{n}", "wrong-password", behind).status_code == 401
    assert _sign_in(web, "admin", PASSWORD, behind).status_code == 429  # that client is locked
    other = {"X-Forwarded-For": "203.0.113.8", "X-Forwarded-Proto": "https"}
    answer = _sign_in(web, "admin", PASSWORD, other)  # another client behind the same proxy
    assert answer.status_code == 303
    assert "Secure" in answer.headers["set-cookie"]  # the browser spoke HTTPS to the proxy
    standard = {"Forwarded": 'for="[2001:db8::7]:4711";proto=http'}
    assert _sign_in(web, "admin", PASSWORD, standard).status_code == 303
    assert sorted(_session_clients(web)) == ["2001:db8::7", "203.0.113.8"]
