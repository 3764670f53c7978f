"""Public SVG badges (Gatus-style): a check's state, its uptime and its response time.

``/badge/{check}/status.svg``, ``/badge/{check}/uptime/{24h|7d|30d}.svg`` and
``/badge/{check}/latency.svg``; cacheable for ``public_max_age`` seconds, computed at most once
per that period per check and window. Only checks on a public status page have badges
(:mod:`.exposure`): a private check and an unknown id both get the same grey "not found"
badge with 404, decided before the store is read.
"""

from __future__ import annotations

import time
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response

from nyxmon.domain.history.figures import WINDOWS
from nyxmon.domain.history.uptime import percent_text
from nyxmon.web.deps import State, live_index, run_blocking
from nyxmon.web.live import CheckView
from nyxmon.web.public.caching import cacheable_response, memo, public_data_ttl
from nyxmon.web.public.exposure import public_view
from nyxmon.web.public.svg import COLOURS, badge_svg

__all__ = ["latency_colour", "router", "uptime_colour"]

router = APIRouter(tags=["public"], include_in_schema=False)

SVG = "image/svg+xml"
Window = Literal["24h", "7d", "30d"]
Label = Annotated[str | None, Query(max_length=60, description="Text of the left half")]


def uptime_colour(pct: float) -> str:
    if pct >= 99.9:
        return "#4c1"
    if pct >= 99.0:
        return "#97ca00"
    if pct >= 95.0:
        return "#dfb317"
    if pct >= 90.0:
        return "#fe7d37"
    return "#e05d44"


def latency_colour(ms: float) -> str:
    if ms < 300:
        return "#4c1"
    if ms < 1000:
        return "#dfb317"
    return "#e05d44"


def _svg(
    request: Request, state: State, label: str, message: str, colour: str, status: int = 200
) -> Response:
    return cacheable_response(
        request,
        badge_svg(label, message, colour),
        SVG,
        max_age=state.settings.public_max_age,
        status_code=status,
    )


async def _public(request: Request, state: State, check_id: str) -> CheckView | None:
    return public_view(await live_index(request), check_id, state.settings.status_pages)


def _not_found(request: Request, state: State, label: str) -> Response:
    """The one answer for a private check and an unknown id alike."""
    return _svg(request, state, label, "not found", COLOURS["unknown"], 404)


@router.get("/badge/{check_id}/status.svg")
async def status_badge(
    request: Request, state: State, check_id: str, label: Label = None
) -> Response:
    view = await _public(request, state, check_id)
    text = label or "status"
    if view is None:
        return _not_found(request, state, text)
    return _svg(request, state, text, view.state, COLOURS.get(view.state, COLOURS["unknown"]))


@router.get("/badge/{check_id}/uptime/{window}.svg")
async def uptime_badge(
    request: Request, state: State, check_id: str, window: Window, label: Label = None
) -> Response:
    text = label or f"uptime {window}"
    if await _public(request, state, check_id) is None:
        return _not_found(request, state, text)
    figures = await _availability(request, state, check_id, window)
    if figures is None:
        return _svg(request, state, text, "no data", COLOURS["unknown"])
    pct, _ = figures
    return _svg(request, state, text, percent_text(pct), uptime_colour(pct))


@router.get("/badge/{check_id}/latency.svg")
async def latency_badge(
    request: Request,
    state: State,
    check_id: str,
    window: Window = "24h",
    label: Label = None,
) -> Response:
    text = label or f"response time {window}"
    if await _public(request, state, check_id) is None:
        return _not_found(request, state, text)
    figures = await _availability(request, state, check_id, window)
    if figures is None or figures[1] is None:
        return _svg(request, state, text, "no data", COLOURS["unknown"])
    ms = figures[1] * 1000
    return _svg(request, state, text, f"{ms:.0f} ms", latency_colour(ms))


async def _availability(
    request: Request, state: State, check_id: str, window: str
) -> tuple[float, float | None] | None:
    store = state.context.store

    async def compute() -> tuple[float, float | None] | None:
        figures = await run_blocking(
            request, store.availability, check_id, now=time.time(), window=WINDOWS[window]
        )
        if figures.uptime_pct is None:
            return None
        return figures.uptime_pct, figures.duration_avg

    key = f"availability:{check_id}:{window}"
    return await memo(state, key, public_data_ttl(state), compute)
