"""A check's past: results (newest first, keyset pages), uptime and latency over 24 h / 7 d /
30 d / 90 d, chart series, state history and incidents; and every ongoing incident.

All of it is read from the store's read-only connections in the web plane's worker threads.
"""

from __future__ import annotations

import time
from typing import Annotated, Literal

from fastapi import Query, Request

from nyxmon.domain.history.figures import WINDOWS, SeriesPoint
from nyxmon.errors import CheckNotFoundError
from nyxmon.service_layer.records.alerts import Transition
from nyxmon.service_layer.records.results import ResultCursor, ResultPage
from nyxmon.service_layer.storage import Store
from nyxmon.web.api.params import TimeParam, bad_parameter, parse_time
from nyxmon.web.api.schemas import (
    IncidentOut,
    ResultPageOut,
    SeriesOut,
    TransitionOut,
    UptimeOut,
    availability_out,
    series_point_out,
    stored_result_out,
    transition_out,
)
from nyxmon.web.deps import State, api_router, live_checks, run_blocking
from nyxmon.web.incidents import FAILING, Incident, incidents_from

__all__ = ["router"]

router = api_router(tags=["history"])

SeriesWindow = Literal["1h", "6h", "24h", "7d", "30d", "90d"]
_SERIES: dict[str, tuple[float, float]] = {
    "1h": (3600.0, 60.0),
    "6h": (6 * 3600.0, 300.0),
    "24h": (86400.0, 900.0),
    "7d": (7 * 86400.0, 3600.0),
    "30d": (30 * 86400.0, 6 * 3600.0),
    "90d": (90 * 86400.0, 86400.0),
}


def _require_check(store: Store, check_id: str) -> None:
    if store.get_check(check_id, include_archived=True) is None:
        raise CheckNotFoundError(check_id)


@router.get("/checks/{check_id}/results", summary="Results of a check, newest first")
async def results(
    request: Request,
    state: State,
    check_id: str,
    since: TimeParam = None,
    until: TimeParam = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    cursor: Annotated[
        str | None,
        Query(
            description="next_cursor of the previous page",
            pattern=r"^-?[0-9]{1,20}(\.[0-9]{1,20})?(e[+-]?[0-9]{1,2})?:[0-9]{1,18}$",
        ),
    ] = None,
) -> ResultPageOut:
    """A check's results, newest first, `limit` at a time. `since` and `until` take POSIX
    seconds, an ISO 8601 time or a duration back from now (`24h`). Pass an answer's
    `next_cursor` as `cursor` for the page further back; it is null on the last page."""
    store = state.context.store
    start = parse_time(since, "query.since")
    end = parse_time(until, "query.until")
    after = None
    if cursor:
        try:
            after = ResultCursor.decode(cursor)
        except ValueError as exc:
            raise bad_parameter("query.cursor", str(exc)) from None

    def read() -> ResultPage:
        _require_check(store, check_id)
        return store.results(check_id, since=start, until=end, limit=limit, after=after)

    page = await run_blocking(request, read)
    return ResultPageOut(
        items=[stored_result_out(stored) for stored in page.items],
        next_cursor=page.next_cursor.encode() if page.next_cursor else None,
    )


@router.get("/checks/{check_id}/uptime", summary="Uptime and latency over 24h, 7d, 30d, 90d")
async def uptime(request: Request, state: State, check_id: str) -> UptimeOut:
    """The share of passing runs and the latency (average, 95th percentile, maximum) over the
    last 24 hours, 7, 30 and 90 days."""
    store = state.context.store

    def read() -> UptimeOut:
        _require_check(store, check_id)
        now = time.time()
        return UptimeOut(
            check_id=check_id,
            windows={
                name: availability_out(store.availability(check_id, now=now, window=seconds))
                for name, seconds in WINDOWS.items()
            },
        )

    return await run_blocking(request, read)


@router.get("/checks/{check_id}/series", summary="Chart points over a window")
async def series(
    request: Request, state: State, check_id: str, window: SeriesWindow = "24h"
) -> SeriesOut:
    """Points of a latency chart over `window` (`1h` to `90d`): for each interval, how many
    runs there were and passed, and their average, 95th percentile and maximum latency."""
    store = state.context.store
    span, step = _SERIES[window]
    end = time.time()
    start = (end - span) // step * step + step

    def read() -> list[SeriesPoint]:
        _require_check(store, check_id)
        return store.series(check_id, start=start, end=end, step=step)

    points = await run_blocking(request, read)
    return SeriesOut(
        check_id=check_id,
        window=window,
        step=step,
        points=[series_point_out(point) for point in points],
    )


@router.get("/checks/{check_id}/history", summary="State changes of a check, newest first")
async def history(
    request: Request,
    state: State,
    check_id: str,
    since: TimeParam = None,
    until: TimeParam = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[TransitionOut]:
    """A check's changes of state, newest first: when, from which state to which, and why."""
    store = state.context.store
    start = parse_time(since, "query.since")
    end = parse_time(until, "query.until")

    def read() -> tuple[Transition, ...]:
        _require_check(store, check_id)
        return store.transitions(check_id, since=start, until=end, limit=limit)

    return [transition_out(row) for row in await run_blocking(request, read)]


@router.get("/checks/{check_id}/incidents", summary="Incidents of a check, newest first")
async def check_incidents(
    request: Request,
    state: State,
    check_id: str,
    since: TimeParam = "90d",
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[IncidentOut]:
    """Periods the check was down, newest first: start, end (null while it lasts), duration
    in seconds and the message that began it; `since` as for results (default `90d`)."""
    store = state.context.store
    start = parse_time(since, "query.since")

    def read() -> list[Transition]:
        _require_check(store, check_id)
        rows = list(store.transitions(check_id, since=start, limit=10 * limit))
        if start is not None:  # an incident already open when the window starts
            rows.extend(store.transitions(check_id, until=start, limit=1))
        return rows

    transitions = await run_blocking(request, read)
    now = time.time()
    return [incident_out(i, now) for i in incidents_from(transitions)[:limit]]


@router.get("/incidents", summary="Ongoing incidents of every check", tags=["history"])
async def ongoing_incidents(request: Request, state: State) -> list[IncidentOut]:
    """Every check that is down now: since when, for how long, and its last message."""
    views = [view for view in await live_checks(request) if view.state in FAILING]
    now = time.time()
    out: list[IncidentOut] = []
    for view in views:
        status = view.status
        since = status.alert_since if status is not None else None
        message = status.last_message if status is not None else ""
        start = since if since is not None else now
        out.append(incident_out(Incident(view.check.id, view.state, start, None, message), now))
    out.sort(key=lambda item: item.start, reverse=True)
    return out


def incident_out(incident: Incident, now: float) -> IncidentOut:
    return IncidentOut(
        check_id=incident.check_id,
        state=incident.state,
        start=incident.start,
        end=incident.end,
        duration=incident.duration(now),
        message=incident.message,
    )
