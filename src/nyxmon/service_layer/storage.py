"""The storage port: repositories, the transaction and the store facade.

The application defines what it needs from storage here; :mod:`nyxmon.store` holds the
adapters. Implementation-neutral on purpose (no driver types in any signature): the embedded
SQLite store implements it, a PostgreSQL store for several agents will too, and one contract
suite (tests/integration/store) runs against every implementation.

Two ways in. Writes go through a transaction: ``with store.transaction() as tx: ...;
tx.commit()`` commits everything or, on leaving the block uncommitted or by an exception,
nothing. ``write_batch`` is the agent's hot path: one batch,
one transaction. Reads on the facade (``list_checks``, ``results``, ``availability``, ...) use
read-only connections and never wait for the writer.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Literal, Protocol

from nyxmon.domain.history.figures import Availability, SeriesPoint
from nyxmon.domain.history.rollups import RollupRow
from nyxmon.domain.history.uptime import Uptime
from nyxmon.domain.locations import LocationView
from nyxmon.domain.model import Check, CheckSource, Result, Service
from nyxmon.service_layer.records.accounts import SessionRecord, TokenRecord, TokenScope, UserRecord
from nyxmon.service_layer.records.alerts import (
    OutboxEntry,
    OutboxRow,
    OutboxUpdate,
    StateRow,
    Transition,
)
from nyxmon.service_layer.records.batches import WriteBatch, WriteReceipt
from nyxmon.service_layer.records.catalog import CheckQuery, Page, UpsertOutcome
from nyxmon.service_layer.records.results import (
    ResultCursor,
    ResultPage,
    ResultPoint,
    StoredResult,
)
from nyxmon.service_layer.records.upkeep import CleanerReport, DbInfo, Retention, RollupReport

__all__ = [
    "DEFAULT_LOCATION",
    "AgentClaim",
    "AlertWriter",
    "AuthWriter",
    "Census",
    "CheckLeases",
    "CheckRepository",
    "Claimed",
    "Membership",
    "NoticeClaims",
    "ResultRepository",
    "ServiceRepository",
    "Store",
    "StoreReader",
    "Transaction",
]

#: The location of an agent that names none (``agent.location``).
DEFAULT_LOCATION = "default"


class ServiceRepository(Protocol):
    """Services by name. ``source`` says who owns one: config services vanish with the file."""

    def get(self, name: str) -> Service | None: ...

    def all(self, *, source: CheckSource | None = None) -> tuple[Service, ...]:
        """Every service (of ``source`` only, if given) ordered by name."""
        ...

    def upsert(self, service: Service, *, source: CheckSource = CheckSource.API) -> UpsertOutcome:
        """Insert or update. The config may take over a service created through the API, but
        the API may not change a config service: ConflictError naming it."""
        ...

    def delete(self, name: str) -> bool: ...


class CheckRepository(Protocol):
    """Checks by id, live or archived (soft-deleted when they left the config file)."""

    def get(self, check_id: str, *, include_archived: bool = False) -> Check | None: ...

    def query(self, query: CheckQuery | None = None) -> Page[Check]:
        """Checks matching ``query`` (default: every live check) ordered by id, with the total
        over all pages."""
        ...

    def upsert(self, check: Check) -> UpsertOutcome:
        """Insert, update or revive (an archived check comes back with its history).

        ConflictError if a check of the other source has the id: config checks are changed in
        the config file, API checks through the API.
        """
        ...

    def archive(self, check_id: str) -> bool:
        """Hide a check from listings and the scheduler, keeping its history; False if absent."""
        ...

    def delete(self, check_id: str) -> bool:
        """Delete a check and its whole history (results and rollups); False if absent."""
        ...

    def set_paused(self, check_id: str, paused: bool) -> Check:
        """Pause or resume a live check; CheckNotFoundError if there is none with the id."""
        ...


class ResultRepository(Protocol):
    """Results of checks; ids are assigned by the store and never reused.

    A store keeps start and scheduled times to the millisecond and durations and timings to
    the microsecond (what people read, with room to spare), so a result reads back rounded to
    those; everything else reads back as written. How results are laid out is the store's
    business, but every read must answer the same whatever the layout of the moment (the
    SQLite store packs older hours into blocks; tests/integration/store holds it to that).
    """

    def add_many(self, results: Sequence[Result]) -> tuple[int, ...]:
        """Insert results in order and return their ids. CheckNotFoundError for an unknown id,
        StoreError naming the row for an invalid one; the caller's transaction then rolls back.
        """
        ...

    def page(
        self,
        check_id: str,
        *,
        since: float | None = None,
        until: float | None = None,
        limit: int = 100,
        after: ResultCursor | None = None,
    ) -> ResultPage:
        """Results with ``since <= started_at < until``, newest first, after ``after``."""
        ...

    def latest(self, check_ids: Sequence[str] | None = None) -> dict[str, StoredResult]:
        """The newest result of each given check (every live check if None), in one query."""
        ...

    def count(
        self, check_id: str | None = None, *, since: float | None = None, until: float | None = None
    ) -> int: ...


class AlertWriter(Protocol):
    """Alert writes inside a transaction (the agent batches them through ``write_batch``)."""

    def add_outbox(self, rows: Sequence[OutboxRow]) -> tuple[int | None, ...]: ...

    def update_outbox(self, updates: Sequence[OutboxUpdate]) -> None: ...

    def save_views(self, views: Sequence[LocationView]) -> None:
        """Insert or replace locations' views of checks (one row per check and location)."""
        ...


class AuthWriter(Protocol):
    """Users, API tokens and settings, inside a transaction."""

    def put_user(self, name: str, password_hash: str) -> None:
        """Set a user's password (creating the user), ending every session of theirs: a new
        password must lock out whoever knew the old one. Advances ``session_revocations``."""
        ...

    def create_session(self, session: SessionRecord) -> None: ...

    def touch_session(self, token_hash: str, last_seen_at: float, expires_at: float) -> None:
        """Record a use of the session and its new idle end."""
        ...

    def end_session(self, token_hash: str) -> bool:
        """End one session (False if there is none); advances ``session_revocations``."""
        ...

    def end_sessions(self, user: str) -> int:
        """End every session of ``user`` (how many there were); advances
        ``session_revocations``."""
        ...

    def create_token(
        self, name: str, token_hash: str, owner: str, scope: TokenScope = "admin"
    ) -> TokenRecord: ...

    def revoke_token(self, token_id: int) -> bool:
        """Revoke a live token (False if there is none) and advance ``token_revocations``."""
        ...

    def touch_token(self, token_id: int) -> None: ...

    def set_setting(self, key: str, value: str) -> None: ...


class Transaction(Protocol):
    """One transaction over the repositories; rolls back on exit unless committed."""

    @property
    def services(self) -> ServiceRepository: ...

    @property
    def checks(self) -> CheckRepository: ...

    @property
    def results(self) -> ResultRepository: ...

    @property
    def alerts(self) -> AlertWriter: ...

    @property
    def auth(self) -> AuthWriter: ...

    def __enter__(self) -> Transaction: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    def commit(self) -> None: ...

    def rollback(self) -> None: ...

    def serialize(self, what: str) -> None:
        """Let no other process do ``what`` until this transaction ends (several agents
        applying one config apply it once, one after the other)."""
        ...


class StoreReader(Protocol):
    """Read-only queries; safe from any thread, never blocked by an open write transaction."""

    def get_service(self, name: str) -> Service | None: ...

    def list_services(self) -> tuple[Service, ...]: ...

    def get_check(self, check_id: str, *, include_archived: bool = False) -> Check | None: ...

    def list_checks(self, query: CheckQuery | None = None) -> Page[Check]: ...

    def results(
        self,
        check_id: str,
        *,
        since: float | None = None,
        until: float | None = None,
        limit: int = 100,
        after: ResultCursor | None = None,
    ) -> ResultPage: ...

    def latest_results(self, check_ids: Sequence[str] | None = None) -> dict[str, StoredResult]: ...

    def count_results(
        self, check_id: str | None = None, *, since: float | None = None, until: float | None = None
    ) -> int: ...

    def availability(self, check_id: str, *, now: float, window: float) -> Availability:
        """Uptime and latency over the window ending at ``now``, as
        :func:`~nyxmon.domain.history.uptime.uptime_window` defines it: rollups for the whole
        hours, raw results for the current hour and any hour not rolled up yet."""
        ...

    def rollups(
        self,
        check_id: str,
        *,
        level: Literal["hourly", "daily"],
        since: float | None = None,
        until: float | None = None,
    ) -> tuple[RollupRow, ...]:
        """Stored rollup rows with ``since <= start < until``, oldest first."""
        ...

    def recent_results(
        self, check_ids: Sequence[str], *, limit: int = 30, since: float | None = None
    ) -> dict[str, tuple[StoredResult, ...]]:
        """The newest ``limit`` results of each check (newest first), in one query."""
        ...

    def recent_points(
        self, check_ids: Sequence[str], *, limit: int = 30
    ) -> dict[str, tuple[ResultPoint, ...]]:
        """What :meth:`recent_results` returns, reduced to :class:`ResultPoint` (the overview's
        beats): the same results, without decoding messages, timings and details."""
        ...

    def uptime_many(
        self, check_ids: Sequence[str], *, now: float, window: float
    ) -> dict[str, Uptime]:
        """Uptime of several checks (unknown ids left out), counted the way
        :meth:`availability` counts it (:mod:`nyxmon.domain.history.uptime`), in a few queries
        whatever the number of ids."""
        ...

    def series(self, check_id: str, *, start: float, end: float, step: float) -> list[SeriesPoint]:
        """Points of ``step`` seconds from ``start`` to ``end`` (raw below an hour per step)."""
        ...

    def db_info(self) -> DbInfo: ...

    def location_views(
        self, check_ids: Sequence[str] | None = None
    ) -> dict[str, tuple[LocationView, ...]]:
        """Each location's view of the given checks (every check's if None), ordered by
        location; checks probed from no location have none."""
        ...

    def load_states(self) -> dict[str, StateRow]:
        """Every check's saved alert state, to resume the state machines after a restart."""
        ...

    def transitions(
        self,
        check_id: str | None = None,
        *,
        since: float | None = None,
        until: float | None = None,
        limit: int = 1000,
    ) -> tuple[Transition, ...]:
        """State changes newest first (incidents and history are read from these)."""
        ...

    def outbox(
        self,
        *,
        status: str | None = None,
        check_id: str | None = None,
        due_before: float | None = None,
        after_id: int | None = None,
        limit: int = 1000,
        newest_first: bool = False,
    ) -> tuple[OutboxEntry, ...]:
        """Outbox rows oldest first (the notifier's order), or newest first (people's)."""
        ...

    def outbox_counts(self) -> dict[str, int]: ...

    def get_user(self, name: str) -> UserRecord | None: ...

    def count_users(self) -> int: ...

    def find_token(self, token_hash: str) -> TokenRecord | None:
        """The live (not revoked) API token with this hash."""
        ...

    def token_revocations(self) -> int:
        """How many tokens were ever revoked: a counter committed with each revocation, read
        as one row, so a cache of tokens in any process can tell it is stale."""
        ...

    def list_tokens(self) -> tuple[TokenRecord, ...]: ...

    def find_session(self, token_hash: str) -> SessionRecord | None:
        """The session with this token hash, if it was not ended (it may have expired)."""
        ...

    def list_sessions(self, user: str) -> tuple[SessionRecord, ...]:
        """The user's sessions not ended yet, newest first (expired ones included until the
        cleaner removes them)."""
        ...

    def session_revocations(self) -> int:
        """How many times sessions were ended before their time: a counter committed with each
        sign-out and password change, read as one row, so a cache of sessions in any process
        can tell it is stale."""
        ...

    def get_setting(self, key: str) -> str | None: ...

    def checks_fingerprint(self) -> tuple[object, ...]:
        """A cheap value that changes whenever any check is added, changed or removed, so an
        agent can notice edits made by another process without reading every check."""
        ...


class CheckLeases(Protocol):
    """Which leases this agent holds, when several agents share a store: the state leases of
    checks (any location) and the probe leases of its location, named by lease keys
    (:mod:`nyxmon.service_layer.ownership`).

    Blocking (the agent calls it from a worker thread). A lease runs out ``lease_seconds``
    after its last renewal; each lease has at most one holder.
    """

    def sync(self) -> Census:
        """Give every live check its leases; how many there are here and anywhere."""
        ...

    def renew(self) -> frozenset[str]:
        """Extend this agent's leases; the keys it still holds (the others were lost)."""
        ...

    def claim(self, limit: int) -> Claimed:
        """Take up to ``limit`` leases nobody holds or whose lease ran out."""
        ...

    def release(self, keys: Iterable[str]) -> None: ...

    def held_views(self) -> dict[str, tuple[LocationView, ...]]:
        """The locations' views of the checks whose state lease this agent holds."""
        ...


@dataclass(frozen=True, slots=True)
class Census:
    """How many of something (lease rows, live agents) at this agent's location, and at
    any: an agent's fair share is its part of each (:meth:`share_of`)."""

    here: int
    anywhere: int

    def share_of(self, live: Census) -> int:
        """This agent's fair share of these leases among ``live`` agents, rounded up."""
        return math.ceil(self.here / max(1, live.here)) + math.ceil(
            self.anywhere / max(1, live.anywhere)
        )


@dataclass(frozen=True, slots=True)
class Claimed:
    """Checks just claimed; ``taken_over`` are those whose holder let its lease run out (it
    died, or lost the database): their runs were missed meanwhile, so they run at once."""

    checks: frozenset[str] = frozenset()
    taken_over: frozenset[str] = frozenset()


class NoticeClaims(Protocol):
    """Each notification sent by one agent: a claim by compare-and-set before an attempt."""

    def claim(self, outbox_id: int) -> bool:
        """Whether this agent holds the row now (nobody live held it, or this agent did)."""
        ...

    def delivered(self, outbox_id: int, attempts: int, at: float) -> None:
        """Mark the row delivered at once (the batched outcome write follows)."""
        ...

    def claimable(self, now: float, limit: int = 1000) -> tuple[int, ...]:
        """Due pending rows that no live agent holds (a stopped agent's)."""
        ...


#: How much sooner than the configured lease period a lease row (and a heartbeat's claim to
#: life) runs out. ``lease_seconds`` is the user's promise, "a dead agent's checks are probed
#: again within this long"; the rows must run out early enough for the others to see it,
#: claim them (a claim cycle is a second) and probe every one of them (the taken checks all
#: run at once: 2,500 checks took 2.5-3.5 s on two busy cores in ``bench/multi_agent.py``,
#: where a slack of 2 s gave failovers of 15.5-16.4 s for a 15 s lease).
TAKEOVER_SLACK = 4.0


def lease_row_seconds(lease_seconds: float) -> float:
    """How long a lease row lasts after its renewal (and a silent agent counts as alive):
    the lease period less :data:`TAKEOVER_SLACK`, and at least two thirds of it, so that a
    row outlasts a late renewal (renewals come every third)."""
    return max(lease_seconds * 2 / 3, lease_seconds - TAKEOVER_SLACK)


class Membership(Protocol):
    """An agent among several on one store: registered, heartbeating, holding leases."""

    @property
    def agent_id(self) -> int: ...

    @property
    def location(self) -> str: ...

    @property
    def lease_seconds(self) -> float: ...

    @property
    def leases(self) -> CheckLeases: ...

    @property
    def notices(self) -> NoticeClaims: ...

    def heartbeat(self) -> Census:
        """Say this agent lives; how many agents live now (itself too), at its location and
        at any."""
        ...


class AgentClaim(Protocol):
    """An agent's right to run on a store, held from its start to its stop."""

    def release(self) -> None: ...

    @property
    def shared(self) -> Membership | None:
        """How this agent shares the store with others, or None: it runs alone on it (and
        runs every check)."""
        ...


class Store(StoreReader, Protocol):
    """Everything the agent, the web plane and the CLI need from storage."""

    def claim_agent(
        self, *, location: str = DEFAULT_LOCATION, lease_seconds: float = 15.0
    ) -> AgentClaim:
        """Claim the store for an agent. A store for one agent (SQLite) refuses a second with
        a ``StoreError`` naming the first (two would probe and notify everything twice); a
        store for several (PostgreSQL) registers the agent at ``location``, to share that
        location's checks with the others by leases of ``lease_seconds``."""
        ...

    @property
    def schema_version(self) -> int: ...

    def transaction(self) -> Transaction: ...

    def write_batch(self, batch: WriteBatch) -> WriteReceipt:
        """Commit every row of ``batch`` in one transaction, or none of them."""
        ...

    def rollup_step(self, now: float, *, max_rows: int = 50_000) -> RollupReport:
        """Roll up a bounded amount of complete hours and days; ``more`` if work remains."""
        ...

    def cleaner_step(
        self, now: float, retention: Retention, *, max_rows: int = 2_000
    ) -> CleanerReport:
        """Delete at most ``max_rows`` expired rows per table, each table in its own short
        transaction; raw results are kept until their hour is rolled up."""
        ...

    def close(self) -> None: ...
