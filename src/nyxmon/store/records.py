"""The values the store takes and returns, shared by every store implementation.

Plain frozen dataclasses with no driver types in them, so the SQLite store and a later
PostgreSQL store speak the same language to the agent, the web plane and the CLI.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Any, Generic, TypeVar

from nyxmon.domain.model import CheckSource, Result

__all__ = [
    "DAY",
    "HOUR",
    "WINDOWS",
    "Availability",
    "CheckQuery",
    "CleanerReport",
    "DbInfo",
    "OutboxItem",
    "OutboxRow",
    "OutboxUpdate",
    "Page",
    "ReconcileReport",
    "ResultCursor",
    "ResultPage",
    "Retention",
    "RollupReport",
    "SeriesPoint",
    "StateRow",
    "StoredResult",
    "TokenRecord",
    "Transition",
    "UpsertOutcome",
    "UserRecord",
    "WriteBatch",
    "WriteReceipt",
]

T = TypeVar("T")

HOUR = 3600.0
DAY = 86400.0
#: The windows the dashboard and API offer for uptime and latency figures, in seconds.
WINDOWS: Mapping[str, float] = MappingProxyType(
    {"24h": DAY, "7d": 7 * DAY, "30d": 30 * DAY, "90d": 90 * DAY}
)


def _no_labels() -> Mapping[str, str]:
    return MappingProxyType({})


@dataclass(frozen=True, slots=True)
class CheckQuery:
    """Filters for listing checks; every filter left at ``None`` matches everything.

    ``archived=False`` (the default) lists live checks only, ``True`` only checks archived
    because they left the config, ``None`` both. ``labels`` must all match (key == value).
    """

    service: str | None = None
    type: str | None = None
    labels: Mapping[str, str] = field(default_factory=_no_labels)
    enabled: bool | None = None
    paused: bool | None = None
    source: CheckSource | None = None
    archived: bool | None = False
    limit: int | None = None
    offset: int = 0

    def __post_init__(self) -> None:
        if self.limit is not None and self.limit < 0:
            raise ValueError(f"CheckQuery.limit must be >= 0, got {self.limit}")
        if self.offset < 0:
            raise ValueError(f"CheckQuery.offset must be >= 0, got {self.offset}")


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a listing plus the number of items matching in all pages."""

    items: tuple[T, ...]
    total: int
    limit: int | None
    offset: int


class UpsertOutcome(StrEnum):
    """What an upsert did to the stored row."""

    ADDED = "added"
    CHANGED = "changed"
    UNCHANGED = "unchanged"
    REVIVED = "revived"


@dataclass(frozen=True, slots=True)
class ReconcileReport:
    """Check ids touched by making the stored config checks equal to the config file.

    ``added`` holds every check that is live now and was not before, including ``revived``
    ones that came back from the archive with their history; ``removed`` were archived.
    """

    added: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    unchanged: tuple[str, ...] = ()
    revived: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class StoredResult:
    """A result with the id the store assigned to it (stable, never reused)."""

    id: int
    result: Result


@dataclass(frozen=True, slots=True, order=True)
class ResultCursor:
    """Where a newest-first page of results stopped: the (started_at, id) of its last item.

    Keyset pagination: the next page starts strictly after this key, so results written
    meanwhile never shift or repeat items the way an offset would.
    """

    started_at: float
    id: int

    def encode(self) -> str:
        """A string for URLs and JSON (``repr`` keeps every bit of the float)."""
        return f"{self.started_at!r}:{self.id}"

    @classmethod
    def decode(cls, token: str) -> ResultCursor:
        """Parse :meth:`encode` output; raises ``ValueError`` naming the bad token."""
        head, sep, tail = token.rpartition(":")
        try:
            started_at, result_id = float(head), int(tail)
        except ValueError:
            raise ValueError(
                f"invalid result cursor {token!r}: expected '<started_at>:<id>'"
            ) from None
        if not sep or not math.isfinite(started_at) or result_id < 0:
            raise ValueError(f"invalid result cursor {token!r}: expected '<started_at>:<id>'")
        return cls(started_at, result_id)


@dataclass(frozen=True, slots=True)
class ResultPage:
    """Results newest first; ``next_cursor`` is ``None`` on the last page."""

    items: tuple[StoredResult, ...]
    next_cursor: ResultCursor | None


@dataclass(frozen=True, slots=True)
class WriteBatch:
    """Everything one store transaction commits together.

    The agent's writer gathers the results of a dispatch round into one batch so they cost
    one commit. The alerting work adds ``states`` and ``outbox`` sequences here (with empty
    defaults), so ``Store.write_batch(batch)`` keeps its signature as the batch grows.
    """

    results: Sequence[Result] = ()
    states: Sequence[StateRow] = ()
    transitions: Sequence[Transition] = ()
    outbox: Sequence[OutboxRow] = ()
    outbox_updates: Sequence[OutboxUpdate] = ()

    def __len__(self) -> int:
        return (
            len(self.results)
            + len(self.states)
            + len(self.transitions)
            + len(self.outbox)
            + len(self.outbox_updates)
        )


@dataclass(frozen=True, slots=True)
class WriteReceipt:
    """What a committed batch got: the ids of its results, and of its outbox rows aligned with
    ``batch.outbox`` (``None`` where the key already existed: a notice is never queued twice)."""

    result_ids: tuple[int, ...] = ()
    outbox_ids: tuple[int | None, ...] = ()


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
class OutboxItem:
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


@dataclass(frozen=True, slots=True)
class UserRecord:
    name: str
    password_hash: str
    created_at: float
    updated_at: float


@dataclass(frozen=True, slots=True)
class TokenRecord:
    """An API token (only its hash is stored)."""

    id: int
    name: str
    owner: str
    created_at: float
    last_used_at: float | None
    revoked_at: float | None


@dataclass(frozen=True, slots=True)
class Retention:
    """How many days each resolution is kept: raw results, hourly and daily rollups."""

    raw_days: float = 14.0
    hourly_days: float = 90.0
    daily_days: float = 730.0

    def __post_init__(self) -> None:
        for name in ("raw_days", "hourly_days", "daily_days"):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
                raise ValueError(f"retention.{name} must be a positive number, got {value!r}")


@dataclass(frozen=True, slots=True)
class CleanerReport:
    """What one bounded cleaner step deleted and whether more is waiting."""

    raw_deleted: int = 0
    hourly_deleted: int = 0
    daily_deleted: int = 0
    more: bool = False

    @property
    def deleted(self) -> int:
        return self.raw_deleted + self.hourly_deleted + self.daily_deleted


@dataclass(frozen=True, slots=True)
class RollupReport:
    """What one bounded rollup step did; ``*_through`` is the first period not rolled up yet."""

    rows_read: int = 0
    hourly_written: int = 0
    daily_written: int = 0
    hourly_through: float | None = None
    daily_through: float | None = None
    more: bool = False


@dataclass(frozen=True, slots=True)
class Availability:
    """Uptime and latency of one check over a window ending now.

    Rollups cover whole hours, so when they are used ``start`` is the window start rounded
    down to its hour. Percentiles are nearest-rank: exact over raw results alone, else read
    from merged duration histograms, within 4.4 % of the exact value (see
    :mod:`nyxmon.store.histogram`). Figures are ``None`` when nothing ran in the window.
    """

    check_id: str
    start: float
    end: float
    count: int
    ok_count: int
    degraded_count: int
    uptime_pct: float | None
    duration_min: float | None
    duration_avg: float | None
    duration_max: float | None
    duration_p50: float | None
    duration_p95: float | None
    duration_p99: float | None


@dataclass(frozen=True, slots=True)
class SeriesPoint:
    """One bucket of a chart series, ``[start, start + step)``; empty buckets have count 0."""

    start: float
    count: int
    ok_count: int
    degraded_count: int
    uptime_pct: float | None
    duration_min: float | None
    duration_avg: float | None
    duration_max: float | None
    duration_p95: float | None


@dataclass(frozen=True, slots=True)
class DbInfo:
    """What ``nyxmon db info`` shows."""

    location: str
    size_bytes: int
    schema_version: int
    row_counts: Mapping[str, int]
    oldest_result_at: float | None
    newest_result_at: float | None
    hourly_rolled_up_to: float | None
    daily_rolled_up_to: float | None
