"""Commands (requests to change something) and events (facts) of the message bus.

Commands have exactly one handler and may be refused; events have any number of handlers and
only report what already happened (cosmicpython's split). Every way into the application is
one of these: the probe loop sends :class:`RecordResults`, the notifier
:class:`RecordDeliveries`, the web plane and the CLI the catalog commands.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from nyxmon.domain.alerting.maintenance import MaintenanceWindow
from nyxmon.domain.alerting.types import AlertPolicy, Route
from nyxmon.domain.locations import LocationView
from nyxmon.domain.model import Check, Result, Service
from nyxmon.domain.push import Ping
from nyxmon.service_layer.records.alerts import OutboxEntry, OutboxUpdate, StateRow

__all__ = [
    "AddCheck",
    "AlertSettings",
    "ApplyAlertSettings",
    "ApplyConfig",
    "BatchCommitted",
    "CatalogChanged",
    "ChecksChanged",
    "ChecksTakenOver",
    "CombineViews",
    "Command",
    "ConfigApplied",
    "Event",
    "Message",
    "PushDeadline",
    "RecordDeliveries",
    "RecordPing",
    "RecordResults",
    "RemoveCheck",
    "RemoveService",
    "RestorePushes",
    "RestoreStates",
    "SaveQuietStates",
    "SaveService",
    "SetLeases",
    "SetPaused",
    "SyncChecks",
    "Tick",
    "WriteFailed",
]


class Command:
    """Base of commands."""

    __slots__ = ()


class Event:
    """Base of events."""

    __slots__ = ()


Message = Command | Event


@dataclass(frozen=True, slots=True)
class AlertSettings:
    """The alerting part of the config, swapped as a whole on reload."""

    routes: tuple[Route, ...] = ()
    windows: tuple[MaintenanceWindow, ...] = ()
    default_policy: AlertPolicy = field(default_factory=AlertPolicy)


# -- probes and timers ---------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class RecordResults(Command):
    """Probe runs finished (in this order): each result goes to its check's state machine, and
    the result with everything the machine decided is staged for one commit."""

    results: Sequence[Result]


@dataclass(frozen=True, slots=True)
class Tick(Command):
    """Time passed: wake machines whose timers are due (reminders, escalation, maintenance)
    and save snapshots that changed without a notice. ``now`` defaults to the clock."""

    now: float | None = None


@dataclass(frozen=True, slots=True)
class SaveQuietStates(Command):
    """Save up to ``limit`` snapshots that changed quietly, however recently (at shutdown);
    the handler answers how many it took, 0 when none are left."""

    limit: int = 500


@dataclass(frozen=True, slots=True)
class RestoreStates(Command):
    """The alert states saved by the last run, so each machine resumes where it was (sent
    once, before the first check is applied)."""

    states: Mapping[str, StateRow]


# -- push checks ---------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class RecordPing(Command):
    """A ping arrived for the push check with its key. The reply is a one-shot that resolves
    with the check's id once the ping's result committed; an unknown key is refused with
    :class:`~nyxmon.errors.PingKeyNotFoundError`."""

    ping: Ping


@dataclass(frozen=True, slots=True)
class PushDeadline(Command):
    """A push check's deadline timer fired (``at`` is the deadline it was armed for)."""

    check_id: str
    at: float


@dataclass(frozen=True, slots=True)
class RestorePushes(Command):
    """Each push check's newest stored result, so its tracker resumes after a restart."""

    latest: Mapping[str, Result]


# -- notifications -------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class RecordDeliveries(Command):
    """Delivery attempts ended (delivered, to be retried, or given up): keep their outcomes."""

    updates: Sequence[OutboxUpdate]


# -- the catalog of checks and services ----------------------------------------------------------
@dataclass(frozen=True, slots=True)
class ApplyConfig(Command):
    """Make the config-sourced services and checks in the store equal to these."""

    services: tuple[Service, ...]
    checks: tuple[Check, ...]


@dataclass(frozen=True, slots=True)
class ApplyAlertSettings(Command):
    """The config's routes, maintenance windows and default policy changed (a reload)."""

    settings: AlertSettings


@dataclass(frozen=True, slots=True)
class SyncChecks(Command):
    """The store's live checks are these now (another process changed them)."""

    checks: tuple[Check, ...]


@dataclass(frozen=True, slots=True)
class AddCheck(Command):
    """Add or replace a check owned by the API/CLI (``source: api``); its service is created
    (API-owned) in the same transaction when it does not exist yet."""

    check: Check


@dataclass(frozen=True, slots=True)
class RemoveCheck(Command):
    """Delete an API-owned check and its history."""

    check_id: str


@dataclass(frozen=True, slots=True)
class SetPaused(Command):
    """Pause or resume a check: a paused check keeps its history but is not run."""

    check_id: str
    paused: bool


@dataclass(frozen=True, slots=True)
class SaveService(Command):
    """Create (``create=True``, refused if it exists) or change an API-owned service."""

    service: Service
    create: bool


@dataclass(frozen=True, slots=True)
class RemoveService(Command):
    """Delete an API-owned service that has no checks."""

    name: str


@dataclass(frozen=True, slots=True)
class SetLeases(Command):
    """The checks this agent holds leases on now (several agents on one store).

    ``states`` are the saved snapshots of checks just gained, read from the store after the
    lease was won: the machine resumes from what the previous owner left. Checks no longer
    held go at once; with ``save_released`` their snapshots are saved first (a lease given
    up on purpose), and ``on_saved`` is called once that save is committed (then the lease
    may be freed for another agent). A lease lost is not saved: another agent owns it now.
    """

    owned: frozenset[str]
    states: Mapping[str, StateRow] = field(default_factory=dict)
    save_released: bool = False
    on_saved: Callable[[], None] | None = None
    #: Gained checks whose previous holder died: their missed run happens at once.
    run_now: frozenset[str] = frozenset()
    #: The stored views of probe leases just gained (check id -> view), to resume them.
    views: Mapping[str, LocationView] = field(default_factory=dict)
    #: This agent's id among the agents (the views it keeps name it).
    agent_id: int | None = None


@dataclass(frozen=True, slots=True)
class CombineViews(Command):
    """The stored views of the located checks whose state lease this agent holds (check id
    -> views): their machines are fed the combined verdict (:mod:`.location_views`).
    ``lease_seconds`` is part of how old a view may be before it stops counting."""

    views: Mapping[str, tuple[LocationView, ...]]
    lease_seconds: float
    now: float | None = None
    #: The newest stored result of each check (any location's): what its status shows, as
    #: every reader of the store rebuilds it (:mod:`.stored_status`).
    latest: Mapping[str, Result] = field(default_factory=dict)


# -- events --------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class CatalogChanged(Event):
    """The store's live checks changed (the config applied, a check edited here or
    elsewhere); this agent follows the ones it runs (:class:`ChecksChanged`)."""

    checks: tuple[Check, ...]


@dataclass(frozen=True, slots=True)
class ChecksTakenOver(Event):
    """This agent now runs checks whose previous holder died: run each once now (after
    :class:`ChecksChanged` put them on the schedule), not only at its next slot."""

    check_ids: frozenset[str]


@dataclass(frozen=True, slots=True)
class ChecksChanged(Event):
    """The set of checks this agent runs changed; machines and the scheduler follow it.

    ``checks`` get a machine; ``probed`` are the checks probed here, each with the location
    whose view its results go to (None: to its machine). Without ``probed`` (one agent on its
    store) the checks with a machine are the ones probed."""

    checks: tuple[Check, ...]
    probed: Mapping[str, tuple[Check, str | None]] | None = None


@dataclass(frozen=True, slots=True)
class ConfigApplied(Event):
    """The config file was reconciled into the store."""

    added: tuple[str, ...]
    changed: tuple[str, ...]
    removed: tuple[str, ...]
    checks: tuple[Check, ...]


@dataclass(frozen=True, slots=True)
class BatchCommitted(Event):
    """A batch is durable: its results, states and the notifications it created."""

    results: int
    notifications: tuple[OutboxEntry, ...]
    seconds: float


@dataclass(frozen=True, slots=True)
class WriteFailed(Event):
    """A write failed; ``what`` says which, ``error`` why. Batches are retried."""

    what: str
    error: str
