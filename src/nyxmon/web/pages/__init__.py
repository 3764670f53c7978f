"""The dashboard: server-rendered pages (Jinja2 + htmx) for signed-in users.

``router`` is included by :func:`nyxmon.web.app.create_app` ahead of every other route, so
its ``/`` replaces the placeholder overview. Pages:

- ``/``: every check with state, last result, beats, 24 h uptime and latency sparkline;
  filters and search; grouped by service; live over ``/events`` (:mod:`.overview`).
- ``/checks/{id}``: chart, per-phase timings, incidents, failing conditions (:mod:`.check_page`).
- ``/checks/new`` and ``/checks/{id}/edit``: forms for every check type, generated from the
  type's pydantic model and validated like the config file (:mod:`.check_forms`).
- ``/account``: the user's sessions and "Sign out everywhere" (:mod:`.account`).

Templates live in ``web/templates/pages/``; the browser side is ``static/js/*.js``.
"""

from __future__ import annotations

from fastapi import APIRouter

from nyxmon.web.deps import page_router

__all__ = ["router"]


def _router() -> APIRouter:
    from nyxmon.web.pages.account import router as account
    from nyxmon.web.pages.check_forms import router as forms
    from nyxmon.web.pages.check_page import router as check
    from nyxmon.web.pages.overview import router as overview

    main = page_router(include_in_schema=False)
    # The form routes come first: /checks/new must win over /checks/{check_id}.
    for sub in (overview, forms, check, account):
        main.include_router(sub)
    return main


router = _router()
