"""The check page: ``/checks/{id}`` with its chart, timings, incidents and actions, live.

- ``GET /checks/{id}``: state, the last result, uptime and latency per window, the latest
  failure's conditions, a uPlot latency chart over 1 h .. 90 d (from the API's series
  endpoint), per-phase timings of recent results, incidents, and the check's settings.
  ``?cursor=`` shows an older page of results (the store's keyset cursor).
- ``GET /checks/{id}/recent?cursor=``: the results section alone; its "Older results" and
  "Newest results" buttons page through the whole history with it.
- ``GET /checks/{id}/sections?seen=&cursor=``: every part of the page a result, a change of
  state or an edit can change (state, last result, actions, facts, failure panel, uptime
  cards, incidents, results, settings), each as an htmx out-of-band swap. The page asks for
  it when the event stream reports a change of this check (``static/js/live.js``), so a live
  page shows what a reload would, rendered by the same templates.
- ``POST /checks/{id}/pause|resume|run|delete``: plain forms (CSRF field) that call the
  API's own route functions, so the rules (config checks are read-only, ...) stay in one
  place; each answers with a redirect back (303).
"""

from __future__ import annotations

import time
from typing import Any, Literal

import anyio
from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse

from nyxmon.domain.history.figures import DAY
from nyxmon.domain.locations import LocationView
from nyxmon.domain.model import CheckSource
from nyxmon.domain.status import state_of
from nyxmon.errors import CheckNotFoundError
from nyxmon.service_layer.records.results import ResultCursor
from nyxmon.service_layer.storage import Store
from nyxmon.web.api import checks as checks_api
from nyxmon.web.api import ping_keys as ping_keys_api
from nyxmon.web.api.params import bad_parameter
from nyxmon.web.api.schemas import location_views_out
from nyxmon.web.deps import PageUser, State, WebState, page_router, run_blocking
from nyxmon.web.pages.check_detail import PHASE_LABELS, CheckDetail, load_detail, load_recent
from nyxmon.web.pages.formatting import target_of
from nyxmon.web.pages.push_panel import push_panel
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
#: How long a refresh waits for the store to hold the result the event stream announced.
STORED_WAIT = 2.0


def default_window(detail: CheckDetail) -> str:
    """24 h, unless the check ran for less than a quarter of that (new checks): then 1 h, so
    the first chart has points to show. The browser remembers a window picked by hand."""
    runs = detail.windows["24h"].count if "24h" in detail.windows else 0
    return "24h" if runs >= DAY / max(detail.check.interval, 1.0) / 4 else "1h"


def _cursor(value: str) -> ResultCursor | None:
    if not value:
        return None
    try:
        return ResultCursor.decode(value)
    except ValueError as exc:
        raise bad_parameter("query.cursor", str(exc)) from None


async def _page_context(
    request: Request,
    state: WebState,
    check_id: str,
    cursor: ResultCursor | None,
    new_key: str | None = None,
) -> dict[str, Any]:
    """What the page and its live sections show. The state comes from the status mirror
    itself (not the shared list, which may be a second old), so it is never older than the
    event that asked for a refresh."""
    mirror = state.live.mirror
    mark = mirror.state_changes  # before the reads: a change meanwhile shows as a change
    store = state.context.store
    detail = await run_blocking(request, load_detail, store, check_id, None, cursor)
    status = (await mirror.statuses()).get(check_id)
    views: dict[str, tuple[LocationView, ...]] = {}
    if detail.check.locations:
        views = await run_blocking(request, store.location_views, [check_id])
    located = location_views_out(
        detail.check,
        views.get(check_id, ()),
        now=detail.now,
        lease_seconds=state.context.lease_seconds,
    )
    return {
        "detail": detail,
        "check": detail.check,
        "status": status,
        "state_name": state_of(detail.check, status),
        "page": detail.recent,
        "target": target_of(detail.check),
        "editable": detail.check.source is CheckSource.API,
        "phase_labels": PHASE_LABELS,
        "states_mark": mark,
        "location_views": located,
        "push": push_panel(
            detail.check,
            [row.result for row in detail.recent.rows],
            state.context.public_url or str(request.base_url),
            new_key,
        ),
    }


@router.get("/checks/{check_id}", response_class=HTMLResponse)
async def check_page(
    request: Request, state: State, user: PageUser, check_id: str, done: str = "", cursor: str = ""
) -> HTMLResponse:
    context = await _page_context(request, state, check_id, _cursor(cursor))
    context.update(
        notice=NOTICES.get(done),
        windows_chart=CHART_WINDOWS,
        chart_window=default_window(context["detail"]),
    )
    return await render(request, state, "pages/check.html", context)


@router.get("/checks/{check_id}/sections", response_class=HTMLResponse)
async def check_sections(
    request: Request,
    state: State,
    user: PageUser,
    check_id: str,
    seen: float | None = None,
    cursor: str = "",
) -> HTMLResponse:
    """The live parts of the page, as out-of-band swaps (see the module's docstring)."""
    after = _cursor(cursor)
    if seen is not None:
        await _wait_stored(request, state.context.store, check_id, seen)
    context = await _page_context(request, state, check_id, after)
    return await render(request, state, "pages/check_sections.html", context)


async def _wait_stored(request: Request, store: Store, check_id: str, seen: float) -> None:
    """Wait until the store holds a result started at ``seen`` or later, for at most
    :data:`STORED_WAIT` seconds. Statuses are published as results are decided and the rows
    committed a few milliseconds later, so without this a refresh could show the run before
    and, with nothing more to come, keep showing it."""
    deadline = time.monotonic() + STORED_WAIT
    while True:
        latest = (await run_blocking(request, store.latest_results, [check_id])).get(check_id)
        if latest is None and await run_blocking(request, store.get_check, check_id) is None:
            raise CheckNotFoundError(check_id)
        if latest is not None and latest.result.started_at >= seen - 0.0005:
            return
        if time.monotonic() >= deadline:
            return
        await anyio.sleep(0.05)


@router.get("/checks/{check_id}/recent", response_class=HTMLResponse)
async def recent_results(
    request: Request, state: State, user: PageUser, check_id: str, cursor: str = ""
) -> HTMLResponse:
    after = _cursor(cursor)
    store = state.context.store
    check = await run_blocking(request, store.get_check, check_id)
    if check is None:
        raise CheckNotFoundError(check_id)
    page = await run_blocking(request, load_recent, store, check_id, after)
    context = {"check": check, "page": page, "phase_labels": PHASE_LABELS}
    return await render(request, state, "pages/check_recent.html", context)


@router.post("/checks/{check_id}/ping-key", response_class=HTMLResponse)
async def rotate_ping_key(
    request: Request, state: State, user: PageUser, check_id: str
) -> HTMLResponse:
    """A new ping key, shown on the page this once (a redirect would have to carry it)."""
    rotated = await ping_keys_api.rotate_ping_key(request, state, check_id)
    return await show_new_key(
        request,
        state,
        check_id,
        rotated.ping_key,
        "New ping key: the old one is refused from now on. Copy it now: it is not shown again.",
    )


async def show_new_key(
    request: Request, state: WebState, check_id: str, key: str, notice: str
) -> HTMLResponse:
    """The check page with a ping key just made, the one time it is shown."""
    context = await _page_context(request, state, check_id, None, key)
    context.update(
        notice=notice,
        windows_chart=CHART_WINDOWS,
        chart_window=default_window(context["detail"]),
    )
    return await render(request, state, "pages/check.html", context)


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
