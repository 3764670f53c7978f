"""Routes about the web plane itself: health, the live event stream, the API's description.

``/healthz`` is public (load balancers); ``/events`` and the OpenAPI document and docs page
need a caller, like the rest of the API. An event stream ends as soon as its caller's session
ends or token is revoked: the caller is checked again before each event.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response, StreamingResponse

from nyxmon.web.api_docs import sections
from nyxmon.web.auth import Principal
from nyxmon.web.deps import State, api_principal, still_signed_in

__all__ = ["router"]

router = APIRouter(include_in_schema=False)


@router.get("/healthz")
async def health(state: State) -> Response:
    """Readiness: 200 while the agent records what it observes (``ok`` or ``degraded``), 503
    when it does not (a plane died, store writes keep failing, the backlog is over its bound),
    with the problems in words and the figures they come from. Point a load balancer here."""
    report = state.context.health()
    return JSONResponse(report.to_dict(), status_code=200 if report.ready else 503)


@router.get("/livez")
async def liveness(state: State) -> Response:
    """Liveness: 503 only when a plane of the agent died (restart it); a store that refuses
    writes is not a reason to restart. Point an orchestrator's liveness probe here."""
    report = state.context.health()
    live = {"live": report.live, "status": report.status, "problems": list(report.problems)}
    return JSONResponse(live, status_code=200 if report.live else 503)


@router.get("/events")
async def events(
    request: Request,
    state: State,
    principal: Annotated[Principal, Depends(api_principal)],
    snapshot: Annotated[bool, Query(description="Start with every check's status.")] = False,
    catalog: Annotated[
        int | None, Query(description="The catalog version the page was rendered with.")
    ] = None,
    states: Annotated[
        int | None, Query(description="The state mark the page was rendered with.")
    ] = None,
) -> StreamingResponse:
    """Server-Sent Events: ``status`` events with the checks whose status changed, and
    ``catalog`` events when checks were added, changed or removed."""
    initial = list((await state.context.statuses()).values()) if snapshot else None

    async def while_signed_in() -> AsyncIterator[str]:
        async with contextlib.aclosing(state.hub.stream(initial, catalog, states)) as stream:
            async for chunk in stream:
                if chunk.startswith(("event:", "data:")) and not await still_signed_in(
                    request, principal
                ):
                    return  # signed out, or the token revoked: nothing more for this caller
                yield chunk

    return StreamingResponse(
        while_signed_in(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


@router.get("/api/v1/openapi.json")
async def openapi(request: Request, principal: Annotated[Principal, Depends(api_principal)]) -> Any:
    return JSONResponse(request.app.openapi())


@router.get("/api/v1/docs")
async def docs(
    request: Request, state: State, principal: Annotated[Principal, Depends(api_principal)]
) -> HTMLResponse:
    """A plain page describing every operation (no CDN-hosted Swagger UI)."""
    schema = request.app.openapi()
    context = {"schema": schema, "sections": sections(schema)}
    response: HTMLResponse = state.templates.TemplateResponse(request, "api_docs.html", context)
    return response
