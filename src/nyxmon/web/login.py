"""``/login`` and ``/logout``: the session cookie's life, with CSRF and rate limiting.

``POST /login`` takes a form (``username``, ``password``, ``csrf_token``, ``next``) and
answers with a redirect and a session cookie, or the form again with a message. After too
many failures from one address or for one user name it answers 429 with ``Retry-After``
without even checking the password. The address is the client's as
:mod:`nyxmon.web.forwarded` established it: forwarded headers count only from trusted proxies.
``POST /logout`` ends the session in the store (:mod:`nyxmon.web.sessions`): the cookie is
refused from then on, even if a copy of it is replayed.
"""

from __future__ import annotations

import math
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from nyxmon.web.auth import SESSION_COOKIE, Principal
from nyxmon.web.csrf import LOGIN_COOKIE, new_nonce, tokens_match
from nyxmon.web.deps import PageUser, State, WebState, optional_principal, run_blocking

__all__ = ["router", "signed_out"]

router = APIRouter(include_in_schema=False)


def _safe_next(target: str | None) -> str:
    """Only same-site paths: ``//evil.example`` and ``https://...`` would leave the site."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def _secure(request: Request, state: WebState) -> bool:
    return state.settings.secure_cookies or request.url.scheme == "https"


def _login_page(
    request: Request,
    state: WebState,
    *,
    next_url: str,
    error: str | None = None,
    status_code: int = 200,
    username: str = "",
    headers: dict[str, str] | None = None,
) -> Response:
    nonce = request.cookies.get(LOGIN_COOKIE) or new_nonce()
    response = state.templates.TemplateResponse(
        request,
        "login.html",
        {
            "login_csrf": state.auth.sign("login", nonce),
            "next_url": next_url,
            "error": error,
            "username": username,
        },
        status_code=status_code,
        headers=headers,
    )
    response.set_cookie(
        LOGIN_COOKIE,
        nonce,
        max_age=3600,
        httponly=True,
        samesite="lax",
        # Only a CSRF nonce, not a credential: Secure only on HTTPS, so a misconfigured
        # secure_cookies on plain HTTP cannot make signing in impossible.
        secure=request.url.scheme == "https",
        path="/login",
    )
    return response


@router.get("/login")
async def login_form(
    request: Request,
    state: State,
    principal: Annotated[Principal | None, Depends(optional_principal)],
    next: str | None = None,
) -> Response:
    if principal is not None and principal.via == "session":
        return RedirectResponse(_safe_next(next), status_code=303)
    return _login_page(request, state, next_url=_safe_next(next))


@router.post("/login")
async def login(
    request: Request,
    state: State,
    username: Annotated[str, Form(max_length=200)] = "",
    password: Annotated[str, Form(max_length=1000)] = "",
    csrf_token: Annotated[str, Form(max_length=200)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    next_url = _safe_next(next)
    nonce = request.cookies.get(LOGIN_COOKIE)
    if not nonce or not tokens_match(state.auth.sign("login", nonce), csrf_token):
        return _login_page(
            request,
            state,
            next_url=next_url,
            error="The form expired; please sign in again.",
            status_code=403,
            username=username,
        )
    client = request.client.host if request.client else "unknown"
    keys = (f"ip:{client}", f"user:{username.strip().lower()}")
    wait = state.limiter.retry_after(keys)
    if wait is not None:
        seconds = max(1, math.ceil(wait))
        return _login_page(
            request,
            state,
            next_url=next_url,
            error=f"Too many failed sign-ins; try again in {seconds} s.",
            status_code=429,
            username=username,
            headers={"Retry-After": str(seconds)},
        )
    ok = bool(username and password) and await run_blocking(
        request, state.auth.check_password_blocking, username, password
    )
    if not ok:
        state.limiter.failed(keys)
        return _login_page(
            request,
            state,
            next_url=next_url,
            error="Wrong user name or password.",
            status_code=401,
            username=username,
        )
    state.limiter.succeeded(keys)
    user = await run_blocking(request, state.auth.load_user_blocking, username)
    assert user is not None
    raw, _ = await run_blocking(
        request,
        state.sessions.start_blocking,
        user.name,
        client=client,
        user_agent=request.headers.get("user-agent", ""),
    )
    response = RedirectResponse(next_url, status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        raw,
        max_age=int(state.settings.session_max_age),
        httponly=True,
        samesite="lax",
        secure=_secure(request, state),
        path="/",
    )
    response.delete_cookie(LOGIN_COOKIE, path="/login")
    return response


@router.post("/logout")
async def logout(request: Request, state: State, principal: PageUser) -> Response:
    assert principal.session is not None
    await run_blocking(request, state.sessions.end_blocking, principal.session)
    return signed_out(request, state)


def signed_out(request: Request, state: WebState) -> Response:
    """To the login page, without the session cookie (its session has ended already)."""
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(
        SESSION_COOKIE,
        path="/",
        httponly=True,
        samesite="lax",
        secure=_secure(request, state),
    )
    return response
