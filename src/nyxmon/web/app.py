"""The web plane's ASGI app: REST API, pages, status pages, badges, /metrics, live events.

``create_app(agent, settings)`` builds it; :class:`nyxmon.web.server.WebServer` serves it
with uvicorn on its own thread and loop inside the agent process (DESIGN.md's threads table).

Where things go (for whoever adds to it):

- **API** (``/api/v1``): one module per resource in ``web/api/`` with a router from
  :func:`nyxmon.web.deps.api_router` (bearer token or session cookie; CSRF for cookie
  changes), response models in ``web/api/schemas.py``. Errors: raise
  :class:`~nyxmon.web.problems.Problem` or a ``NyxmonError``; :mod:`nyxmon.web.problems` turns
  them into RFC 9457 problem+json.
- **Pages** (the dashboard): :mod:`nyxmon.web.pages` exposes ``router`` (built with
  :func:`nyxmon.web.deps.page_router`: session cookie, else redirect to ``/login``), included
  ahead of everything else. Its templates go in ``web/templates/pages/`` and extend
  ``base.html`` (blocks: title, head, nav, content, scripts). Forms add ``{{ csrf_field() }}``;
  htmx requests already carry the token (``hx-headers`` on ``<body>``). Template helpers:
  ``csrf_token()``, ``csrf_field()``, ``current_user()``, ``url_for('static', path=...)``.
- **Static files**: ``web/static/`` at ``/static`` (htmx and its SSE extension are vendored in
  ``static/vendor/``; no CDN).
- **Live updates**: ``GET /events`` streams coalesced status changes and catalog changes (see
  :mod:`nyxmon.web.events` and :mod:`nyxmon.web.catalog_watch`); ``app.state.nyxmon.hub`` is
  the hub, to add other streams. Pages follow it by re-fetching server-rendered fragments
  (``static/js/live.js``), never by rendering in JavaScript.
- **Public** routes (no login): list them in :data:`PUBLIC_ROUTES`; a test walks
  ``app.routes`` and fails for any other route that answers without credentials. The ping
  endpoints of push checks (``/ping/...``) are no route: :mod:`nyxmon.web.ping` answers them
  ahead of the whole middleware stack, the key being their credential.

Blocking work (store reads, argon2, rendering thousands of rows) never runs on the web loop:
``await run_blocking(request, fn, ...)`` (:mod:`nyxmon.web.deps`) runs it in the web plane's
few worker threads and charges its CPU to the web plane's budget (:mod:`nyxmon.web.budget`);
prefer it to plain ``def`` routes, whose CPU the budget cannot see. Changes go to the agent as
commands: ``await state.context.command(cmd, timeout)``.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread
import jinja2
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from markupsafe import Markup
from starlette.routing import Mount
from starlette.types import Receive, Scope, Send

from nyxmon.domain.history.uptime import percent_text
from nyxmon.web.api.contract import install_contract
from nyxmon.web.auth import AuthService
from nyxmon.web.budget import CpuBudget, CpuBudgetMiddleware
from nyxmon.web.catalog_watch import CatalogWatch
from nyxmon.web.context import context_for
from nyxmon.web.csrf import CSRF_FIELD
from nyxmon.web.deps import WebState
from nyxmon.web.events import StatusHub
from nyxmon.web.forwarded import ForwardedHeaders, TrustedProxies
from nyxmon.web.live import LiveView
from nyxmon.web.pages import formatting
from nyxmon.web.ping import PingEndpoint, is_ping
from nyxmon.web.problems import install_problem_handlers
from nyxmon.web.public.check_metrics import install_check_metrics
from nyxmon.web.public.fast import PublicFastPath
from nyxmon.web.ratelimit import LoginLimiter
from nyxmon.web.security_headers import SecurityHeadersMiddleware
from nyxmon.web.sessions import Sessions
from nyxmon.web.settings import WebSettings

__all__ = ["API_PREFIX", "PUBLIC_MOUNTS", "PUBLIC_ROUTES", "create_app", "route_table"]

log = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
API_PREFIX = "/api/v1"

#: (method, path) of every route that answers without credentials, on purpose.
PUBLIC_ROUTES: frozenset[tuple[str, str]] = frozenset(
    {
        ("GET", "/login"),
        ("POST", "/login"),
        ("GET", "/healthz"),
        ("GET", "/livez"),
        ("GET", "/metrics"),  # optional bearer token: web.metrics_token
        ("GET", "/status/{slug}"),
        ("GET", "/status/{slug}.json"),
        ("GET", "/badge/{check_id}/status.svg"),
        ("GET", "/badge/{check_id}/uptime/{window}.svg"),
        ("GET", "/badge/{check_id}/latency.svg"),
    }
)
#: Mounted apps that are public as a whole.
PUBLIC_MOUNTS: frozenset[str] = frozenset({"/static"})


def create_app(
    agent: Any,
    settings: WebSettings | None = None,
    *,
    announce: Callable[[str], None] = print,
) -> FastAPI:
    """The app for ``agent`` (an :class:`~nyxmon.agent.agent.Agent` or a :class:`WebContext`).

    Blocking: creates the session secret and, on first start, the admin user (``announce``
    gets the generated password line). Call it before serving, not from an event loop.
    """
    context = context_for(agent)
    settings = settings or WebSettings()
    auth = AuthService(context.store, settings)
    auth.bootstrap(announce)
    templates = _templates()
    # How often the public status page fetches itself again: its cache period.
    templates.env.globals["public_refresh"] = max(1, settings.public_max_age)
    live = LiveView(context, settings.cache_seconds)
    state = WebState(
        context=context,
        settings=settings,
        auth=auth,
        sessions=Sessions(
            context.store, max_age=settings.session_max_age, idle=settings.session_idle
        ),
        hub=StatusHub(
            context,
            coalesce=settings.events_coalesce,
            keepalive=settings.events_keepalive,
            mirror=live.mirror,
        ),
        limiter=LoginLimiter(settings.login_failures, settings.login_window),
        templates=templates,
        live=live,
        budget=CpuBudget(settings.cpu_share, settings.cpu_burst),
    )
    watch = _catalog_watch(state)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Per-loop limits: FastAPI's thread pool for ``def`` routes and our own blocking calls.
        anyio.to_thread.current_default_thread_limiter().total_tokens = settings.read_threads
        state.read_limiter = anyio.CapacityLimiter(settings.read_threads)
        await context.start()
        try:
            async with anyio.create_task_group() as tasks:
                tasks.start_soon(watch.run)
                try:
                    yield
                finally:
                    state.hub.close()
                    tasks.cancel_scope.cancel()
        finally:
            await context.aclose()

    trusted = TrustedProxies(settings.trusted_proxies)
    app = _App(
        # Pings of push checks are answered ahead of everything, never waiting on the budget.
        pings=ForwardedHeaders(PingEndpoint(ping=context.ping), trusted=trusted),
        title="NyxMon",
        version=_version(),
        summary="Self-hosted service monitor: checks, results, uptime, incidents.",
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.nyxmon = state
    app.state.templates = templates
    app.state.catalog_watch = watch
    if context.recorder is not None:  # an agent in this process (another one installs its own)
        install_check_metrics(context.recorder)
    # Called by WebServer on the web loop just before it stops, so open streams end at once.
    app.state.stopping_hooks = [state.hub.close]
    health_paths = frozenset({"/healthz", "/livez"})
    # Innermost first (the last one added sees each request first).
    app.add_middleware(CpuBudgetMiddleware, budget=state.budget, exempt=health_paths)
    # A hammered status page or badge is answered from memory (web/public/fast.py), ...
    app.add_middleware(
        PublicFastPath, prefixes=("/status/", "/badge/"), fresh=settings.public_fresh
    )
    # ... with the security headers on those answers and their 304s too, ...
    app.add_middleware(SecurityHeadersMiddleware, embeddable=("/status/", "/badge/"))
    # For the client a trusted proxy names, or the peer itself (web/forwarded.py).
    app.add_middleware(ForwardedHeaders, trusted=trusted)
    install_problem_handlers(app)
    _include_routes(app)
    install_contract(app)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    return app


class _App(FastAPI):
    """FastAPI, but ``/ping/...`` goes to ``pings`` before FastAPI's own layers (telemetry,
    body limit, error pages) and ours (budget, sessions, security headers): a ping needs none
    of them, and under a burst of pings their cost per request added up."""

    def __init__(self, *, pings: Callable[[Any, Any, Any], Awaitable[None]], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._pings = pings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if is_ping(scope):
            await self._pings(scope, receive, send)
            return
        await super().__call__(scope, receive, send)


def _catalog_watch(state: WebState) -> CatalogWatch:
    store = state.context.store

    async def read_fingerprint() -> object:
        return await anyio.to_thread.run_sync(store.checks_fingerprint, limiter=state.read_limiter)

    def changed() -> None:
        state.live.invalidate()
        state.hub.catalog_changed()

    return CatalogWatch(
        read_fingerprint,
        changed,
        listening=lambda: state.hub.clients > 0,
        period=state.settings.catalog_poll,
    )


def _include_routes(app: FastAPI) -> None:
    from nyxmon.web import login, pages, public, system
    from nyxmon.web.api import routers as api_routers

    app.include_router(pages.router)
    app.include_router(login.router)
    for router in api_routers():
        app.include_router(router, prefix=API_PREFIX)
    app.include_router(system.router)
    for router in public.routers():
        app.include_router(router)


def route_table(app: FastAPI) -> list[tuple[str, str]]:
    """``(method, path)`` of every route, through included routers (HEAD and OPTIONS left
    out); mounted apps appear as ``("MOUNT", path)``."""
    table: list[tuple[str, str]] = []
    for context in iter_route_contexts(app.routes):
        if isinstance(context.original_route, Mount):
            table.append(("MOUNT", context.original_route.path))
            continue
        path = context.path
        for method in sorted(context.methods or ()):
            if method not in ("HEAD", "OPTIONS") and path is not None:
                table.append((method, path))
    return table


def _templates() -> Jinja2Templates:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=jinja2.select_autoescape(("html", "xml", "svg")),
        # Templates ship inside the package: no stat() of every template on every render.
        auto_reload=False,
    )
    templates = Jinja2Templates(env=env)

    @jinja2.pass_context
    def csrf_token(ctx: Any) -> str:
        principal = getattr(ctx["request"].state, "principal", None)
        return principal.csrf_token or "" if principal is not None else ""

    @jinja2.pass_context
    def csrf_field(ctx: Any) -> Markup:
        token = csrf_token(ctx)
        return Markup('<input type="hidden" name="{}" value="{}">').format(CSRF_FIELD, token)

    @jinja2.pass_context
    def current_user(ctx: Any) -> str | None:
        principal = getattr(ctx["request"].state, "principal", None)
        return principal.user if principal is not None else None

    env.globals.update(
        csrf_token=csrf_token, csrf_field=csrf_field, current_user=current_user, fmt=formatting
    )
    env.filters["percent"] = percent_text  # the one uptime text, for pages without ``fmt``
    return templates


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("nyxmon")
    except PackageNotFoundError:
        return "0"
