"""CSRF protection: a per-session token on every form and cookie-authenticated API change.

The token is an HMAC of the session's random nonce, so it needs no storage and changes with
every login. Forms carry it as a hidden ``csrf_token`` field (``{{ csrf_field() }}`` in a
template); htmx and ``fetch`` send it as the ``X-CSRF-Token`` header (``base.html`` sets
``hx-headers`` on ``<body>``). Requests authenticated by a bearer token carry no ambient
credentials and need none. The login form, before any session exists, is protected the same
way by a short-lived ``nyxmon_login`` cookie nonce.
"""

from __future__ import annotations

import hmac
import secrets

from fastapi import Request

__all__ = [
    "CSRF_FIELD",
    "CSRF_HEADER",
    "LOGIN_COOKIE",
    "MUTATING",
    "new_nonce",
    "submitted_token",
    "tokens_match",
]

CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"
LOGIN_COOKIE = "nyxmon_login"
MUTATING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def new_nonce() -> str:
    return secrets.token_urlsafe(16)


async def submitted_token(request: Request) -> str | None:
    """The token a request carries: the header, else a form body's ``csrf_token`` field."""
    header = request.headers.get(CSRF_HEADER)
    if header:
        return header
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(_FORM_TYPES):
        form = await request.form()  # starlette caches it for the route
        value = form.get(CSRF_FIELD)
        return value if isinstance(value, str) else None
    return None


def tokens_match(expected: str, given: str | None) -> bool:
    return given is not None and hmac.compare_digest(expected.encode(), given.encode())
