"""FastAPI dependencies: the app's state, the caller, CSRF, the store, the agent.

Routers pick their protection by dependency, and a test walks every route to prove it:

- ``api_router()``: ``/api/v1``-style JSON routes; a bearer token or a session cookie, else
  401 problem+json; cookie callers of POST/PUT/PATCH/DELETE also need the CSRF token.
- ``page_router()``: HTML pages; a session cookie, else a redirect to ``/login?next=...``;
  the same CSRF rule for forms and htmx requests.
- anything else is public and must be listed in :data:`nyxmon.web.app.PUBLIC_ROUTES`.

Routes are ``async def`` and run blocking work (store reads, rendering) through
:func:`run_blocking`: a few worker threads, their CPU charged to the web plane's budget. An
``async def`` route must never call a blocking store or agent method itself.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any, ParamSpec, TypeVar

import anyio.to_thread
from fastapi import APIRouter, Depends, Request
from fastapi.templating import Jinja2Templates

from nyxmon.domain.model import Check
from nyxmon.service_layer.records.accounts import READ_METHODS
from nyxmon.service_layer.records.catalog import CheckQuery
from nyxmon.service_layer.storage import Store
from nyxmon.web.auth import SESSION_COOKIE, AuthService, Principal
from nyxmon.web.budget import CpuBudget
from nyxmon.web.context import WebContext
from nyxmon.web.csrf import MUTATING, submitted_token, tokens_match
from nyxmon.web.events import StatusHub
from nyxmon.web.live import CheckView, LiveView
from nyxmon.web.problems import LoginRequired, Problem
from nyxmon.web.ratelimit import LoginLimiter
from nyxmon.web.sessions import Sessions
from nyxmon.web.settings import WebSettings

__all__ = [
    "ApiUser",
    "Context",
    "PageUser",
    "ReadStore",
    "State",
    "WebState",
    "api_principal",
    "api_router",
    "live_checks",
    "live_index",
    "optional_principal",
    "page_principal",
    "page_router",
    "run_blocking",
    "still_signed_in",
    "web_state",
]

P = ParamSpec("P")
T = TypeVar("T")


@dataclass(slots=True)
class WebState:
    """Everything the routes share, kept on ``app.state.nyxmon``."""

    context: WebContext
    settings: WebSettings
    auth: AuthService
    sessions: Sessions
    hub: StatusHub
    limiter: LoginLimiter
    templates: Jinja2Templates
    live: LiveView
    budget: CpuBudget = field(default_factory=CpuBudget)
    cache: dict[str, tuple[float, Any]] = field(default_factory=dict)
    read_limiter: anyio.CapacityLimiter | None = None


def web_state(request: Request) -> WebState:
    state: WebState = request.app.state.nyxmon
    return state


State = Annotated[WebState, Depends(web_state)]


def _context(request: Request) -> WebContext:
    return web_state(request).context


def _store(request: Request) -> Store:
    return web_state(request).context.store


Context = Annotated[WebContext, Depends(_context)]
ReadStore = Annotated[Store, Depends(_store)]


async def run_blocking(
    request: Request, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs
) -> T:
    """Run a blocking call (a store read, argon2) in the web plane's bounded worker threads."""
    state = web_state(request)
    limiter = state.read_limiter
    budget = state.budget

    def call() -> T:
        began = time.thread_time()
        try:
            return fn(*args, **kwargs)
        finally:
            budget.charge(time.thread_time() - began)

    return await anyio.to_thread.run_sync(call, limiter=limiter)


def _readers(
    request: Request,
) -> tuple[Callable[[], Awaitable[tuple[Check, ...]]], Callable[[], Awaitable[tuple[object, ...]]]]:
    store = web_state(request).context.store

    def read() -> tuple[Check, ...]:
        return store.list_checks(CheckQuery()).items

    async def read_checks() -> tuple[Check, ...]:
        return await run_blocking(request, read)

    async def fingerprint() -> tuple[object, ...]:
        return await run_blocking(request, store.checks_fingerprint)

    return read_checks, fingerprint


async def live_checks(request: Request, *, fresh: bool = False) -> tuple[CheckView, ...]:
    """Every live check with its status (shared, at most ``cache_seconds`` old; with
    ``fresh``, also no older than the last status change)."""
    return await web_state(request).live.checks(*_readers(request), fresh=fresh)


async def live_index(request: Request, *, fresh: bool = False) -> Mapping[str, CheckView]:
    """:func:`live_checks` by check id."""
    return await web_state(request).live.by_id(*_readers(request), fresh=fresh)


async def _bearer(request: Request, state: WebState) -> Principal | None:
    header = request.headers.get("authorization", "")
    scheme, _, raw = header.partition(" ")
    if scheme.lower() != "bearer" or not raw.strip():
        return None
    raw = raw.strip()
    auth = state.auth

    async def read_revocations() -> int:
        return await run_blocking(request, auth.revocations_blocking)

    revocations = await auth.revocation_reads.get(read_revocations)
    cached, record = auth.cached_token(raw, revocations)
    if not cached:
        record = await run_blocking(request, auth.load_token_blocking, raw, revocations)
    if record is None:
        raise Problem(
            401,
            "the bearer token is unknown or revoked",
            kind="unauthorized",
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        )
    if state.auth.needs_touch(record.id):
        await run_blocking(request, state.auth.touch_token_blocking, record.id)
    return Principal(record.owner, "token", token_id=record.id, scope=record.scope)


async def _cookie(request: Request, state: WebState) -> Principal | None:
    raw = request.cookies.get(SESSION_COOKIE)
    if not raw or len(raw) > 100:
        return None
    sessions = state.sessions

    async def read_revocations() -> int:
        return await run_blocking(request, sessions.revocations_blocking)

    revocations = await sessions.revocation_reads.get(read_revocations)
    cached, record = sessions.cached(raw, revocations)
    if not cached:
        record = await run_blocking(request, sessions.load_blocking, raw, revocations)
    if record is None or not sessions.live(record):
        return None
    touched = sessions.needs_touch(record)
    if touched is not None:
        await run_blocking(request, sessions.touch_blocking, touched)
    return Principal(
        record.user,
        "session",
        csrf_token=state.auth.csrf_token(record.token_hash),
        session=record.token_hash,
    )


async def optional_principal(request: Request) -> Principal | None:
    """The caller if signed in (cookie) or holding a token, else None; never raises for that."""
    cached: Principal | None = getattr(request.state, "principal", None)
    if cached is not None:
        return cached
    state = web_state(request)
    principal = await _bearer(request, state) or await _cookie(request, state)
    request.state.principal = principal
    return principal


async def still_signed_in(request: Request, principal: Principal) -> bool:
    """Whether the caller's session or token is still good, read afresh (not the request's
    cached answer): a long stream asks before each event, so a session ended or a token
    revoked meanwhile gets nothing more."""
    state = web_state(request)
    if principal.via == "token":
        try:
            again = await _bearer(request, state)
        except Problem:
            return False
    else:
        again = await _cookie(request, state)
    return again is not None and again.user == principal.user


async def _require_csrf(request: Request, principal: Principal) -> None:
    if principal.via != "session" or request.method not in MUTATING:
        return
    assert principal.csrf_token is not None
    if not tokens_match(principal.csrf_token, await submitted_token(request)):
        raise Problem(
            403,
            "missing or wrong CSRF token: send the X-CSRF-Token header (or a csrf_token form "
            "field) with the value from the page",
            kind="csrf",
        )


async def api_principal(request: Request) -> Principal:
    """The caller of an API route: 401 without credentials, 403 for a missing CSRF token or
    a token whose scope does not cover the method (a ``read`` token writing)."""
    principal = await optional_principal(request)
    if principal is None:
        raise Problem(
            401,
            "sign in or send an API token (Authorization: Bearer nyx_...)",
            kind="unauthorized",
            headers={"WWW-Authenticate": "Bearer"},
        )
    _require_scope(request, principal)
    await _require_csrf(request, principal)
    return principal


def _require_scope(request: Request, principal: Principal) -> None:
    if principal.via != "token" or principal.scope == "admin":
        return
    if request.method.upper() in READ_METHODS:
        return
    raise Problem(
        403,
        f"{request.method} {request.url.path} needs a token with the 'admin' scope; this "
        f"token has the {principal.scope!r} scope, which allows GET and HEAD only "
        "(create one with `nyxmon token create NAME --scope admin`)",
        kind="insufficient-scope",
        headers={"WWW-Authenticate": 'Bearer error="insufficient_scope", scope="admin"'},
    )


async def page_principal(request: Request) -> Principal:
    """The caller of a page: browsers without a session go to the login page."""
    principal = await optional_principal(request)
    if principal is None or principal.via != "session":
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise LoginRequired(target)
    await _require_csrf(request, principal)
    return principal


ApiUser = Annotated[Principal, Depends(api_principal)]
PageUser = Annotated[Principal, Depends(page_principal)]


def api_router(**kwargs: Any) -> APIRouter:
    """A router whose every route needs an API caller (and CSRF for cookie changes)."""
    dependencies = [Depends(api_principal), *kwargs.pop("dependencies", [])]
    return APIRouter(dependencies=dependencies, **kwargs)


def page_router(**kwargs: Any) -> APIRouter:
    """A router whose every route is a page for signed-in users (the dashboard's)."""
    dependencies = [Depends(page_principal), *kwargs.pop("dependencies", [])]
    return APIRouter(dependencies=dependencies, **kwargs)
