"""Checks probed from several locations: each location's view, and the quorum that combines them.

A check may name the agent locations that probe it (``locations: [eu, us, ap]``) and how many
of them must see it down (``quorum``, a majority by default). Each location keeps its own
*view*: the verdict of the check's thresholds over that location's results alone (PENDING, UP,
DEGRADED or DOWN, with retries), since when, and when its last result came. The check's own
state, the one its alert machine keeps and notices come from, is fed the *combined* verdict:

=========================================  ==========================================
fresh views                                combined verdict
=========================================  ==========================================
at least ``quorum`` DOWN                   DOWN (since the quorum-th location went down)
at least ``quorum`` DOWN or DEGRADED       DEGRADED (since the quorum-th went bad)
fewer than ``quorum`` DOWN or DEGRADED     UP; the message names who sees a problem
none (every view stale or PENDING)         PENDING: nothing to feed, the state stays
=========================================  ==========================================

The combined verdict is the worst state that at least ``quorum`` locations agree the check is
in. One location seeing it down is shown on the check page (its view) and in the check's
message, but it is not a state of the check: a DEGRADED there would send DEGRADED notices
for one location's broken network, and a recovery through it would send two RECOVERED
notices (DOWN -> DEGRADED -> UP) where one outage ended.

A view is *stale* when its last result is older than two intervals and a lease period (its
agent, or the whole location, died and no one took its probes over yet): it does not count,
so a dead location can neither page nor hold a check down. Fewer fresh views than ``quorum``
can therefore never make a check DOWN: that is the point of a quorum (one location's broken
network must not page), and the page shows those views as stale.

Pure: times are passed in.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any

from nyxmon.domain.alerting.flapping import classify
from nyxmon.domain.alerting.thresholds import Thresholds
from nyxmon.domain.alerting.types import AlertPolicy, AlertState
from nyxmon.domain.model import Outcome, Result

__all__ = [
    "ANY_LOCATION",
    "Combined",
    "LocationView",
    "combine",
    "combined_result",
    "is_stale",
    "observe",
    "stale_after",
    "views_of",
]

#: The lease location of a check's state (its alert machine), which an agent anywhere holds.
ANY_LOCATION = "*"

_COUNTERS = tuple(f.name for f in fields(Thresholds))


@dataclass(frozen=True, slots=True)
class LocationView:
    """What one location sees of one check: its threshold verdict, since when, its last
    result (time and message) and the agent that probed it. ``counters`` are the thresholds'
    streaks, so an agent taking the location's probes over resumes them."""

    check_id: str
    location: str
    state: AlertState = AlertState.PENDING
    since: float | None = None
    last_result_at: float | None = None
    message: str = ""
    agent_id: int | None = None
    counters: Mapping[str, Any] | None = None

    def thresholds(self) -> Thresholds:
        """The streaks this view was judged from (fresh ones for a new view)."""
        if not self.counters:
            return Thresholds()
        values = {k: v for k, v in self.counters.items() if k in _COUNTERS}
        try:
            values["health"] = AlertState(values.get("health", AlertState.PENDING.value))
            return Thresholds(**values)
        except (TypeError, ValueError):
            return Thresholds()  # unreadable streaks start afresh: the next results decide


def views_of(
    check_id: str, locations: Sequence[str], views: Iterable[LocationView]
) -> list[LocationView]:
    """One view per location named, in their order (a PENDING one where none was stored):
    what pages, the API and the CLI list."""
    by_location = {view.location: view for view in views}
    return [by_location.get(name, LocationView(check_id, name)) for name in locations]


def observe(
    view: LocationView, result: Result, policy: AlertPolicy, *, agent_id: int | None
) -> tuple[LocationView, bool]:
    """The view after ``result``; True when the failure used a retry (run it again soon)."""
    counts = view.thresholds()
    retry = counts.observe(classify(result.ok, result.degraded), result.started_at, policy)
    since = counts.since if counts.health is not view.state else view.since
    if since is None:
        since = result.started_at
    snapshot = {name: getattr(counts, name) for name in _COUNTERS}
    snapshot["health"] = counts.health.value
    return (
        LocationView(
            view.check_id,
            view.location,
            counts.health,
            since,
            result.started_at,
            result.message,
            agent_id,
            snapshot,
        ),
        retry,
    )


def stale_after(interval: float, lease_seconds: float) -> float:
    """How old a view's last result may be before the view stops counting: two runs missed
    and the lease period another agent of its location needs to take the probes over."""
    return 2 * interval + lease_seconds


def is_stale(view: LocationView, now: float, limit: float) -> bool:
    return view.last_result_at is None or now - view.last_result_at > limit


@dataclass(frozen=True, slots=True)
class Combined:
    """The check's verdict from its locations' views (see the table in the module doc).

    ``since`` is when that verdict began, as the views tell it; ``latest`` the newest last
    result of a fresh view (what the combiner compares to feed each news once)."""

    state: AlertState
    since: float | None
    message: str
    quorum: int
    down: tuple[str, ...] = ()
    degraded: tuple[str, ...] = ()
    fresh: tuple[str, ...] = ()
    stale: tuple[str, ...] = ()
    latest: float | None = None


def combine(
    views: Iterable[LocationView],
    locations: Sequence[str],
    quorum: int,
    *,
    now: float,
    stale_limit: float,
) -> Combined:
    """Combine the views of ``locations`` (views of other locations are ignored: a location
    the check no longer names)."""
    wanted = set(locations)
    by_location = {v.location: v for v in views if v.location in wanted}
    fresh: list[LocationView] = []
    stale: list[str] = []
    for name in locations:
        view = by_location.get(name)
        if view is None or view.state is AlertState.PENDING:
            continue
        if is_stale(view, now, stale_limit):
            stale.append(name)
        else:
            fresh.append(view)
    down = [v for v in fresh if v.state is AlertState.DOWN]
    degraded = [v for v in fresh if v.state is AlertState.DEGRADED]
    troubled = down + degraded  # at least degraded
    up = [v for v in fresh if v.state is AlertState.UP]
    latest = max((v.last_result_at or 0.0 for v in fresh), default=None)
    names = tuple(v.location for v in fresh)
    counted = f"of {len(locations)}, quorum {quorum}"
    if not fresh:
        state, since, message = AlertState.PENDING, None, "no location has a fresh view"
    elif len(down) >= quorum:
        state = AlertState.DOWN
        since = _quorum_th(down, quorum)
        message = f"down from {_listed(down)} ({len(down)} {counted})"
        if down[0].message:
            message += f": {down[0].message}"
    elif len(troubled) >= quorum:
        state = AlertState.DEGRADED
        since = _quorum_th(troubled, quorum)
        message = f"degraded or down from {_listed(troubled)} ({len(troubled)} {counted})"
    else:
        # Fewer than the quorum see a problem: UP, and the words say who does see one.
        state = AlertState.UP
        since = max((v.since or 0.0 for v in up), default=latest)
        if down:
            message = f"down from {_listed(down)} only ({len(down)} {counted})"
        elif degraded:
            message = f"degraded from {_listed(degraded)} only ({len(degraded)} {counted})"
        else:
            message = f"up from {_listed(fresh)}"
    return Combined(
        state,
        since,
        message,
        quorum,
        tuple(v.location for v in down),
        tuple(v.location for v in degraded),
        names,
        tuple(stale),
        latest,
    )


def combined_result(check_id: str, combined: Combined, now: float) -> Result | None:
    """The combined verdict as the result the check's alert machine is fed (its thresholds
    are 1: each location applied the check's own already); None while PENDING."""
    if combined.state is AlertState.PENDING:
        return None
    at = combined.since if combined.since is not None else now
    outcome = Outcome.FAIL if combined.state is AlertState.DOWN else Outcome.OK
    return Result(
        check_id,
        scheduled_at=at,
        started_at=at,
        duration=0.0,
        outcome=outcome,
        message=combined.message,
        degraded=combined.state is AlertState.DEGRADED,
    )


def _quorum_th(views: Sequence[LocationView], quorum: int) -> float:
    """When the quorum-th of ``views`` went bad: when the quorum was reached."""
    return sorted(v.since or 0.0 for v in views)[quorum - 1]


def _listed(views: Sequence[LocationView]) -> str:
    return ", ".join(v.location for v in views)
