"""Alerting as the API shows it: maintenance windows, alert routes (read) and a test send.

Windows and routes come from the running config (reloaded with SIGHUP), so they are read-only
here. Route targets are shown without secrets: a webhook's URL without credentials or query,
an Apprise URL by its scheme only (``tgram://...``), since those URLs embed tokens.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import Request
from pydantic import BaseModel, ConfigDict, Field

from nyxmon.domain.alerting.maintenance import Cron, MaintenanceWindow, OneOff, Weekly
from nyxmon.domain.alerting.types import Route
from nyxmon.domain.redaction import mask_url, redact
from nyxmon.errors import NotificationError
from nyxmon.notify.records import redacted
from nyxmon.notify.registry import ProviderContext, provider_for
from nyxmon.notify.telegram import telegram_target
from nyxmon.notify.trial import trial_message
from nyxmon.runtime import OffloadPool
from nyxmon.web.api.contract import problems
from nyxmon.web.deps import State, api_router, run_blocking
from nyxmon.web.problems import Problem

__all__ = ["router"]

router = api_router(tags=["alerting"])


class MaintenanceOut(BaseModel):
    name: str
    scope: dict[str, Any]
    schedule: dict[str, Any]
    active: bool
    next_change: float | None


class RouteOut(BaseModel):
    name: str
    kind: str
    targets: list[str]
    default: bool
    match: dict[str, Any]


class NotifyTest(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    route: Annotated[str, Field(min_length=1, max_length=200)]


class NotifyTestOut(BaseModel):
    route: str
    delivered: bool
    answer: str
    error: str


@router.get("/maintenance", summary="Maintenance windows of the running config")
async def maintenance(state: State) -> list[MaintenanceOut]:
    """The maintenance windows of the config file: which checks they cover, whether one is
    on now and when the next starts or ends. Checks keep running in them, without alerts."""
    now = time.time()
    return [_window_out(window, now) for window in state.context.maintenance]


@router.get("/routes", summary="Alert routes of the running config (secrets hidden)")
async def routes(state: State) -> list[RouteOut]:
    """Where alerts go: each route of the config file with what it matches (services, checks,
    labels, kinds of alert), whether it is a default route, and its provider and targets;
    passwords and tokens in them are hidden."""
    return [_route_out(route) for route in state.context.routes]


@router.post(
    "/notify/test",
    summary="Send a test notification through a route",
    responses=problems(404, 409, s404="No route of that name.", s409="The route cannot be used."),
)
async def notify_test(request: Request, state: State, body: NotifyTest) -> NotifyTestOut:
    """Send a test message through a route at once, with the route's own templates, to see
    that it arrives; it is sent once, without retries. `delivered` says whether the
    provider took it and `answer` or `error` what it said. 404 for an unknown route."""
    route = next((r for r in state.context.routes if r.name == body.route), None)
    if route is None:
        known = ", ".join(r.name for r in state.context.routes) or "none are configured"
        raise Problem(
            404,
            f"no route named {body.route!r}; known routes: {known}",
            kind="route-not-found",
            errors=[{"field": "route", "message": f"no route named {body.route!r}"}],
        )
    pool = OffloadPool("notify-test", workers=1, queue_size=4)
    try:
        try:
            provider = provider_for(route, ProviderContext(pool=pool))
        except NotificationError as exc:
            raise Problem(409, redact(str(exc)), kind="route-invalid") from None
        message = trial_message(
            route, state.context.public_url, "Sent from the NyxMon API (POST /api/v1/notify/test)."
        )
        try:
            delivery = redacted(await provider.send(message))
        finally:
            await provider.aclose()
    finally:
        await run_blocking(request, pool.shutdown, timeout=5.0)
    return NotifyTestOut(
        route=route.name, delivered=delivery.ok, answer=delivery.answer, error=delivery.error
    )


def _window_out(window: MaintenanceWindow, now: float) -> MaintenanceOut:
    scope = window.scope
    return MaintenanceOut(
        name=window.name,
        scope={
            "everything": scope.everything,
            "checks": sorted(scope.checks),
            "services": sorted(scope.services),
            "labels": dict(scope.labels),
        },
        schedule=_schedule_out(window.schedule),
        active=window.active(now),
        next_change=window.next_change(now),
    )


def _schedule_out(schedule: object) -> dict[str, Any]:
    if isinstance(schedule, OneOff):
        return {"kind": "once", "start": schedule.start, "end": schedule.end}
    if isinstance(schedule, Cron):
        return {
            "kind": "cron",
            "expression": schedule.expression,
            "duration": schedule.duration,
            "tz": schedule.tz,
        }
    if isinstance(schedule, Weekly):
        names = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
        return {
            "kind": "weekly",
            "days": [names[d] if 0 <= d < 7 else str(d) for d in sorted(schedule.days)],
            "start": _clock(schedule.start),
            "end": _clock(schedule.end),
            "tz": schedule.tz,
        }
    return {"kind": type(schedule).__name__.lower()}


def _clock(value: dt.time) -> str:
    return value.strftime("%H:%M")


def _route_out(route: Route) -> RouteOut:
    if route.kind == "webhook":
        targets = [mask_url(route.webhook_url)] if route.webhook_url else []
    elif route.telegram is not None:
        targets = [telegram_target(route.telegram)]
    else:
        targets = [mask_url(url) for url in route.urls]
    match = route.match
    described: Mapping[str, Any] = {
        "services": list(match.services),
        "checks": list(match.checks),
        "labels": dict(match.labels),
        "kinds": [kind.value for kind in match.kinds],
        "min_severity": match.min_severity.value,
    }
    return RouteOut(
        name=route.name,
        kind=route.kind,
        targets=targets,
        default=route.default,
        match=dict(described),
    )
