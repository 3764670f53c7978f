"""Every route of the running app refuses anonymous callers unless it is public on purpose.

The walk enumerates the app's route table as it is (``app.routes``, through included routers
and mounted apps), never a hand-made list of protected routes, so a route added later without
protection fails here: :func:`test_a_route_added_without_protection_is_caught` proves the walk
would notice. For each route and each of its methods an anonymous request must be refused the
way its kind says: ``/api/...`` and the event stream with 401 problem+json, pages with a
redirect to ``/login``, ``/metrics`` with 401/403 once ``web.metrics_token`` is set. Only
:data:`PUBLIC` and :data:`PUBLIC_MOUNTS` answer anyone, and they must equal the app's own
allow-list.
"""

# The fixtures come from the web tests' conftest (a real agent, the app served by uvicorn);
# the tests' parameters name them, which ruff reads as redefinitions.
# ruff: noqa: F811

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import requests
from fastapi import FastAPI
from fastapi.responses import PlainTextResponse
from fastapi.routing import iter_route_contexts
from starlette.routing import BaseRoute, Mount, WebSocketRoute

from nyxmon.web.app import PUBLIC_MOUNTS as APP_PUBLIC_MOUNTS
from nyxmon.web.app import PUBLIC_ROUTES as APP_PUBLIC_ROUTES
from tests.integration.web.conftest import WebEnv, start_web, target, web  # noqa: F401

#: What answers without credentials, on purpose: (method, path template).
PUBLIC: frozenset[tuple[str, str]] = frozenset(
    {
        ("GET", "/login"),
        ("POST", "/login"),  # the login form itself (it wants its own CSRF token)
        ("GET", "/healthz"),
        ("GET", "/livez"),
        ("GET", "/metrics"),  # public only while web.metrics_token is unset
        ("GET", "/status/{slug}"),
        ("GET", "/status/{slug}.json"),
        ("GET", "/badge/{check_id}/status.svg"),
        ("GET", "/badge/{check_id}/uptime/{window}.svg"),
        ("GET", "/badge/{check_id}/latency.svg"),
    }
)
PUBLIC_MOUNTS: frozenset[str] = frozenset({"/static"})
METRICS_TOKEN = "a-long-enough-metrics-token"

_SAMPLES = {
    "check_id": "website.home",
    "window": "24h",
    "token_id": "1",
    "slug": "nothing-here",
    "name": "Website",
}


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str  # the template, e.g. /api/v1/checks/{check_id}
    mounted: bool = False


def endpoints(routes: Sequence[BaseRoute], prefix: str = "") -> Iterator[Endpoint]:
    """Every (method, path) the app serves, through included routers (FastAPI keeps them
    apart and resolves them lazily: :func:`iter_route_contexts` flattens them) and mounted
    apps (walked in turn when they have a route table)."""
    for context in iter_route_contexts(routes):
        route = context.original_route
        if isinstance(route, Mount):
            inner = getattr(route.app, "routes", None)
            if inner is None:  # an app without a route table (static files): the mount itself
                yield Endpoint("GET", prefix + route.path, mounted=True)
            else:
                yield from endpoints(list(inner), prefix + route.path)
        elif isinstance(route, WebSocketRoute):
            yield Endpoint("WEBSOCKET", prefix + str(context.path))
        elif context.methods is not None and context.path is not None:
            for method in sorted(context.methods):
                if method != "HEAD":  # starlette adds HEAD to GET routes: GET covers it
                    yield Endpoint(method, prefix + context.path)
        else:
            raise AssertionError(f"a route of a kind this walk does not know: {route!r}")


def _url(base: str, path: str) -> str:
    def fill(match: re.Match[str]) -> str:
        return _SAMPLES.get(match.group(1).split(":")[0], "x")

    return base + re.sub(r"\{([^}]+)\}", fill, path)


def _is_public(endpoint: Endpoint, *, metrics_token: bool) -> bool:
    if endpoint.mounted:
        return endpoint.path in PUBLIC_MOUNTS
    if (endpoint.method, endpoint.path) == ("GET", "/metrics"):
        return not metrics_token
    return (endpoint.method, endpoint.path) in PUBLIC


def _refusal(endpoint: Endpoint, answer: requests.Response) -> str | None:
    """Why ``answer`` is not the refusal its route owes an anonymous caller (None if it is)."""
    status, kind = answer.status_code, answer.headers.get("content-type", "")
    if endpoint.path.startswith(("/api/", "/events")):  # JSON and the event stream
        if status != 401 or kind != "application/problem+json":
            return f"expected 401 problem+json, got {status} {kind}"
        if "www-authenticate" not in answer.headers:
            return "a 401 without WWW-Authenticate"
        return None
    if endpoint.path == "/metrics":
        return None if status in (401, 403) else f"expected 401 or 403, got {status}"
    location = answer.headers.get("location", "")
    if status not in (302, 303, 307) or not location.startswith("/login?next="):
        return f"expected a redirect to /login?next=..., got {status} {location!r}"
    return None


def unguarded(
    app: FastAPI, base: str, *, metrics_token: bool, cookies: dict[str, str] | None = None
) -> tuple[list[str], int]:
    """``(every route that let the caller through, how many routes were tried)``."""
    found: list[str] = []
    tried = 0
    for endpoint in endpoints(list(app.routes)):
        if _is_public(endpoint, metrics_token=metrics_token):
            continue
        tried += 1
        if endpoint.method == "WEBSOCKET":
            found.append(f"{endpoint.path}: a websocket route, which this walk cannot check")
            continue
        client = requests.Session()
        client.cookies.update(cookies or {})
        path = endpoint.path + ("/" if endpoint.mounted else "")
        answer = client.request(
            endpoint.method, _url(base, path), allow_redirects=False, timeout=10, json={}
        )
        why = _refusal(endpoint, answer)
        if why is not None:
            found.append(f"{endpoint.method} {endpoint.path}: {why}")
    return found, tried


def test_the_allow_list_is_the_apps_and_every_entry_is_served(web: WebEnv) -> None:
    assert frozenset(APP_PUBLIC_ROUTES) == PUBLIC
    assert frozenset(APP_PUBLIC_MOUNTS) == PUBLIC_MOUNTS
    served = {(e.method, e.path) for e in endpoints(list(web.server.app.routes))}
    assert served >= PUBLIC, PUBLIC - served  # no stale entries
    mounts = {e.path for e in endpoints(list(web.server.app.routes)) if e.mounted}
    assert mounts == PUBLIC_MOUNTS


def test_every_route_outside_the_allow_list_refuses_anonymous_callers(web: WebEnv) -> None:
    before = web.agent.store.list_checks().total
    found, tried = unguarded(web.server.app, web.url, metrics_token=False)
    assert found == []
    assert tried > 30  # the API, the pages, the account page, the event stream, the docs
    assert web.agent.store.list_checks().total == before


def test_a_signed_out_cookie_is_refused_by_every_route(web: WebEnv) -> None:
    session = web.login()
    cookie = session.cookies["nyxmon_session"]
    assert session.post(web.url + "/logout", allow_redirects=False).status_code == 303
    for value in (cookie, "x" * 43, ""):
        found, _ = unguarded(
            web.server.app, web.url, metrics_token=False, cookies={"nyxmon_session": value}
        )
        assert found == [], value


def test_metrics_with_a_token_refuse_anonymous_callers(start_web: Callable[..., WebEnv]) -> None:
    web = start_web(web_yaml=f"  metrics_token: {METRICS_TOKEN}")
    found, _ = unguarded(web.server.app, web.url, metrics_token=True)
    assert found == []
    wrong = {"Authorization": "Bearer not-the-token-at-all"}
    assert requests.get(web.url + "/metrics", headers=wrong, timeout=10).status_code in (401, 403)
    right = {"Authorization": f"Bearer {METRICS_TOKEN}"}
    assert requests.get(web.url + "/metrics", headers=right, timeout=10).status_code == 200


def test_public_routes_answer_anonymous_callers(web: WebEnv) -> None:
    for method, path in sorted(PUBLIC):
        answer = requests.request(method, _url(web.url, path), allow_redirects=False, timeout=10)
        assert answer.status_code != 401, (method, path)
        assert not answer.headers.get("location", "").startswith("/login"), (method, path)
        if (method, path) != ("POST", "/login"):  # that one wants its form's CSRF token
            assert answer.status_code != 403, (method, path)
    assert requests.get(web.url + "/static/nyxmon.css", timeout=10).status_code == 200


def test_a_route_added_without_protection_is_caught(start_web: Callable[..., WebEnv]) -> None:
    web = start_web()
    app = web.server.app

    async def leak() -> PlainTextResponse:
        return PlainTextResponse("every check's secrets")

    sub = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
    sub.add_api_route("/inside", leak, methods=["GET"])
    app.add_api_route("/api/v1/leak", leak, methods=["GET", "DELETE"])
    app.add_api_route("/leaky-page", leak, methods=["GET"])
    app.mount("/leaky-app", sub)
    found, _ = unguarded(app, web.url, metrics_token=False)
    caught = {line.split(":")[0] for line in found}
    assert caught == {
        "GET /api/v1/leak",
        "DELETE /api/v1/leak",
        "GET /leaky-page",
        "GET /leaky-app/inside",
    }
