"""The security headers on every answer: a strict Content-Security-Policy, ``nosniff``, a
same-origin referrer policy, and no framing but of the public pages.

The policy allows scripts, styles, images and connections from the site itself only: no
inline script or handler, no inline style (no ``style=`` attribute, no ``<style>``), no
``eval``, no plugins, no ``<base>`` elsewhere, forms only to the site. The pages keep to it:
every script is a file under ``/static`` (htmx, its SSE extension and uPlot are vendored),
htmx's own indicator ``<style>`` and its ``eval`` are switched off in ``base.html``'s
``htmx-config``, and uPlot sizes its elements through the CSSOM (``element.style.width =
...``), which CSP does not govern, so it needs no ``'unsafe-inline'`` either. ``data:``
images are allowed for the browser's own form controls and SVG icons in CSS.

Status pages and badges may be embedded in other sites (``embeddable``): they get the same
policy without ``frame-ancestors 'none'`` and ``X-Frame-Options``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

__all__ = ["CONTENT_SECURITY_POLICY", "SecurityHeadersMiddleware"]

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

_POLICY = (
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "font-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
)
CONTENT_SECURITY_POLICY = "; ".join((*_POLICY, "frame-ancestors 'none'"))
_EMBEDDABLE_POLICY = "; ".join(_POLICY)

_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
]
_NOT_FRAMED = [
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-frame-options", b"DENY"),
]
_FRAMED = [(b"content-security-policy", _EMBEDDABLE_POLICY.encode())]


class SecurityHeadersMiddleware:
    """Pure ASGI: adds the headers to every HTTP answer (replacing any the app set)."""

    def __init__(self, app: ASGIApp, embeddable: tuple[str, ...]) -> None:
        self.app = app
        self.embeddable = embeddable

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        framed = str(scope.get("path", "")).startswith(self.embeddable)
        extra = [*_HEADERS, *(_FRAMED if framed else _NOT_FRAMED)]
        names = {name for name, _ in extra}

        async def with_headers(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                kept = [(n, v) for n, v in message.get("headers", []) if n.lower() not in names]
                message["headers"] = [*kept, *extra]
            await send(message)

        await self.app(scope, receive, with_headers)
