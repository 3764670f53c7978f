"""Uptime Kuma-style beats and the 24 h uptime figure for the checks a browser shows.

The store has no read that answers this for many checks at once, so the overview asks only
for the rows on screen (the browser batches the ids it sees, at most :data:`MAX_IDS` a
request) and each check costs two small indexed reads: its newest :data:`BEATS` results and
at most 24 hourly rollup rows. The cost is bounded by what is visible, never by the number of
checks.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from typing import Any

from nyxmon.domain.model import Result
from nyxmon.errors import CheckNotFoundError
from nyxmon.store.base import Store
from nyxmon.store.records import DAY, HOUR

__all__ = ["BEATS", "MAX_IDS", "beat_code", "beats_of", "uptime_of_rollups"]

#: Results one beats bar shows.
BEATS = 30
#: Checks one request may ask for (a page of the overview).
MAX_IDS = 200


def beat_code(result: Result) -> str:
    """``u`` passed, ``g`` passed but degraded, ``d`` failed (fail, error or timeout)."""
    if not result.ok:
        return "d"
    return "g" if result.degraded else "u"


def uptime_of_rollups(store: Store, check_id: str, now: float) -> float | None:
    """Percentage of passing runs in the 24 complete hours before the current one."""
    end = math.floor(now / HOUR) * HOUR
    rows = store.rollups(check_id, level="hourly", since=end - DAY, until=end)
    count = sum(row.count for row in rows)
    if not count:
        return None
    return round(100.0 * sum(row.ok_count for row in rows) / count, 3)


def beats_of(
    store: Store, check_ids: Sequence[str], *, now: float | None = None, beats: int = BEATS
) -> dict[str, Any]:
    """``{"beats": n, "checks": {id: {"beats": [[t, code, ms], ...], "uptime_24h": pct}}}``,
    beats oldest first; checks that vanished meanwhile are left out (blocking)."""
    now = time.time() if now is None else now
    out: dict[str, Any] = {}
    for check_id in dict.fromkeys(check_ids[:MAX_IDS]):
        try:
            page = store.results(check_id, limit=beats)
            uptime = uptime_of_rollups(store, check_id, now)
        except CheckNotFoundError:
            continue
        items = [
            [
                round(stored.result.started_at, 3),
                beat_code(stored.result),
                round(stored.result.duration * 1000, 1),
            ]
            for stored in reversed(page.items)
        ]
        out[check_id] = {"beats": items, "uptime_24h": uptime}
    return {"beats": beats, "checks": out}
