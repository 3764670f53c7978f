"""Public status pages from the config's ``web.status_pages``: JSON and a minimal HTML page.

Each page shows its services (all when none are listed; those of one service group together)
with their current state, 24 h uptime, 90 daily uptime bars, the ongoing incidents and the
maintenance that is open or coming. The data is computed at most once per ``public_max_age``
seconds per page (one store series query per check, in a worker thread) and answered with
``Cache-Control`` and an ETag, so a status page linked from everywhere costs the agent next to
nothing. No login; nothing but what the page shows leaves the process (no check URLs, no
messages of checks outside the page).
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import APIRouter, Request, Response

from nyxmon.config.web import StatusPage
from nyxmon.domain.history.uptime import Uptime, uptime_pct
from nyxmon.domain.model import Check, Service
from nyxmon.service_layer.storage import Store
from nyxmon.web.deps import State, WebState, live_checks, run_blocking
from nyxmon.web.live import CheckView
from nyxmon.web.problems import Problem
from nyxmon.web.public.caching import cacheable_response, memo, public_data_ttl

__all__ = ["SEVERITY", "router", "worst_state"]

router = APIRouter(tags=["public"], include_in_schema=False)

DAY = 86400.0
DAYS = 90
#: Worse states first: a service shows the worst state among its checks.
SEVERITY = ("down", "flapping", "degraded", "maintenance", "pending", "up", "paused")


def worst_state(states: Sequence[str]) -> str:
    if not states:
        return "unknown"
    rank = {state: index for index, state in enumerate(SEVERITY)}
    return min(states, key=lambda state: rank.get(state, len(SEVERITY)))


def _page(state: WebState, slug: str) -> StatusPage:
    for page in state.settings.status_pages:
        if page.slug == slug:
            return page
    raise Problem(404, f"no status page {slug!r}", kind="status-page-not-found")


@router.get("/status/{slug}.json")
async def status_json(request: Request, state: State, slug: str) -> Response:
    data = await _data(request, state, _page(state, slug))
    body = json.dumps(data, separators=(",", ":"))
    return cacheable_response(
        request, body, "application/json", max_age=state.settings.public_max_age
    )


@router.get("/status/{slug}")
async def status_html(request: Request, state: State, slug: str) -> Response:
    data = await _data(request, state, _page(state, slug))
    template = state.templates.get_template("status_page.html")
    html = await run_blocking(request, template.render, {"request": request, "page": data})
    return cacheable_response(
        request, html, "text/html; charset=utf-8", max_age=state.settings.public_max_age
    )


async def _data(request: Request, state: WebState, page: StatusPage) -> dict[str, Any]:
    async def compute() -> dict[str, Any]:
        views = await live_checks(request)
        services = await run_blocking(request, state.context.store.list_services)
        return await run_blocking(
            request,
            build_page,
            state.context.store,
            page,
            views,
            {s.name: s for s in services},
            state.context.maintenance,
            time.time(),
        )

    return await memo(state, f"status:{page.slug}", public_data_ttl(state), compute)


def build_page(
    store: Store,
    page: StatusPage,
    views: Sequence[CheckView],
    services: Mapping[str, Service],
    windows: Sequence[Any],
    now: float,
) -> dict[str, Any]:
    """The page's JSON document (blocking: reads daily series from the store).

    Services come in the page's order (by name when it lists none), those of one service
    group together: named groups first, in the order they first appear, then the rest."""
    listed = list(page.services) or sorted({view.check.service for view in views})
    wanted = _grouped(listed, services)
    by_service: dict[str, list[CheckView]] = {name: [] for name in wanted}
    for view in views:
        if view.check.service in by_service:
            by_service[view.check.service].append(view)
    first_day = (now // DAY - (DAYS - 1)) * DAY
    shown = [view.check.id for name in wanted for view in by_service[name]]
    day = store.uptime_many(shown, now=now, window=DAY)
    quarter = store.uptime_many(shown, now=now, window=DAYS * DAY)
    services_out: list[dict[str, Any]] = []
    incidents: list[dict[str, Any]] = []
    for name in wanted:
        members = by_service[name]
        days = [[0, 0] for _ in range(DAYS)]  # [count, ok] per day
        for view in members:
            for point in store.series(view.check.id, start=first_day, end=now, step=DAY):
                index = int((point.start - first_day) // DAY)
                if 0 <= index < DAYS:
                    days[index][0] += point.count
                    days[index][1] += point.ok_count
            if view.state == "down":
                since = view.status.alert_since if view.status is not None else None
                incidents.append(_incident(view, since))
        services_out.append(
            {
                "name": name,
                "group": _group_of(name, services),
                "description": services[name].description if name in services else "",
                "state": worst_state([view.state for view in members]),
                "uptime_24h": _pooled(day, members),
                "uptime_90d": _pooled(quarter, members),
                "days": [
                    {
                        "start": first_day + index * DAY,
                        "count": count,
                        "uptime_pct": round(100.0 * good / count, 3) if count else None,
                    }
                    for index, (count, good) in enumerate(days)
                ],
                "checks": [
                    {
                        "id": view.check.id,
                        "name": view.check.name,
                        "state": view.state,
                        "uptime_24h": _pooled(day, [view]),
                    }
                    for view in members
                ],
            }
        )
    checks = [view.check for members in by_service.values() for view in members]
    return {
        "slug": page.slug,
        "title": page.title,
        "description": page.description,
        "generated_at": now,
        "state": worst_state([service["state"] for service in services_out]),
        "services": services_out,
        "incidents": incidents,
        "maintenance": _maintenance(windows, checks, now),
    }


def _group_of(name: str, services: Mapping[str, Service]) -> str:
    service = services.get(name)
    return service.group if service is not None else ""


def _grouped(names: Sequence[str], services: Mapping[str, Service]) -> list[str]:
    first: dict[str, int] = {}
    for name in names:
        first.setdefault(_group_of(name, services), len(first))
    return sorted(names, key=lambda n: (not _group_of(n, services), first[_group_of(n, services)]))


def _pooled(uptime: Mapping[str, Uptime], views: Sequence[CheckView]) -> float | None:
    """The uptime of ``views`` together: all their runs in the window, pooled."""
    figures = [uptime[view.check.id] for view in views if view.check.id in uptime]
    return uptime_pct(sum(f.ok_count for f in figures), sum(f.count for f in figures))


def _incident(view: CheckView, since: float | None) -> dict[str, Any]:
    """An ongoing incident: which check, since when (its saved alert state says), no message
    (a probe's message may name internal hosts)."""
    return {
        "check": view.check.name,
        "service": view.check.service,
        "state": view.state,
        "since": since,
    }


def _maintenance(
    windows: Sequence[Any], checks: Sequence[Check], now: float
) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for window in windows:
        if not any(window.applies_to(check) for check in checks):
            continue
        active = window.active(now)
        upcoming = window.next_change(now)
        if not active and (upcoming is None or upcoming - now > 7 * DAY):
            continue
        out.append(
            {
                "name": window.name,
                "active": active,
                "until" if active else "starts": upcoming,
            }
        )
    return out
