"""Public routes: status pages, badges and ``/metrics`` (no login; cacheable)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the agent imports check_metrics from here: no web framework for it
    from fastapi import APIRouter

__all__ = ["routers"]


def routers() -> list[APIRouter]:
    from nyxmon.web.public import badges, metrics, status

    return [status.router, badges.router, metrics.router]
