"""The caller and their API tokens: ``/me``, ``/tokens`` (create, list, revoke), ``/agent``.

A token's secret is returned once, at creation; only its SHA-256 is stored. Revoking takes
effect at once in this process (the token cache is dropped) and within seconds for tokens
revoked by ``nyxmon token revoke`` from another process.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

from fastapi import Request, Response
from pydantic import BaseModel, Field

from nyxmon.service_layer.records.accounts import TokenScope
from nyxmon.web.api.schemas import TokenCreate, TokenCreated, TokenOut, token_out
from nyxmon.web.deps import ApiUser, State, api_router, run_blocking
from nyxmon.web.problems import Problem

__all__ = ["router"]

router = api_router(tags=["account"])


class MeOut(BaseModel):
    user: str
    via: Literal["session", "token"]
    csrf_token: str | None
    scope: Annotated[
        TokenScope,
        Field(description="What the caller may do: read (GET and HEAD) or admin (everything)"),
    ]


class AgentOut(BaseModel):
    """How the monitor itself is doing: whether a part of it failed, how many browsers
    follow live updates, and its working figures (probe delays, queues, storage)."""

    failure: str | None
    events_clients: int
    statistics: dict[str, Any]


@router.get("/me", summary="Who is calling")
async def me(user: ApiUser) -> MeOut:
    """The signed-in user or the token's owner, how they signed in and their scope (signed-in
    users may do everything). Callers with a session cookie also get the CSRF token their
    changes must carry (`X-CSRF-Token`)."""
    return MeOut(user=user.user, via=user.via, csrf_token=user.csrf_token, scope=user.scope)


@router.get("/tokens", summary="API tokens (secrets are never shown again)")
async def list_tokens(request: Request, state: State) -> list[TokenOut]:
    """Every API token: name, owner, when it was created, last used and revoked. The token
    itself is shown once, when it is created."""
    records = await run_blocking(request, state.context.store.list_tokens)
    return [token_out(record) for record in records]


@router.post("/tokens", status_code=201, summary="Create an API token")
async def create_token(
    request: Request, state: State, user: ApiUser, body: TokenCreate
) -> TokenCreated:
    """Create a token for scripts (`Authorization: Bearer ...`); the answer holds the token,
    which is never shown again: keep it. Its `scope` is `read` (GET and HEAD only) unless
    `admin` is asked for."""
    raw, record = await run_blocking(
        request, state.auth.create_token_blocking, body.name.strip(), user.user, body.scope
    )
    return TokenCreated(token=raw, **token_out(record).model_dump())


@router.delete("/tokens/{token_id}", status_code=204, summary="Revoke an API token")
async def revoke_token(request: Request, state: State, token_id: int) -> Response:
    """Revoke a token: requests carrying it are refused from then on. 404 if there is no
    live token with this id."""
    if not await run_blocking(request, state.auth.revoke_token_blocking, token_id):
        raise Problem(404, f"no live API token with id {token_id}", kind="token-not-found")
    return Response(status_code=204)


@router.get("/agent", summary="The monitor's own health")
async def agent(state: State) -> AgentOut:
    """Whether every part of the monitor works (`failure` names the first that failed) and
    its working figures, for troubleshooting."""
    return AgentOut(
        failure="; ".join(state.context.health().problems) or None,
        events_clients=state.hub.clients,
        statistics=_json_safe(dict(await state.context.statistics())),
    )


def _json_safe(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)
