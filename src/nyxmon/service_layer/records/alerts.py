"""What alerting writes and reads: state snapshots, transitions and outbox rows.

A notification is one notice for one route. It is staged as an :class:`OutboxRow`, committed
with the results that caused it, and from then on handled as an :class:`OutboxEntry`, the row
with its id and delivery status: the delivery engine sends entries and reports
:class:`OutboxUpdate` outcomes, and the API lists them. The notice travels as an object; only
the store encodes it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from nyxmon.domain.alerting.notices import CheckInfo
from nyxmon.domain.alerting.types import Notice

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
    """One state change of a check, decided at ``at``.

    ``since`` is when the new state began by the machine's account: the start of the first
    result of the streak that produced it (for ``down``, the first failing run: the outage's
    start), else the time of the change. ``None`` only in rows written before it was kept.
    Incidents are read from it, so the check page and the API say what the notices say.
    """

    check_id: str
    at: float
    from_state: str
    to_state: str
    message: str = ""
    since: float | None = None

    @property
    def began(self) -> float:
        """When the new state began: ``since``, or ``at`` for an old row without it."""
        return self.at if self.since is None else self.since


@dataclass(frozen=True, slots=True)
class OutboxRow:
    """A notification to stage: one notice for one route; ``key`` is its idempotency key."""

    key: str
    route: str
    notice: Notice
    check: CheckInfo
    created_at: float

    @property
    def check_id(self) -> str:
        return self.notice.check_id

    @property
    def kind(self) -> str:
        return self.notice.kind.value


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    """A committed notification: its outbox id, what it says and how its delivery stands.

    ``attempts`` counts attempts already made and ``next_attempt_at`` (POSIX seconds) is when
    the next may start; ``created_at`` starts the give-up horizon.
    """

    id: int
    key: str
    route: str
    notice: Notice
    check: CheckInfo
    created_at: float
    status: str = "pending"
    attempts: int = 0
    next_attempt_at: float = 0.0
    last_error: str = ""
    delivered_at: float | None = None

    @classmethod
    def committed(cls, row_id: int, row: OutboxRow) -> OutboxEntry:
        """The entry a just-committed row became (pending, never attempted)."""
        return cls(
            row_id,
            row.key,
            row.route,
            row.notice,
            row.check,
            row.created_at,
            "pending",
            0,
            row.created_at,
        )

    @property
    def check_id(self) -> str:
        return self.notice.check_id

    @property
    def kind(self) -> str:
        return self.notice.kind.value


@dataclass(frozen=True, slots=True)
class OutboxUpdate:
    """The outcome of a delivery attempt: ``status`` delivered / pending (retry) / given_up."""

    id: int
    status: str
    attempts: int
    next_attempt_at: float
    last_error: str = ""
    delivered_at: float | None = None
