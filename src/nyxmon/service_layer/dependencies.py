"""What handlers share besides the unit of work: live checks, alerting and the ports."""

from __future__ import annotations

from dataclasses import dataclass, field

from nyxmon.service_layer.alerting import Alerting, CheckState
from nyxmon.service_layer.location_views import LocationViews
from nyxmon.service_layer.ownership import Ownership
from nyxmon.service_layer.ports import (
    DeadlineTimer,
    Deliveries,
    NoDeadlines,
    ProbeControl,
    StatusSink,
)
from nyxmon.service_layer.push import PushBook

__all__ = ["Dependencies", "HandlerCounters"]


@dataclass(slots=True)
class HandlerCounters:
    """What the handlers counted; read through ``Application.statistics()``."""

    results: int = 0
    results_of_unknown_checks: int = 0
    pings: int = 0
    pings_unknown_key: int = 0
    pushes_missed: int = 0
    handler_errors: int = 0
    batches_committed: int = 0
    notifications_committed: int = 0
    write_failures: int = 0
    last_write_error: str = ""


@dataclass(slots=True)
class Dependencies:
    """Bound into every handler call; owned by the dispatcher thread.

    ``live`` holds the machine and status of every live check this agent runs (the single
    writer of live state); ``ownership`` says which checks those are; ``views`` the
    locations' views this agent keeps (checks probed from several locations);
    ``publish`` receives every status that changed (the status feed); ``push`` holds the
    push checks' trackers, whose deadlines ``deadlines`` wakes.
    """

    alerting: Alerting
    probes: ProbeControl
    deliveries: Deliveries
    publish: StatusSink
    live: dict[str, CheckState] = field(default_factory=dict)
    ownership: Ownership = field(default_factory=Ownership)
    views: LocationViews = field(default_factory=LocationViews)
    deadlines: DeadlineTimer = field(default_factory=NoDeadlines)
    push: PushBook = field(default_factory=PushBook)
    counters: HandlerCounters = field(default_factory=HandlerCounters)
