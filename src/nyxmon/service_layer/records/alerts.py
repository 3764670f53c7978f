"""What alerting writes and reads: state snapshots, transitions and outbox rows."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["OutboxEntry", "OutboxRow", "OutboxUpdate", "StateRow", "Transition"]


@dataclass(frozen=True, slots=True)
class StateRow:
    """A check's alert state and the machine snapshot (JSON-safe) to resume it from."""

    check_id: str
    state: str
    since: float | None
    snapshot: Mapping[str, Any]
    updated_at: float


@dataclass(frozen=True, slots=True)
class Transition:
    """One state change of a check."""

    check_id: str
    at: float
    from_state: str
    to_state: str
    message: str = ""


@dataclass(frozen=True, slots=True)
class OutboxRow:
    """A notification to deliver: one notice for one route; ``key`` is its idempotency key."""

    key: str
    check_id: str
    route: str
    kind: str
    payload: Mapping[str, Any]
    created_at: float
    next_attempt_at: float


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    """A stored outbox row."""

    id: int
    key: str
    check_id: str
    route: str
    kind: str
    payload: Mapping[str, Any]
    created_at: float
    status: str
    attempts: int
    next_attempt_at: float
    last_error: str
    delivered_at: float | None


@dataclass(frozen=True, slots=True)
class OutboxUpdate:
    """The outcome of a delivery attempt: ``status`` delivered / pending (retry) / given_up."""

    id: int
    status: str
    attempts: int
    next_attempt_at: float
    last_error: str = ""
    delivered_at: float | None = None
