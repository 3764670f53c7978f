"""``/api/v1/checks``: list, get, create, replace, delete, pause, resume, run now.

Reads come from the store's read-only connections and the agent's status snapshot; every
change is a command the agent's dispatcher runs (``AddCheck``, ``RemoveCheck``, ``SetPaused``),
awaited with a timeout. A body is validated completely (schema, then the file's cross-key
rules such as ``timeout < interval``) before anything is sent, so bad input changes nothing.
Checks from the config file are read-only here (409), except pausing and resuming.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import Query, Request, Response

from nyxmon.config import CheckBase, CheckDefaults, ConfigValidationError, check_from_spec
from nyxmon.config.schema import DefaultsSection, ServiceSection
from nyxmon.config.semantics import ValidCheck, ValidService, check_semantics
from nyxmon.domain.alerting.types import AlertState
from nyxmon.domain.model import Check, CheckSource
from nyxmon.errors import CheckNotFoundError, ConflictError
from nyxmon.service_layer.messages import AddCheck, RemoveCheck, SetPaused
from nyxmon.web.api.params import bad_parameter, parse_labels
from nyxmon.web.api.schemas import CheckOut, CheckWrite, PageOut, ResultOut, check_out, result_out
from nyxmon.web.deps import State, WebState, api_router, live_checks, live_index, run_blocking
from nyxmon.web.public.caching import memo

__all__ = ["router"]

router = api_router(tags=["checks"])

CheckId = Annotated[str, "check id"]


@router.get("/checks", summary="List checks", response_model=PageOut[CheckOut])
async def list_checks(
    request: Request,
    state: State,
    service: str | None = None,
    label: Annotated[
        list[str], Query(description="KEY=VALUE (own or from the service); repeat for several")
    ] = [],  # noqa: B006
    state_: Annotated[AlertState | None, Query(alias="state")] = None,
    type: str | None = None,
    source: CheckSource | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> Response:
    """Live checks ordered by id, filtered by service, labels, state, type and source.

    The answer for one query is built once per ``cache_seconds`` (a hammered dashboard
    shares it) and at once after a change made through the API."""
    labels = parse_labels(label, "query.label")
    views = await live_checks(request)

    def render() -> bytes:
        matching = [
            view
            for view in views
            if (service is None or view.check.service == service)
            and (type is None or view.check.type == type)
            and (source is None or view.check.source is source)
            and (state_ is None or view.state == state_.value)
            and all(view.check.effective_labels.get(k) == v for k, v in labels.items())
        ]
        page = PageOut[CheckOut](
            items=[check_out(view.check, view) for view in matching[offset : offset + limit]],
            total=len(matching),
            limit=limit,
            offset=offset,
        )
        return page.model_dump_json().encode()

    async def compute() -> bytes:
        return await run_blocking(request, render)

    key = f"checks:{state.live.generation}:{state.live.refreshes}:{request.url.query}"
    body = await memo(state, key, state.settings.cache_seconds, compute)
    return Response(body, media_type="application/json")


@router.get("/checks/{check_id}", summary="Get a check")
async def get_check(request: Request, state: State, check_id: CheckId) -> CheckOut:
    return await _check_out(request, state, check_id)


@router.post("/checks", status_code=201, summary="Create a check")
async def create_check(
    request: Request, response: Response, state: State, body: CheckWrite
) -> CheckOut:
    """Create an API-owned check; 409 if a check with its id exists (use PUT to replace)."""
    check = _domain_check(body, state.context.defaults)
    store = state.context.store
    existing = await run_blocking(request, store.get_check, check.id, include_archived=True)
    if existing is not None and existing.source is CheckSource.CONFIG:
        raise ConflictError(
            f"check {check.id!r} comes from the config file; choose another name or id"
        )
    live = None if existing is None else await run_blocking(request, store.get_check, check.id)
    if live is not None:
        raise ConflictError(f"check {check.id!r} exists already; PUT /checks/{check.id} to change")
    await _save(request, state, check)
    response.headers["Location"] = f"/api/v1/checks/{quote(check.id, safe='')}"
    return await _check_out(request, state, check.id)


@router.put("/checks/{check_id}", summary="Replace a check")
async def replace_check(
    request: Request, state: State, check_id: CheckId, body: CheckWrite
) -> CheckOut:
    """Replace an API-owned check (its id stays); config checks: 409, edit the file."""
    given: CheckBase = body.check
    spec_id = given.id
    if spec_id is not None and spec_id != check_id:
        message = f"expected the id of the URL ({check_id!r}) or none, got {spec_id!r}"
        raise bad_parameter("check.id", message)
    check = _domain_check(body, state.context.defaults, check_id=check_id)
    existing = await run_blocking(request, state.context.store.get_check, check_id)
    if existing is None:
        raise CheckNotFoundError(check_id)
    if existing.source is CheckSource.CONFIG:
        raise ConflictError(
            f"check {check_id!r} comes from the config file and is read-only here; "
            "it can only be changed by editing the file"
        )
    await _save(request, state, check)
    return await _check_out(request, state, check_id)


@router.delete("/checks/{check_id}", status_code=204, summary="Delete a check and its history")
async def delete_check(request: Request, state: State, check_id: CheckId) -> Response:
    await state.context.command(RemoveCheck(check_id), state.settings.command_timeout)
    state.live.invalidate()
    return Response(status_code=204)


@router.post("/checks/{check_id}/pause", summary="Pause a check (history kept)")
async def pause_check(request: Request, state: State, check_id: CheckId) -> CheckOut:
    return await _set_paused(request, state, check_id, True)


@router.post("/checks/{check_id}/resume", summary="Resume a paused check")
async def resume_check(request: Request, state: State, check_id: CheckId) -> CheckOut:
    return await _set_paused(request, state, check_id, False)


@router.post("/checks/{check_id}/run", summary="Run a check now and return its result")
async def run_check(state: State, check_id: CheckId) -> ResultOut:
    """Runs at once (or joins the run in flight) and answers with the result, which is also
    recorded as usual; 409 for a paused check, 504 after ``run_timeout`` (30 s)."""
    result = await state.context.run_now(check_id, state.settings.run_timeout)
    state.live.invalidate()
    return result_out(result)


# -- helpers ------------------------------------------------------------------------------------
def _domain_check(body: CheckWrite, defaults: CheckDefaults, check_id: str | None = None) -> Check:
    spec: CheckBase = body.check
    if check_id is not None:
        spec = spec.model_copy(update={"id": check_id})
    check_rules(spec, body.service, defaults)
    return check_from_spec(spec, service=body.service, defaults=defaults, source=CheckSource.API)


def check_rules(spec: CheckBase, service: str, defaults: CheckDefaults) -> None:
    """The config file's cross-key rules (interval floor, timeout shorter than the interval)
    for one check, reported at ``check.<key>`` like the file reports ``services[0].checks[0]``.
    """
    section = ServiceSection.model_construct(name=service, checks=[spec])
    valid = ValidService(("service",), section, [ValidCheck(("check",), spec, spec.id or "")])
    findings = check_semantics(
        None,
        DefaultsSection.model_construct(interval=defaults.interval, timeout=defaults.timeout),
        [valid],
        any_services_written=True,
        locate=lambda path: None,
        filename=None,
    )
    if findings.errors:
        raise ConfigValidationError(findings.errors)


async def _save(request: Request, state: WebState, check: Check) -> None:
    """One command: the check, and its service when it is new (API-owned), in one transaction."""
    await state.context.command(AddCheck(check), state.settings.command_timeout)
    state.live.invalidate()


async def _set_paused(request: Request, state: WebState, check_id: str, paused: bool) -> CheckOut:
    await state.context.command(SetPaused(check_id, paused), state.settings.command_timeout)
    state.live.invalidate()
    return await _check_out(request, state, check_id)


async def _check_out(request: Request, state: WebState, check_id: str) -> CheckOut:
    check = await run_blocking(request, state.context.store.get_check, check_id)
    if check is None:
        raise CheckNotFoundError(check_id)
    return check_out(check, (await live_index(request)).get(check_id))
