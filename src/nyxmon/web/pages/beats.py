"""Uptime Kuma-style beats and the 24 h uptime figure for the checks a browser shows.

The overview asks only for the rows on screen (the browser batches the ids it sees, at most
:data:`MAX_IDS` a request), and the answer takes a few indexed queries whatever the number of
ids: the newest :data:`BEATS` results of each (``recent_results``) and their 24 h uptime
(``uptime_many``: the same figure the check page, API, badges and status page show, see
:mod:`nyxmon.domain.history.uptime`). The cost is bounded by what is visible, never by the
number of checks.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from nyxmon.domain.history.figures import DAY
from nyxmon.service_layer.records.results import ResultPoint
from nyxmon.service_layer.storage import Store

__all__ = ["BEATS", "MAX_IDS", "beat_code", "beats_of", "uptime_24h"]

#: Results one beats bar shows.
BEATS = 30
#: Checks one request may ask for (a page of the overview).
MAX_IDS = 200


def beat_code(result: ResultPoint) -> str:
    """``u`` passed, ``g`` passed but degraded, ``d`` failed (fail, error or timeout)."""
    if not result.ok:
        return "d"
    return "g" if result.degraded else "u"


def uptime_24h(
    store: Store, check_ids: Sequence[str], *, now: float | None = None
) -> dict[str, float | None]:
    """The 24 h uptime of each of ``check_ids`` as every view shows it (the store's one
    definition: whole hours plus the current one), in one read (blocking)."""
    now = time.time() if now is None else now
    uptime = store.uptime_many(list(check_ids), now=now, window=DAY)
    return {
        check_id: (day.pct if (day := uptime.get(check_id)) is not None else None)
        for check_id in check_ids
    }


def beats_of(
    store: Store, check_ids: Sequence[str], *, now: float | None = None, beats: int = BEATS
) -> dict[str, Any]:
    """``{"beats": n, "checks": {id: {"beats": [[t, code, ms], ...], "uptime_24h": pct}}}``,
    beats oldest first, for the first :data:`MAX_IDS` of ``check_ids`` (blocking). The caller
    passes only ids of checks that exist; one without results gets an empty bar."""
    now = time.time() if now is None else now
    ids = list(dict.fromkeys(check_ids[:MAX_IDS]))
    recent = store.recent_points(ids, limit=beats)
    uptimes = uptime_24h(store, ids, now=now)
    out: dict[str, Any] = {}
    for check_id in ids:
        items = [
            [round(point.started_at, 3), beat_code(point), round(point.duration * 1000, 1)]
            for point in reversed(recent.get(check_id, ()))
        ]
        out[check_id] = {"beats": items, "uptime_24h": uptimes[check_id]}
    return {"beats": beats, "checks": out}
