"""The account page: ``/account`` lists the signed-in user's sessions and signs them all out.

- ``GET /account``: every live session of the user (when it began, when it was last used,
  from which address and browser), this one marked.
- ``POST /account/sign-out-everywhere``: ends every session of the user, this one included
  (a phone left signed in, a shared computer); the browser goes to the login page. The same
  as ``nyxmon user sign-out USER``.
"""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import Response

from nyxmon.web.deps import PageUser, State, page_router, run_blocking
from nyxmon.web.login import signed_out
from nyxmon.web.pages.render import render

__all__ = ["router"]

router = page_router(include_in_schema=False)


@router.get("/account")
async def account(request: Request, state: State, user: PageUser) -> Response:
    sessions = await run_blocking(request, state.sessions.list_blocking, user.user)
    return await render(
        request,
        state,
        "pages/account.html",
        {
            "section": "account",
            "sessions": sessions,
            "current": user.session,
            "idle": state.sessions.idle,
            "max_age": state.sessions.max_age,
        },
    )


@router.post("/account/sign-out-everywhere")
async def sign_out_everywhere(request: Request, state: State, user: PageUser) -> Response:
    await run_blocking(request, state.sessions.end_all_blocking, user.user)
    return signed_out(request, state)
