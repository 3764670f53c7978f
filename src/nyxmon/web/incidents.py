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
from dataclasses import dataclass, replace

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
    a first transition *out of* a failing state (its start lies before them) is skipped.

    A return to ``down`` that began before the previous incident of its check ended (after a
    flap, a maintenance window or a pause, with no recovery between: the machine gives it the
    outage's start) continues that incident instead of opening an overlapping one."""
    ordered = sorted(transitions, key=lambda t: (t.check_id, t.at))
    closed: dict[str, list[Incident]] = {}
    open_: dict[str, Incident] = {}
    for transition in ordered:
        check_id = transition.check_id
        started = open_.get(check_id)
        if transition.to_state in FAILING:
            if started is None:
                before = closed.get(check_id)
                ended = before[-1].end if before else None
                if before and ended is not None and transition.began <= ended:
                    open_[check_id] = replace(before.pop(), end=None)
                else:
                    open_[check_id] = _incident(transition)
            continue
        if started is not None:
            del open_[check_id]
            end = max(started.start, transition.began)
            closed.setdefault(check_id, []).append(replace(started, end=end))
    found = [incident for items in closed.values() for incident in items]
    found.extend(open_.values())
    found.sort(key=lambda incident: incident.start, reverse=True)
    return found


def _incident(started: Transition) -> Incident:
    return Incident(started.check_id, started.to_state, started.began, None, started.message)
