"""Incidents read from state history: a period a check spent DOWN, from its transitions.

An incident starts with a transition into ``down`` and ends with the next transition out of
it; one without an end is ongoing. Its times are when those states *began* by the alert
machine's account (:attr:`Transition.began`), not when the change was decided: the outage
starts at the first failing run of the streak that led to DOWN (what the DOWN notice says)
and ends at the first good run of the streak that ended it (so its duration is the RECOVERED
notice's). Pure: the routes fetch transitions, this pairs them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from nyxmon.service_layer.records.alerts import Transition

__all__ = ["FAILING", "Incident", "incidents_from"]

#: States that make an incident.
FAILING: frozenset[str] = frozenset({"down"})


@dataclass(frozen=True, slots=True)
class Incident:
    check_id: str
    state: str
    start: float
    end: float | None
    message: str

    @property
    def ongoing(self) -> bool:
        return self.end is None

    def duration(self, now: float) -> float:
        return max(0.0, (self.end if self.end is not None else now) - self.start)


def incidents_from(transitions: Iterable[Transition]) -> list[Incident]:
    """Incidents of any number of checks, newest first. Transitions may come in any order;
    a first transition *out of* a failing state (its start lies before them) is skipped."""
    ordered = sorted(transitions, key=lambda t: (t.check_id, t.at))
    found: list[Incident] = []
    open_: dict[str, Transition] = {}
    for transition in ordered:
        started = open_.get(transition.check_id)
        if transition.to_state in FAILING:
            if started is None:
                open_[transition.check_id] = transition
            continue
        if started is not None:
            del open_[transition.check_id]
            found.append(_incident(started, transition.began))
    found.extend(_incident(started, None) for started in open_.values())
    found.sort(key=lambda incident: incident.start, reverse=True)
    return found


def _incident(started: Transition, end: float | None) -> Incident:
    start = started.began
    return Incident(
        started.check_id,
        started.to_state,
        start,
        None if end is None else max(start, end),
        started.message,
    )
