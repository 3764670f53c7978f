"""Uptime Kuma-style beats and the 24 h uptime figure for the checks a browser shows.

The overview asks only for the rows on screen (the browser batches the ids it sees, at most
:data:`MAX_IDS` a request), and the answer takes two indexed queries whatever the number of
ids: the newest :data:`BEATS` results of each (``recent_results``) and their hourly rollups
of the last complete day (``rollups_many``). The cost is bounded by what is visible, never by
the number of checks.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from typing import Any

from nyxmon.domain.history.figures import DAY, HOUR
from nyxmon.domain.history.rollups import RollupRow
from nyxmon.domain.model import Result
from nyxmon.service_layer.storage import Store

__all__ = ["BEATS", "MAX_IDS", "beat_code", "beats_of", "uptime_24h", "uptime_of_rollups"]

#: Results one beats bar shows.
BEATS = 30
#: Checks one request may ask for (a page of the overview).
MAX_IDS = 200


def beat_code(result: Result) -> str:
    """``u`` passed, ``g`` passed but degraded, ``d`` failed (fail, error or timeout)."""
    if not result.ok:
        return "d"
    return "g" if result.degraded else "u"


def uptime_of_rollups(rows: Sequence[RollupRow]) -> float | None:
    """Percentage of passing runs in ``rows`` (None when they hold no runs)."""
    count = sum(row.count for row in rows)
    if not count:
        return None
    return round(100.0 * sum(row.ok_count for row in rows) / count, 3)


def uptime_24h(
    store: Store, check_ids: Sequence[str], *, now: float | None = None
) -> dict[str, float | None]:
    """The 24 h uptime the dashboard shows (the overview's column, the check page's head) of
    each of ``check_ids``: one definition for both, in one query (blocking)."""
    now = time.time() if now is None else now
    end = math.floor(now / HOUR) * HOUR  # the 24 complete hours before the current one
    rollups = store.rollups_many(list(check_ids), level="hourly", since=end - DAY, until=end)
    return {check_id: uptime_of_rollups(rollups.get(check_id, ())) for check_id in check_ids}


def beats_of(
    store: Store, check_ids: Sequence[str], *, now: float | None = None, beats: int = BEATS
) -> dict[str, Any]:
    """``{"beats": n, "checks": {id: {"beats": [[t, code, ms], ...], "uptime_24h": pct}}}``,
    beats oldest first, for the first :data:`MAX_IDS` of ``check_ids`` (blocking). The caller
    passes only ids of checks that exist; one without results gets an empty bar."""
    now = time.time() if now is None else now
    ids = list(dict.fromkeys(check_ids[:MAX_IDS]))
    recent = store.recent_results(ids, limit=beats)
    uptimes = uptime_24h(store, ids, now=now)
    out: dict[str, Any] = {}
    for check_id in ids:
        items = [
            [
                round(stored.result.started_at, 3),
                beat_code(stored.result),
                round(stored.result.duration * 1000, 1),
            ]
            for stored in reversed(recent.get(check_id, ()))
        ]
        out[check_id] = {"beats": items, "uptime_24h": uptimes[check_id]}
    return {"beats": beats, "checks": out}
