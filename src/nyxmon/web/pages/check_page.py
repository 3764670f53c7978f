"""The check page: ``/checks/{id}`` with its chart, timings, incidents and actions.

- ``GET /checks/{id}``: state (live), uptime and latency per window, the latest failure's
  conditions, a uPlot latency chart over 1 h .. 90 d (from the API's series endpoint),
  per-phase timings of recent results, incidents, and the check's settings.
- ``GET /checks/{id}/recent``: the recent-results section alone (htmx refreshes it as
  results arrive).
- ``POST /checks/{id}/pause|resume|run|delete``: plain forms (CSRF field) that call the
  API's own route functions, so the rules (config checks are read-only, ...) stay in one
  place; each answers with a redirect back (303).
"""

from __future__ import annotations

from typing import Literal

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse

from nyxmon.domain.history.figures import DAY
from nyxmon.domain.model import CheckSource
from nyxmon.errors import CheckNotFoundError
from nyxmon.web.api import checks as checks_api
from nyxmon.web.deps import PageUser, State, live_index, page_router, run_blocking
from nyxmon.web.pages.check_detail import PHASE_LABELS, CheckDetail, load_detail, load_recent
from nyxmon.web.pages.formatting import target_of
from nyxmon.web.pages.render import render

__all__ = ["NOTICES", "default_window", "router"]

router = page_router(include_in_schema=False)

#: What a redirect's ``?done=`` says on the page (codes only: no text from the URL is shown).
NOTICES = {
    "created": "Check created. Its first result arrives within one interval.",
    "saved": "Changes saved.",
    "paused": "Check paused: it keeps its history and runs no more until resumed.",
    "resumed": "Check resumed.",
    "ran": "Ran the check now; its result is below.",
}
CHART_WINDOWS = ("1h", "6h", "24h", "7d", "30d", "90d")


def default_window(detail: CheckDetail) -> str:
    """24 h, unless the check ran for less than a quarter of that (new checks): then 1 h, so
    the first chart has points to show. The browser remembers a window picked by hand."""
    runs = detail.windows["24h"].count if "24h" in detail.windows else 0
    return "24h" if runs >= DAY / max(detail.check.interval, 1.0) / 4 else "1h"


@router.get("/checks/{check_id}", response_class=HTMLResponse)
async def check_page(
    request: Request, state: State, user: PageUser, check_id: str, done: str = ""
) -> HTMLResponse:
    detail = await run_blocking(request, load_detail, state.context.store, check_id)
    view = (await live_index(request)).get(check_id)
    context = {
        "detail": detail,
        "check": detail.check,
        "view": view,
        "state_name": view.state if view is not None else "pending",
        "status": view.status if view is not None else None,
        "target": target_of(detail.check),
        "editable": detail.check.source is CheckSource.API,
        "notice": NOTICES.get(done),
        "windows_chart": CHART_WINDOWS,
        "chart_window": default_window(detail),
        "phase_labels": PHASE_LABELS,
    }
    return await render(request, state, "pages/check.html", context)


@router.get("/checks/{check_id}/recent", response_class=HTMLResponse)
async def recent_results(
    request: Request, state: State, user: PageUser, check_id: str
) -> HTMLResponse:
    store = state.context.store
    check = await run_blocking(request, store.get_check, check_id)
    if check is None:
        raise CheckNotFoundError(check_id)
    recent, columns = await run_blocking(request, load_recent, store, check_id)
    context = {"check": check, "recent": recent, "columns": columns, "phase_labels": PHASE_LABELS}
    return await render(request, state, "pages/check_recent.html", context)


Action = Literal["pause", "resume", "run", "delete"]


@router.post("/checks/{check_id}/{action}")
async def check_action(
    request: Request, state: State, user: PageUser, check_id: str, action: Action
) -> RedirectResponse:
    if action == "pause":
        await checks_api.pause_check(request, state, check_id)
        done = "paused"
    elif action == "resume":
        await checks_api.resume_check(request, state, check_id)
        done = "resumed"
    elif action == "run":
        await checks_api.run_check(state, check_id)
        done = "ran"
    else:
        await checks_api.delete_check(request, state, check_id)
        return RedirectResponse("/", status_code=303)
    return RedirectResponse(f"/checks/{check_id}?done={done}", status_code=303)
