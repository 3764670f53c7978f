"""The overview at ``/``: every check with its state, grouped by service, filtered server-side.

- ``GET /``: the page with the first :data:`~nyxmon.web.pages.listing.DEFAULT_LIMIT` rows;
  query parameters ``q``, ``service``, ``state``, ``type``, ``label`` filter it and ``sort``
  orders it (the address bar follows them, so a view can be bookmarked).
- ``GET /overview/rows``: the rows only (htmx swaps them in as the filters change, and the
  "load more" row fetches the next page with ``offset``). With ``live=1`` it is the page
  following the event stream: the rows shown so far (``limit``) rebuilt from statuses no
  older than the event, plus the state counts as an out-of-band swap, so counts and rows
  agree; a check added or removed elsewhere appears or goes the same way.
- ``GET /overview/summary``: the state counts alone.
- ``GET /overview/beats?id=...``: JSON beats and 24 h uptime for the rows on screen.

Everything but the beats comes from the shared live view (one store listing plus one status
snapshot per ``cache_seconds``, whatever the number of browsers): no per-check queries.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Query, Request
from fastapi.responses import HTMLResponse, JSONResponse

from nyxmon.web.deps import (
    PageUser,
    State,
    live_checks,
    live_index,
    page_router,
    run_blocking,
    web_state,
)
from nyxmon.web.pages.beats import MAX_IDS, beats_of
from nyxmon.web.pages.listing import DEFAULT_LIMIT, MAX_LIMIT, Listing, build_listing, parse_filters
from nyxmon.web.pages.render import render

__all__ = ["router"]

router = page_router(include_in_schema=False)

Offset = Annotated[int, Query(ge=0, le=10_000_000)]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]


async def _listing(
    request: Request, offset: int, limit: int, *, fresh: bool = False
) -> tuple[Listing, int]:
    """One page of the listing, and the state mark of the views it was built from."""
    views = await live_checks(request, fresh=fresh)
    mark = web_state(request).live.state_mark(views)
    filters = parse_filters(request.query_params)
    listing = await run_blocking(request, build_listing, views, filters, offset=offset, limit=limit)
    return listing, mark


@router.get("/", response_class=HTMLResponse)
async def overview(
    request: Request,
    state: State,
    user: PageUser,
    offset: Offset = 0,
    limit: Limit = DEFAULT_LIMIT,
) -> HTMLResponse:
    listing, mark = await _listing(request, offset, limit)
    context = {"listing": listing, "states_mark": mark}
    return await render(request, state, "pages/overview.html", context)


@router.get("/overview/rows", response_class=HTMLResponse)
async def overview_rows(
    request: Request,
    state: State,
    user: PageUser,
    offset: Offset = 0,
    limit: Limit = DEFAULT_LIMIT,
    live: bool = False,
) -> HTMLResponse:
    """Rows of one page (``offset`` > 0: appended; 0: the filters changed, all rows anew;
    ``live``: the same view refreshed after a change, with the counts)."""
    listing, _ = await _listing(request, offset, limit, fresh=live)
    headers = {}
    if offset == 0 and not live:
        # The address bar follows the filters, so a reload or a shared link shows the same.
        query = listing.filters.query()
        headers["HX-Push-Url"] = "/" + (f"?{query}" if query else "")
    context = {"listing": listing, "summary_oob": live}
    return await render(request, state, "pages/overview_rows.html", context, headers=headers)


@router.get("/overview/summary", response_class=HTMLResponse)
async def overview_summary(request: Request, state: State, user: PageUser) -> HTMLResponse:
    listing, _ = await _listing(request, 0, 1)
    return await render(request, state, "pages/overview_summary.html", {"listing": listing})


@router.get("/overview/beats")
async def overview_beats(
    request: Request,
    state: State,
    user: PageUser,
    id: Annotated[list[str], Query(description="check ids; the first 200 are answered")] = [],  # noqa: B006
) -> JSONResponse:
    known = await live_index(request)  # unknown or removed checks are left out
    asked = [check_id for check_id in id[:MAX_IDS] if check_id in known]
    data = await run_blocking(request, beats_of, state.context.store, asked)
    return JSONResponse(data, headers={"Cache-Control": "no-store"})
