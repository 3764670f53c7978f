"""Forms to add and edit checks of every registered type: ``/checks/new``, ``/checks/{id}/edit``.

The inputs come from the type's model (:mod:`nyxmon.web.pages.forms`); a submitted form is
judged by :func:`nyxmon.config.validate_check`, so its messages are the config file's, shown
next to the field they name. A valid check is saved by the API's own route functions
(``create_check`` / ``replace_check``: the same cross-key rules, conflicts and the AddCheck
command to the agent), so the dashboard and the API cannot drift apart. Checks from the config
file are shown read-only. Switching the type of a new check keeps the common inputs but drops
the conditions the new type can never observe, and says which.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from fastapi import Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from nyxmon.checktypes import params_models as check_types
from nyxmon.checktypes.secrets import mask_check_params
from nyxmon.config import (
    ConfigIssue,
    ConfigValidationError,
    check_models,
    unobserved,
    validate_check,
)
from nyxmon.domain.conditions import compile_condition
from nyxmon.domain.model import Check, CheckSource, check_id_for
from nyxmon.domain.push import PUSH_TYPE
from nyxmon.errors import CheckNotFoundError, ConditionSyntaxError, ConflictError
from nyxmon.web.api import checks as checks_api
from nyxmon.web.api.schemas import CheckWrite
from nyxmon.web.deps import PageUser, State, WebState, page_router, run_blocking
from nyxmon.web.pages.check_page import show_new_key
from nyxmon.web.pages.forms import (
    CheckFormSpec,
    FormErrors,
    attach_issues,
    check_form,
    form_values,
    parse_form,
)
from nyxmon.web.pages.render import render
from nyxmon.web.problems import Problem

__all__ = ["form_spec", "router"]

router = page_router(include_in_schema=False)

#: Inputs kept when the type of a new check is switched (the rest belong to the old type).
KEPT = ("service", "id", "name", "interval", "timeout", "conditions", "labels")
_MAX_SERVICE = 200


@functools.lru_cache(maxsize=64)
def form_spec(type_name: str) -> CheckFormSpec:
    """The form of a registered check type; KeyError for an unknown one."""
    return check_form(type_name, check_models()[type_name], check_types()[type_name])


def _default_type() -> str:
    names = list(check_types())
    return "http" if "http" in names else names[0]


async def _services(request: Request, state: WebState) -> list[str]:
    services = await run_blocking(request, state.context.store.list_services)
    return [service.name for service in services]


async def _page(
    request: Request,
    state: WebState,
    *,
    spec: CheckFormSpec,
    values: Mapping[str, str],
    check: Check | None = None,
    errors: FormErrors | None = None,
    general: list[str] | None = None,
    notices: list[str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    errors = errors or {}
    order = ["service", "id", *(f.name for f in spec.all)]
    context = {
        "spec": spec,
        "types": list(check_types()),
        "values": values,
        "errors": errors,
        "general": general or [],
        "notices": notices or [],
        "first_error": next((name for name in order if name in errors), None),
        "check": check,
        "readonly": check is not None and check.source is CheckSource.CONFIG,
        "services": await _services(request, state),
        "defaults": state.context.defaults,
        "section": "new" if check is None else "",
    }
    return await render(request, state, "pages/check_form.html", context, status_code=status_code)


def _data_of(check: Check) -> dict[str, Any]:
    """A stored check as the config file would write it (what the inputs show), its secrets
    masked: they never reach the page, and a mask submitted back keeps the stored secret."""
    return {
        **mask_check_params(check.type, check.params),
        "name": check.name,
        "interval": check.interval,
        "timeout": check.timeout,
        "conditions": list(check.conditions),
        "labels": dict(check.labels),
        "enabled": check.enabled,
        "paused": check.paused,
        "alert": dict(check.alert),
    }


def _submitted(spec: CheckFormSpec, form: Mapping[str, Any]) -> dict[str, str]:
    values = {f.name: str(form.get(f.name, "")) for f in spec.all}
    for name in ("service", "id"):
        values[name] = str(form.get(name, ""))
    return values


def _judge(
    spec: CheckFormSpec, form: Mapping[str, Any], *, with_id: bool
) -> tuple[Any, str, FormErrors, list[str]]:
    """``(validated spec or None, service, errors, general)`` for a submitted form."""
    data, errors = parse_form(spec.all, {k: str(v) for k, v in form.items()})
    data["type"] = spec.type
    check_id = str(form.get("id", "")).strip()
    if with_id and check_id:
        data["id"] = check_id
    service = str(form.get("service", "")).strip()
    if not service:
        errors.setdefault("service", []).append("expected a service name, got nothing")
    elif len(service) > _MAX_SERVICE:
        errors.setdefault("service", []).append(
            f"expected at most {_MAX_SERVICE} characters, got {len(service)}"
        )
    general: list[str] = []
    validated = None
    try:
        validated = validate_check(data)
    except ConfigValidationError as exc:
        fields = list(spec.all)
        issues = [i for i in exc.errors if i.path != "id"]
        errors, general = attach_issues(issues, fields, errors)
        for issue in exc.errors:
            if issue.path == "id":
                errors.setdefault("id", []).append(issue.message)
    return validated, service, errors, general


@router.get("/checks/new", response_class=HTMLResponse)
async def new_check(request: Request, state: State, user: PageUser) -> HTMLResponse:
    """The empty form; ``?type=dns`` picks the type, and the kept inputs may be prefilled
    from the query (switching the type keeps the name, service, interval, ...)."""
    type_name = request.query_params.get("type", "")
    if type_name not in check_types():
        type_name = _default_type()
    spec = form_spec(type_name)
    values = form_values(spec.all)
    values.update({"service": "", "id": ""})
    for name in KEPT:
        if name in request.query_params:
            values[name] = request.query_params[name][:10_000]
    values["conditions"], notices = _observable(values.get("conditions", ""), type_name)
    return await _page(request, state, spec=spec, values=values, notices=notices)


def _observable(text: str, type_name: str) -> tuple[str, list[str]]:
    """The condition lines a ``type_name`` check can observe, and a notice naming the rest.

    Lines that do not compile stay: the user is still typing them, and saving reports them.
    """
    kept: list[str] = []
    dropped: list[str] = []
    for line in text.splitlines():
        try:
            reason = unobserved(compile_condition(line), type_name) if line.strip() else None
        except ConditionSyntaxError:  # not written out yet: saving the form reports it
            reason = None
        if reason is None:
            kept.append(line)
        else:
            dropped.append(f"{line.strip()} ({reason})")
    if not dropped:
        return text, []
    lines = "; ".join(dropped)
    count = "a condition" if len(dropped) == 1 else f"{len(dropped)} conditions"
    return "\n".join(kept), [f"Removed {count} a {type_name} check can never pass: {lines}"]


@router.post("/checks/new", response_class=HTMLResponse, response_model=None)
async def create_check(
    request: Request, state: State, user: PageUser
) -> HTMLResponse | RedirectResponse:
    form = await request.form()
    type_name = str(form.get("type", ""))
    if type_name not in check_types():
        spec = form_spec(_default_type())
        values = {**form_values(spec.all), "service": "", "id": ""}
        known = ", ".join(check_types())
        errors: FormErrors = {"type": [f"unknown check type {type_name!r} (known: {known})"]}
        return await _page(request, state, spec=spec, values=values, errors=errors, status_code=422)
    spec = form_spec(type_name)
    values = _submitted(spec, form)
    validated, service, errors, general = _judge(spec, form, with_id=True)
    if validated is not None and not errors:
        body = CheckWrite.model_construct(service=service, check=validated)
        try:
            created = await checks_api.create_check(request, Response(), state, body)
        except ConfigValidationError as exc:
            errors, general = attach_issues(exc.errors, spec.all, errors)
        except ConflictError:
            given = values.get("id", "").strip()
            taken = given or check_id_for(service, validated.name)
            errors.setdefault("id" if given else "name", []).append(
                f"a check with the id {taken!r} exists already: choose another "
                + ("id" if given else "name (or set an id)")
            )
        else:
            key = created.params.get("token") if created.type == PUSH_TYPE else None
            if isinstance(key, str) and getattr(validated, "token", None) is None:
                return await show_new_key(  # a generated ping key, shown this once
                    request,
                    state,
                    created.id,
                    key,
                    "Check created. Its ping key is below: copy it now, it is not shown again.",
                )
            return RedirectResponse(f"/checks/{created.id}?done=created", status_code=303)
    return await _page(
        request, state, spec=spec, values=values, errors=errors, general=general, status_code=422
    )


async def _existing(
    request: Request, state: WebState, check_id: str
) -> tuple[Check, CheckFormSpec]:
    check = await run_blocking(request, state.context.store.get_check, check_id)
    if check is None:
        raise CheckNotFoundError(check_id)
    try:
        spec = form_spec(check.type)
    except KeyError:
        raise ConflictError(
            f"check {check_id!r} has the type {check.type!r}, which this agent does not know"
        ) from None
    return check, spec


@router.get("/checks/{check_id}/edit", response_class=HTMLResponse)
async def edit_check(request: Request, state: State, user: PageUser, check_id: str) -> HTMLResponse:
    check, spec = await _existing(request, state, check_id)
    values = form_values(spec.all, _data_of(check))
    values.update({"service": check.service, "id": check.id})
    return await _page(request, state, spec=spec, values=values, check=check)


@router.post("/checks/{check_id}/edit", response_class=HTMLResponse, response_model=None)
async def save_check(
    request: Request, state: State, user: PageUser, check_id: str
) -> HTMLResponse | RedirectResponse:
    check, spec = await _existing(request, state, check_id)
    form = await request.form()
    values = {**_submitted(spec, form), "id": check.id}
    validated, service, errors, general = _judge(spec, form, with_id=False)
    if check.source is CheckSource.CONFIG:
        general.append(
            f"check {check_id!r} comes from the config file and is read-only here; "
            "change it in the file"
        )
    elif validated is not None and not errors:
        body = CheckWrite.model_construct(service=service, check=validated)
        try:
            await checks_api.replace_check(request, state, check_id, body)
        except ConfigValidationError as exc:
            errors, general = attach_issues(exc.errors, spec.all, errors)
        except Problem as exc:  # a masked secret that cannot be kept (the URL moved)
            if not exc.errors:
                raise
            issues = [ConfigIssue(None, None, e["field"], e["message"]) for e in exc.errors]
            errors, general = attach_issues(issues, spec.all, errors)
        except ConflictError as exc:
            general.append(str(exc))
        else:
            return RedirectResponse(f"/checks/{check_id}?done=saved", status_code=303)
    return await _page(
        request,
        state,
        spec=spec,
        values=values,
        check=check,
        errors=errors,
        general=general,
        status_code=409 if check.source is CheckSource.CONFIG else 422,
    )
