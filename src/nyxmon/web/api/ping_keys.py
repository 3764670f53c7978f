"""``/api/v1/checks/{id}/ping-key``: a push check's ping key, replaced (rotated).

A ping key is a secret: the API shows it only in the answer that made it (this one, or the
``POST /checks`` that generated it) and masks it everywhere else. Rotating answers the new key
and its ping URL once; the old key is refused from the moment the agent applied the change.
A push check from the config file keeps the key the file gives it (409: change the file).
"""

from __future__ import annotations

from dataclasses import replace
from types import MappingProxyType

from fastapi import Request
from pydantic import BaseModel

from nyxmon.domain.model import Check, CheckSource
from nyxmon.domain.push import PUSH_TYPE, generate_ping_key
from nyxmon.errors import CheckNotFoundError, ConflictError
from nyxmon.service_layer.messages import AddCheck
from nyxmon.web.api.contract import problems
from nyxmon.web.deps import State, WebState, api_router, run_blocking

__all__ = ["PingKeyOut", "ping_key_out", "ping_url", "router"]

router = api_router(tags=["checks"])


class PingKeyOut(BaseModel):
    """A push check's ping key, shown this once, and the URL a job calls with it."""

    check_id: str
    ping_key: str
    ping_url: str


def ping_url(state: WebState, key: str, request: Request | None = None) -> str:
    """``{public_url}/ping/{key}``; the request's own base when no public URL is set."""
    base = state.context.public_url.rstrip("/")
    if not base and request is not None:
        base = str(request.base_url).rstrip("/")
    return f"{base}/ping/{key}"


def ping_key_out(state: WebState, check: Check, request: Request | None = None) -> PingKeyOut:
    key = str(check.params["token"])
    return PingKeyOut(check_id=check.id, ping_key=key, ping_url=ping_url(state, key, request))


@router.post(
    "/checks/{check_id}/ping-key",
    summary="Replace a push check's ping key",
    responses=problems(409, 504),
)
async def rotate_ping_key(request: Request, state: State, check_id: str) -> PingKeyOut:
    """Give a push check a new random ping key and answer it, with its ping URL, this once;
    the old key gets 404 from then on. 409 for a check that is not a push check, or comes
    from the config file (its key is the file's)."""
    check = await run_blocking(request, state.context.store.get_check, check_id)
    if check is None:
        raise CheckNotFoundError(check_id)
    if check.type != PUSH_TYPE:
        raise ConflictError(f"check {check_id!r} is a {check.type} check; only push checks ping")
    if check.source is CheckSource.CONFIG:
        raise ConflictError(
            f"check {check_id!r} comes from the config file: its ping key is the file's "
            "token; change it there"
        )
    rotated = replace(
        check, params=MappingProxyType({**check.params, "token": generate_ping_key()})
    )
    await state.context.command(AddCheck(rotated), state.settings.command_timeout)
    state.live.invalidate()
    return ping_key_out(state, rotated, request)
