"""Commands (requests to change something) and events (facts) of the message bus.

Commands have exactly one handler and may be refused; events have any number of handlers and
only report what already happened (cosmicpython's split).
"""

from __future__ import annotations

from dataclasses import dataclass

from nyxmon.domain.model import Check, Result, Service
from nyxmon.service_layer.records.alerts import OutboxRow, OutboxUpdate, StateRow, Transition

__all__ = [
    "AddCheck",
    "ApplyConfig",
    "ChecksChanged",
    "Command",
    "ConfigApplied",
    "Message",
    "RecordAlertChanges",
    "RecordDelivery",
    "RecordResult",
    "RemoveCheck",
    "ResultsCommitted",
    "SetPaused",
    "SyncChecks",
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
class RecordResult(Command):
    """A probe finished; keep its result (committed with the rest of the dispatcher batch)."""

    result: Result


@dataclass(frozen=True, slots=True)
class RecordAlertChanges(Command):
    """A check's state machine moved: keep its state, the transition and the notifications it
    decided, in the same transaction as the results of this dispatcher batch."""

    states: tuple[StateRow, ...] = ()
    transitions: tuple[Transition, ...] = ()
    outbox: tuple[OutboxRow, ...] = ()


@dataclass(frozen=True, slots=True)
class RecordDelivery(Command):
    """A delivery attempt ended (delivered, to be retried, or given up): keep its outcome."""

    update: OutboxUpdate


@dataclass(frozen=True, slots=True)
class ApplyConfig(Command):
    """Make the config-sourced services and checks in the store equal to these."""

    services: tuple[Service, ...]
    checks: tuple[Check, ...]


@dataclass(frozen=True, slots=True)
class SyncChecks(Command):
    """The store's live checks are these now (another process changed them)."""

    checks: tuple[Check, ...]


@dataclass(frozen=True, slots=True)
class AddCheck(Command):
    """Add or update a check owned by the API/CLI (``source: api``)."""

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
class ChecksChanged(Event):
    """The set of live checks changed; the scheduler and sessions follow it."""

    checks: tuple[Check, ...]


@dataclass(frozen=True, slots=True)
class ConfigApplied(Event):
    """The config file was reconciled into the store."""

    added: tuple[str, ...]
    changed: tuple[str, ...]
    removed: tuple[str, ...]
    checks: tuple[Check, ...]


@dataclass(frozen=True, slots=True)
class ResultsCommitted(Event):
    """A batch of results is durable."""

    count: int


@dataclass(frozen=True, slots=True)
class WriteFailed(Event):
    """A staged write failed; ``error`` says why, ``what`` says which write."""

    what: str
    error: str
