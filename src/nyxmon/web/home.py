"""A placeholder overview at ``/`` until the dashboard's pages package provides its own.

Deliberately plain: every check with its state, server-rendered in a worker thread (5,000 rows
of Jinja is CPU work the web loop should not do itself).
"""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import HTMLResponse

from nyxmon.web.deps import PageUser, State, live_checks, page_router, run_blocking
from nyxmon.web.public.caching import memo

__all__ = ["router"]

router = page_router(include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
async def overview(request: Request, state: State, user: PageUser) -> HTMLResponse:
    views = await live_checks(request)

    def render() -> str:
        counts: dict[str, int] = {}
        for view in views:
            counts[view.state] = counts.get(view.state, 0) + 1
        template = state.templates.get_template("overview.html")
        context = {"request": request, "views": views, "counts": sorted(counts.items())}
        return template.render(context)

    async def compute() -> str:
        return await run_blocking(request, render)

    # The page carries the caller's CSRF token, so a copy is shared per session only.
    key = f"overview:{state.live.refreshes}:{user.csrf_token}"
    return HTMLResponse(await memo(state, key, state.settings.cache_seconds, compute))
