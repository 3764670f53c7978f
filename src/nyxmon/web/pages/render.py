"""Rendering the dashboard's templates off the web loop, with the context every page shares.

Jinja rendering of a few hundred rows is CPU work measured in milliseconds to tens of them,
so it runs in the web plane's worker threads (:func:`nyxmon.web.deps.run_blocking`) like a
store read; the loop stays free for the event streams.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse

from nyxmon.web.deps import WebState, run_blocking
from nyxmon.web.pages import formatting

__all__ = ["is_htmx", "render", "render_text"]

_NO_STORE = {"Cache-Control": "no-store"}


def is_htmx(request: Request) -> bool:
    """Whether htmx sent the request (it wants a fragment, not a whole page)."""
    return request.headers.get("hx-request") == "true"


def _context(request: Request, state: WebState, context: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "request": request,
        "fmt": formatting,
        "now": time.time(),
        "status_pages": state.settings.status_pages,
        # What a live page hands to the event stream, to learn of changes made meanwhile.
        "catalog_version": state.hub.catalog_version,
        "states_mark": -1,
        **context,
    }


async def render_text(
    request: Request, state: WebState, name: str, context: Mapping[str, Any]
) -> str:
    template = state.templates.get_template(name)
    return await run_blocking(request, template.render, _context(request, state, context))


async def render(
    request: Request,
    state: WebState,
    name: str,
    context: Mapping[str, Any],
    *,
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
) -> HTMLResponse:
    """The template ``name`` as a page; dashboard pages are private and never cached."""
    html = await render_text(request, state, name, context)
    return HTMLResponse(html, status_code=status_code, headers={**_NO_STORE, **(headers or {})})
