"""The web plane: REST API, dashboard pages, status pages, badges, /metrics, live events.

``create_app(agent, settings)`` builds the FastAPI app; ``WebServer(app, host, port).start()``
serves it on its own thread and event loop inside the agent process. See :mod:`.app` for where
pages, API routes and static files go.

Names are imported on first use, so ``nyxmon.web.auth`` (used by the CLI) does not pull in
FastAPI and uvicorn.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from nyxmon.web.app import API_PREFIX, PUBLIC_ROUTES, create_app
    from nyxmon.web.server import WebServer, WebServerError
    from nyxmon.web.settings import WebSettings

__all__ = [
    "API_PREFIX",
    "PUBLIC_ROUTES",
    "WebServer",
    "WebServerError",
    "WebSettings",
    "create_app",
]

_WHERE = {
    "API_PREFIX": "nyxmon.web.app",
    "PUBLIC_ROUTES": "nyxmon.web.app",
    "create_app": "nyxmon.web.app",
    "WebServer": "nyxmon.web.server",
    "WebServerError": "nyxmon.web.server",
    "WebSettings": "nyxmon.web.settings",
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'nyxmon.web' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
