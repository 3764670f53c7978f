"""The REST API under ``/api/v1``: one module per resource, each with its own router."""

from __future__ import annotations

from fastapi import APIRouter

__all__ = ["routers"]


def routers() -> list[APIRouter]:
    from nyxmon.web.api import account, alerting, checks, history, ping_keys, services

    return [
        checks.router,
        ping_keys.router,
        history.router,
        services.router,
        alerting.router,
        account.router,
    ]
