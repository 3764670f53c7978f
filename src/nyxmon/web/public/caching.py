"""Caching for public answers: a short server-side memo and HTTP validators (ETag, 304).

Status pages and badges are public and may be embedded in many READMEs and dashboards, so
their cost must not grow with their audience: each answer is computed at most once per
``ttl`` and carries ``Cache-Control: public, max-age`` plus a strong ETag.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from fastapi import Request, Response

from nyxmon.web.deps import WebState

__all__ = ["cacheable_response", "memo", "public_data_ttl"]

T = TypeVar("T")
_MAX_ENTRIES = 20_000


async def memo(state: WebState, key: str, ttl: float, compute: Callable[[], Awaitable[T]]) -> T:
    """``compute()``'s value, reused for ``ttl`` seconds under ``key``."""
    now = time.monotonic()
    hit = state.cache.get(key)
    if hit is not None and hit[0] > now:
        value: T = hit[1]
        return value
    value = await compute()
    if len(state.cache) >= _MAX_ENTRIES:
        state.cache.clear()
    state.cache[key] = (now + ttl, value)
    return value


def public_data_ttl(state: WebState) -> float:
    """How long the data behind a public answer is reused: its cache period minus the time the
    answer itself may be served from memory, so what a client gets is never older than
    ``public_max_age``."""
    settings = state.settings
    return max(0.5, float(settings.public_max_age) - settings.public_fresh)


def cacheable_response(
    request: Request,
    body: str | bytes,
    media_type: str,
    *,
    max_age: int,
    status_code: int = 200,
    headers: dict[str, Any] | None = None,
) -> Response:
    """``body`` with Cache-Control and an ETag, or 304 when the client's copy is current."""
    data = body.encode() if isinstance(body, str) else body
    etag = '"' + hashlib.sha256(data).hexdigest()[:32] + '"'
    common = {"Cache-Control": f"public, max-age={max_age}", "ETag": etag, **(headers or {})}
    given = request.headers.get("if-none-match", "")
    if status_code == 200 and etag in {tag.strip() for tag in given.split(",")}:
        return Response(status_code=304, headers=common)
    return Response(data, status_code=status_code, media_type=media_type, headers=common)
