"""Public routes: status pages, badges and ``/metrics`` (no login; cacheable)."""

from __future__ import annotations

from fastapi import APIRouter

__all__ = ["routers"]


def routers() -> list[APIRouter]:
    from nyxmon.web.public import badges, metrics, status

    return [status.router, badges.router, metrics.router]
