"""Every route of the app is either deliberately public or refuses callers without credentials,
and every mutating route refuses a signed-in browser that does not send the CSRF token.

The test walks ``app.routes`` as it is (including routes added later, such as the dashboard's
pages), so a new route that forgets its protection fails here.
"""

from __future__ import annotations

import re

import pytest
import requests
from tests.integration.web.conftest import WebEnv

from nyxmon.web import PUBLIC_ROUTES
from nyxmon.web.app import PUBLIC_MOUNTS, route_table
from nyxmon.web.csrf import MUTATING

_SAMPLE_PARAMS = {
    "check_id": "website.home",
    "window": "24h",
    "token_id": "1",
    "slug": "nothing-here",
    "name": "Website",
}


def _routes(env: WebEnv) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for method, path in route_table(env.server.app):
        if method == "MOUNT":
            assert path in PUBLIC_MOUNTS, f"mounted app {path} is not known public"
        else:
            found.append((method, path))
    return found


def _url(env: WebEnv, path: str) -> str:
    def fill(match: re.Match[str]) -> str:
        name = match.group(1).split(":")[0]
        return _SAMPLE_PARAMS.get(name, "x")

    return env.url + re.sub(r"\{([^}]+)\}", fill, path)


def test_the_route_table_has_the_expected_surface(web: WebEnv) -> None:
    routes = set(_routes(web))
    assert routes >= PUBLIC_ROUTES, PUBLIC_ROUTES - routes  # no stale allow-list entries
    for expected in [
        ("GET", "/api/v1/checks"),
        ("POST", "/api/v1/checks"),
        ("POST", "/api/v1/checks/{check_id}/run"),
        ("GET", "/events"),
        ("GET", "/"),
        ("POST", "/logout"),
    ]:
        assert expected in routes


def test_every_non_public_route_refuses_anonymous_callers(web: WebEnv) -> None:
    before = web.agent.store.list_checks().total
    checked = 0
    for method, path in _routes(web):
        if (method, path) in PUBLIC_ROUTES:
            continue
        answer = requests.request(
            method, _url(web, path), allow_redirects=False, timeout=10, json={}
        )
        checked += 1
        if answer.status_code == 303:
            assert answer.headers["location"].startswith("/login?next="), (method, path)
        else:
            assert answer.status_code == 401, (method, path, answer.status_code, answer.text)
            assert answer.headers["content-type"] == "application/problem+json"
    assert checked > 20
    assert web.agent.store.list_checks().total == before


def test_every_mutating_route_refuses_a_session_without_the_csrf_token(web: WebEnv) -> None:
    session = web.login()
    session.headers.pop("X-CSRF-Token")
    paused = web.agent.store.get_check("website.home").paused
    checked = 0
    for method, path in _routes(web):
        if method not in MUTATING or (method, path) in PUBLIC_ROUTES:
            continue
        answer = session.request(
            method, _url(web, path), allow_redirects=False, timeout=10, json={}
        )
        checked += 1
        assert answer.status_code == 403, (method, path, answer.status_code, answer.text)
        assert "csrf" in answer.text.lower()
    assert checked >= 10
    assert web.agent.store.get_check("website.home").paused == paused
    assert web.agent.store.get_check("website.home") is not None


@pytest.mark.parametrize(("method", "path"), sorted(PUBLIC_ROUTES))
def test_public_routes_answer_without_credentials(web: WebEnv, method: str, path: str) -> None:
    answer = requests.request(method, _url(web, path), allow_redirects=False, timeout=10)
    assert answer.status_code != 401, (method, path, answer.text)
    assert not answer.headers.get("location", "").startswith("/login"), (method, path)
    if (method, path) != ("POST", "/login"):  # that one wants its form's CSRF token: 403
        assert answer.status_code != 403, (method, path, answer.text)
