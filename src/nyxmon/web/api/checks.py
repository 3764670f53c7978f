"""``/api/v1/checks``: list, get, create, replace, delete, pause, resume, run now.

Reads come from the store's read-only connections and the agent's status snapshot; every
change is a command the agent's dispatcher runs (``AddCheck``, ``RemoveCheck``, ``SetPaused``),
awaited with a timeout. A body is validated completely (schema, then the file's cross-key
rules such as ``timeout < interval``) before anything is sent, so bad input changes nothing.
Checks from the config file are read-only here (409), except pausing and resuming.
"""

from __future__ import annotations

import re
import time
from dataclasses import replace
from types import MappingProxyType
from typing import Annotated
from urllib.parse import quote

from fastapi import Query, Request, Response

from nyxmon.checktypes.secrets import MaskedSecretError, restore_check_params
from nyxmon.config import (
    COMMON_CHECK_FIELDS,
    CheckBase,
    CheckDefaults,
    ConfigIssue,
    ConfigValidationError,
    new_check,
    validate_check,
)
from nyxmon.domain.alerting.types import AlertState
from nyxmon.domain.model import Check, CheckSource
from nyxmon.domain.push import PUSH_TYPE
from nyxmon.errors import CheckNotFoundError, ConflictError
from nyxmon.service_layer.messages import AddCheck, RemoveCheck, SetPaused
from nyxmon.web.api.contract import problems
from nyxmon.web.api.params import (
    LabelsParam,
    TypeParam,
    bad_parameter,
    parse_labels,
    parse_type,
)
from nyxmon.web.api.ping_keys import ping_key_out
from nyxmon.web.api.schemas import (
    CheckOut,
    CheckPut,
    CheckReplace,
    CheckWrite,
    PageOut,
    ResultOut,
    check_out,
    location_views_out,
    result_out,
)
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
    label: LabelsParam = [],  # noqa: B006
    state_: Annotated[AlertState | None, Query(alias="state")] = None,
    type: TypeParam = None,
    source: CheckSource | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> Response:
    """Every check, ordered by id, with its settings, current state and last result.

    Filter by `service`, `label` (`KEY=VALUE`; repeat it to require several), `state`, `type`
    and `source` (`config` for checks from the config file, `api` for the others); page with
    `limit` and `offset`. The answer may be up to a second old; your own changes show at once.
    """
    # One answer per query is built once per cache_seconds, shared by every caller (a
    # hammered dashboard costs one build), and dropped at once after a change made here.
    labels = parse_labels(label, "query.label")
    type = parse_type(type)
    views = await live_checks(request)

    def render() -> bytes:
        now = time.time()
        stored = state.context.store.location_views()  # only checks probed from locations
        lease = state.context.lease_seconds
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
            items=[
                check_out(
                    view.check,
                    view,
                    location_views_out(
                        view.check, stored.get(view.check.id, ()), now=now, lease_seconds=lease
                    ),
                )
                for view in matching[offset : offset + limit]
            ],
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
    """One check with its settings, current state and last result; 404 if there is none."""
    return await _check_out(request, state, check_id)


@router.post("/checks", status_code=201, summary="Create a check", responses=problems(409, 504))
async def create_check(
    request: Request, response: Response, state: State, body: CheckWrite
) -> CheckOut:
    """Create a check. The body names its `service` (created when new) and the `check`, with
    the keys a check has in the config file; without `interval` and `timeout` it gets the
    config file's `defaults`. 409 if a check with the same id exists (change it with PUT).
    Checks created here can be changed and deleted here.

    Beyond its schema, a check is judged by the config file's rules (the condition language,
    URLs and DNS names, `timeout` below `interval`): a 422 names the field that broke one.

    A `push` check created without a `token` gets a random ping key, shown in this answer's
    `params.token` (and `ping_url`) and masked from then on."""
    check = _with_secrets(_domain_check(body, state.context.defaults), None, "check.")
    generated = check.type == PUSH_TYPE and getattr(body.check, "token", None) is None
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
    out = await _check_out(request, state, check.id)
    if generated:  # shown this once: the one answer that made it
        key = ping_key_out(state, check, request)
        out.params["token"] = key.ping_key
        response.headers["X-NyxMon-Ping-URL"] = key.ping_url
    return out


@router.put("/checks/{check_id}", summary="Replace a check", responses=problems(409, 504))
async def replace_check(
    request: Request, state: State, check_id: CheckId, body: CheckPut
) -> CheckOut:
    """Replace a check created through the API, the dashboard or the CLI; its id stays.
    Checks from the config file are changed in the file: 409.

    The body is ``{"service": ..., "check": {...}}`` like ``POST``, or exactly what ``GET``
    answered, edited or not (``source``, ``state`` and ``status`` are ignored)."""
    write = body if isinstance(body, CheckWrite) else written(body, check_id)
    prefix = "check." if isinstance(body, CheckWrite) else "params."
    given: CheckBase = write.check
    spec_id = given.id
    if spec_id is not None and spec_id != check_id:
        message = f"expected the id of the URL ({check_id!r}) or none, got {spec_id!r}"
        raise bad_parameter("check.id", message)
    check = _domain_check(write, state.context.defaults, check_id=check_id)
    existing = await run_blocking(request, state.context.store.get_check, check_id)
    if existing is None:
        raise CheckNotFoundError(check_id)
    if existing.source is CheckSource.CONFIG:
        raise ConflictError(
            f"check {check_id!r} comes from the config file and is read-only here; "
            "it can only be changed by editing the file"
        )
    await _save(request, state, _with_secrets(check, existing, prefix))
    return await _check_out(request, state, check_id)


def written(body: CheckReplace, check_id: str) -> CheckWrite:
    """The ``POST`` shape of a check given as ``GET`` shows it, judged by the file's rules;
    problems are named as the client wrote them (``params.url``, ``conditions[0]``)."""
    if body.id is not None and body.id != check_id:
        message = f"expected the id of the URL ({check_id!r}) or none, got {body.id!r}"
        raise bad_parameter("id", message)
    clashing = sorted(set(body.params) & COMMON_CHECK_FIELDS)
    if clashing:
        key = clashing[0]
        raise bad_parameter(f"params.{key}", f"{key!r} is a field of the check, not of params")
    try:
        spec = validate_check(body.check_data())
    except ConfigValidationError as exc:
        raise ConfigValidationError(
            [replace(issue, path=_field_of(issue)) for issue in exc.errors]
        ) from None
    return CheckWrite.model_construct(service=body.service, check=spec)


def _field_of(issue: ConfigIssue) -> str:
    """Where ``issue`` sits in the GET shape: the type's settings live under ``params``."""
    head = re.split(r"[.\[]", issue.path, maxsplit=1)[0]
    if head in COMMON_CHECK_FIELDS:
        return issue.path
    if head not in ("", "(top level)"):  # CheckReplace refuses unknown keys of its own
        return f"params.{issue.path}"
    missing = re.search(r'missing required key "([^"]+)"', issue.message)
    if missing is not None and missing.group(1) not in COMMON_CHECK_FIELDS:
        return "params"
    return "body"


@router.delete(
    "/checks/{check_id}",
    status_code=204,
    summary="Delete a check and its history",
    responses=problems(409, 504),
)
async def delete_check(request: Request, state: State, check_id: CheckId) -> Response:
    """Delete a check with its whole history (results, uptime, incidents). Checks from the
    config file are removed from the file: 409."""
    await state.context.command(RemoveCheck(check_id), state.settings.command_timeout)
    state.live.invalidate()
    return Response(status_code=204)


@router.post(
    "/checks/{check_id}/pause", summary="Pause a check (history kept)", responses=problems(504)
)
async def pause_check(request: Request, state: State, check_id: CheckId) -> CheckOut:
    """Stop running a check until it is resumed; its history stays. Works for every check,
    those from the config file too."""
    return await _set_paused(request, state, check_id, True)


@router.post("/checks/{check_id}/resume", summary="Resume a paused check", responses=problems(504))
async def resume_check(request: Request, state: State, check_id: CheckId) -> CheckOut:
    """Run a paused check again on its schedule."""
    return await _set_paused(request, state, check_id, False)


@router.post(
    "/checks/{check_id}/run",
    summary="Run a check now and return its result",
    responses=problems(409, 504),
)
async def run_check(state: State, check_id: CheckId) -> ResultOut:
    """Run the check at once (or wait for the run already under way) and answer with its
    result, which is recorded like every other. 409 for a paused check; 504 when no result
    came within 30 seconds."""
    result = await state.context.run_now(check_id, state.settings.run_timeout)
    state.live.invalidate()
    return result_out(result)


# -- helpers ------------------------------------------------------------------------------------
def _domain_check(body: CheckWrite, defaults: CheckDefaults, check_id: str | None = None) -> Check:
    spec: CheckBase = body.check
    if check_id is not None:
        spec = spec.model_copy(update={"id": check_id})
    return new_check(spec, service=body.service, defaults=defaults, source=CheckSource.API)


def _with_secrets(check: Check, existing: Check | None, prefix: str) -> Check:
    """``check`` with each masked secret (``********``, as GET shows it) replaced by the one
    ``existing`` has stored; 422 naming the field for a mask with no secret behind it."""
    stored = existing.params if existing is not None and existing.type == check.type else None
    try:
        params = restore_check_params(check.type, check.params, stored)
    except MaskedSecretError as exc:
        raise bad_parameter(prefix + exc.field, exc.message) from None
    return replace(check, params=MappingProxyType(params))


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
    views = await run_blocking(request, state.context.store.location_views, [check_id])
    located = location_views_out(
        check, views.get(check_id, ()), now=time.time(), lease_seconds=state.context.lease_seconds
    )
    return check_out(check, (await live_index(request)).get(check_id), located)
