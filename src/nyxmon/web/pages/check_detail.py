"""What the check page shows, read from the store in one worker-thread call.

A handful of bounded reads for one check: its newest result (the failure panel), one page of
results (per-phase timings; keyset pages further back with a :class:`ResultCursor`), uptime
and latency over the standard windows, and the incidents of the last 90 days paired from its
state transitions. The page and each live refresh of it read the same way, so what a refresh
shows is what a reload would. Pure helpers turn a result's timings into the segments of a
stacked bar.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from nyxmon.domain.history.figures import DAY, WINDOWS, Availability
from nyxmon.domain.model import Check, Result
from nyxmon.errors import CheckNotFoundError
from nyxmon.service_layer.records.results import ResultCursor, StoredResult
from nyxmon.service_layer.storage import Store
from nyxmon.web.incidents import Incident, incidents_from
from nyxmon.web.pages.beats import uptime_24h

__all__ = [
    "PHASE_LABELS",
    "CheckDetail",
    "PhaseRow",
    "RecentPage",
    "load_detail",
    "load_recent",
    "phase_columns",
    "phase_row",
]

RECENT = 20
INCIDENTS = 20
#: Known timing keys in the order a request goes through them, and how they are called.
PHASE_LABELS: Mapping[str, str] = {
    "dns": "DNS",
    "connect": "Connect",
    "tls": "TLS",
    "first_byte": "First byte",
    "query": "Query",
    "total": "Total",
}
_SEGMENTS = ("dns", "connect", "tls")


@dataclass(frozen=True, slots=True)
class PhaseRow:
    """One result's timings: the values by key and the stacked bar's ``(name, share, s)``."""

    stored: StoredResult
    values: Mapping[str, float]
    segments: tuple[tuple[str, float, float], ...]

    @property
    def result(self) -> Result:
        return self.stored.result


def phase_row(stored: StoredResult) -> PhaseRow:
    """Segments of a request: DNS, connect and TLS as measured; ``wait`` the rest of the time
    to the first byte (the server working); ``transfer`` the rest to the total. Checks with
    other timings (DNS queries) show each of their phases as measured."""
    timings = dict(stored.result.timings)
    total = timings.get("total") or stored.result.duration
    segments: list[tuple[str, float]] = []
    if "first_byte" in timings:
        spent = 0.0
        for key in _SEGMENTS:
            if key in timings:
                segments.append((key, timings[key]))
                spent += timings[key]
        segments.append(("wait", max(0.0, timings["first_byte"] - spent)))
        segments.append(("transfer", max(0.0, total - timings["first_byte"])))
    else:
        segments = [(k, v) for k, v in timings.items() if k != "total"]
    scale = total if total and total > 0 else sum(v for _, v in segments) or 1.0
    shares = tuple((name, min(1.0, max(0.0, value / scale)), value) for name, value in segments)
    return PhaseRow(stored, timings, shares)


def phase_columns(rows: Sequence[PhaseRow]) -> list[str]:
    """The timing keys any of ``rows`` has, known ones first in request order."""
    seen: dict[str, None] = {}
    for row in rows:
        seen.update(dict.fromkeys(row.values))
    known = [key for key in PHASE_LABELS if key in seen and key != "total"]
    other = sorted(key for key in seen if key not in PHASE_LABELS)
    return [*known, *other, *(["total"] if "total" in seen else [])]


@dataclass(frozen=True, slots=True)
class RecentPage:
    """One page of a check's results, newest first: the first (``cursor`` None) or the one
    after ``cursor``; ``next_cursor`` leads further back (None on the last page)."""

    rows: list[PhaseRow]
    columns: list[str]
    cursor: ResultCursor | None
    next_cursor: ResultCursor | None


@dataclass(frozen=True, slots=True)
class CheckDetail:
    check: Check
    latest: Result | None
    recent: RecentPage
    windows: Mapping[str, Availability]
    incidents: list[Incident]
    #: The overview's 24 h figure (the same function computes both).
    uptime_24h: float | None
    now: float

    @property
    def failed_conditions(self) -> list[str]:
        latest = self.latest
        if latest is None or latest.ok:
            return []
        failed: Any = latest.details.get("failed_conditions", [])
        return [str(item) for item in failed] if isinstance(failed, list | tuple) else []


def load_recent(store: Store, check_id: str, after: ResultCursor | None = None) -> RecentPage:
    page = store.results(check_id, limit=RECENT, after=after)
    rows = [phase_row(stored) for stored in page.items]
    return RecentPage(rows, phase_columns(rows), after, page.next_cursor)


def load_detail(
    store: Store, check_id: str, now: float | None = None, after: ResultCursor | None = None
) -> CheckDetail:
    """Everything the check page needs (blocking); CheckNotFoundError for an unknown id.
    ``after`` picks the page of results the page shows (the newest without)."""
    now = time.time() if now is None else now
    check = store.get_check(check_id)
    if check is None:
        raise CheckNotFoundError(check_id)
    recent = load_recent(store, check_id, after)
    if after is None:
        latest = recent.rows[0].result if recent.rows else None
    else:
        newest = store.latest_results([check_id]).get(check_id)
        latest = newest.result if newest is not None else None
    windows = {
        name: store.availability(check_id, now=now, window=seconds)
        for name, seconds in WINDOWS.items()
    }
    since = now - 90 * DAY
    transitions = list(store.transitions(check_id, since=since, limit=10 * INCIDENTS))
    transitions.extend(store.transitions(check_id, until=since, limit=1))
    incidents = incidents_from(transitions)[:INCIDENTS]
    uptime = uptime_24h(store, [check_id], now=now).get(check_id)
    return CheckDetail(check, latest, recent, windows, incidents, uptime, now)
