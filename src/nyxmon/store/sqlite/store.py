"""The embedded store: one SQLite file in WAL mode.

Results (schema 7, see :mod:`.packed_schema`): the newest hour or two are rows of integers and
text in ``results``, what the writer appends to and what the current hour's reads scan; the
rollup step then moves each check's older results, an hour at a time, into one row of
``result_blocks`` (columns of integers, compressed) whose message, details and timing names
live once per check in ``result_templates`` (:mod:`nyxmon.store.packing`). About 20 bytes a
result instead of 310; reads merge both, in one snapshot.

The same design carries to PostgreSQL: three plain tables (``bigint`` times and ids, a
``bytea`` block, ``text`` templates), B-tree indexes on the same columns, the packing code
shared as it is (pure Python, no driver), the move from rows to a block one transaction with
the rollup progress (``DELETE ... WHERE id = ANY(...)`` and ``INSERT ... ON CONFLICT``), ids
from a ``bigserial``. Nothing here relies on SQLite alone: no rowid tricks the ids depend on,
no virtual tables on the read path (``dbstat`` only sizes things for ``db info``, where
PostgreSQL has ``pg_total_relation_size``); PostgreSQL's own TOAST compression finds little
left in a block and can be turned off for the column (``STORAGE EXTERNAL``).

Threads: the agent's single store writer calls ``write_batch``; the cleaner timer calls
``rollup_step`` and ``cleaner_step`` (each transaction small); the web plane and the CLI call the
read methods, which use per-thread read-only connections and never wait for the writer. Every
write method is safe to call from any thread (a lock serialises them), but the agent keeps
them on one thread so a slow write never stalls anything else.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from types import TracebackType
from typing import Literal

from nyxmon.domain.history.figures import Availability, SeriesPoint
from nyxmon.domain.history.rollups import RollupRow
from nyxmon.domain.history.uptime import Uptime
from nyxmon.domain.locations import LocationView
from nyxmon.domain.model import Check, Service
from nyxmon.errors import SchemaVersionError
from nyxmon.service_layer.records.accounts import SessionRecord, TokenRecord, UserRecord
from nyxmon.service_layer.records.alerts import OutboxEntry, StateRow, Transition
from nyxmon.service_layer.records.batches import WriteBatch, WriteReceipt
from nyxmon.service_layer.records.catalog import CheckQuery, Page
from nyxmon.service_layer.records.results import (
    ResultCursor,
    ResultPage,
    ResultPoint,
    StoredResult,
)
from nyxmon.service_layer.records.upkeep import CleanerReport, DbInfo, Retention, RollupReport
from nyxmon.service_layer.storage import DEFAULT_LOCATION, AgentClaim, Store
from nyxmon.store.sqlite import cleaner, rollup_job, stats
from nyxmon.store.sqlite.agent_lock import AgentLock
from nyxmon.store.sqlite.alerts import OUTBOX_COLUMNS, outbox_from_row
from nyxmon.store.sqlite.auth import (
    REVOCATIONS_KEY,
    SESSION_COLUMNS,
    SESSION_REVOCATIONS_KEY,
    TOKEN_COLUMNS,
    session_from_row,
    token_from_row,
    user_from_row,
)
from nyxmon.store.sqlite.connections import Connections, sqlite_errors
from nyxmon.store.sqlite.migrations import apply_migrations, latest_version, schema_version_of
from nyxmon.store.sqlite.progress import read_progress
from nyxmon.store.sqlite.repositories import SqliteCheckRepository, SqliteServiceRepository
from nyxmon.store.sqlite.results import SqliteResultRepository
from nyxmon.store.sqlite.sizes import result_span, storage_figures
from nyxmon.store.sqlite.transaction import SqliteTransaction
from nyxmon.store.sqlite.views import read_views

__all__ = ["SqliteStore"]

_COUNTED = {
    "services": "SELECT count(*) FROM services",
    "checks": "SELECT count(*) FROM checks WHERE archived_at IS NULL",
    "checks_archived": "SELECT count(*) FROM checks WHERE archived_at IS NOT NULL",
    "results": "SELECT count(*) FROM results",
    "result_templates": "SELECT count(*) FROM result_templates",
    "rollup_hourly": "SELECT count(*) FROM rollup_hourly",
    "rollup_daily": "SELECT count(*) FROM rollup_daily",
}


_PACKED_COUNT = "SELECT coalesce(sum(count), 0) FROM result_blocks"


class SqliteStore:
    """The :class:`nyxmon.service_layer.storage.Store` on one SQLite file (created if missing).

    ``clock`` stamps created/updated/archived times (tests inject one). ``rollup_settle`` is
    how long after an hour ends it is rolled up. A thread of the store checkpoints the WAL
    every ``checkpoint_interval`` seconds it was written, so commits never do (see
    :mod:`.checkpointer`); ``checkpoint_interval=None`` runs no such thread, for a process
    beside the agent that owns the file (a web plane of its own: two threads checkpointing
    one WAL copy the same frames twice). ``readonly=True`` opens no writer, runs no migration and no
    checkpoints, for inspecting a database another process owns; it refuses other versions.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        clock: Callable[[], float] = time.time,
        busy_timeout: float = 10.0,
        rollup_settle: float = 300.0,
        checkpoint_interval: float | None = 0.25,
        readonly: bool = False,
    ) -> None:
        self.path = Path(path)
        self._clock = clock
        self._settle = rollup_settle
        self._conns = Connections(self.path, busy_timeout=busy_timeout, writable=not readonly)
        try:
            if readonly:
                with sqlite_errors(f"reading the schema version of {self.path}"):
                    version = schema_version_of(self._conns.reader())
                if version != latest_version():
                    raise SchemaVersionError(
                        f"database {self.path} has schema version {version}, this NyxMon uses "
                        f"version {latest_version()}; open it read-write once to migrate"
                        if version < latest_version()
                        else f"database {self.path} has schema version {version}, but this "
                        f"NyxMon knows only up to version {latest_version()}; upgrade NyxMon"
                    )
                self._version = version
            else:
                with self._conns.write_lock:
                    self._version = apply_migrations(self._conns.writer, str(self.path))
                if checkpoint_interval is not None:
                    self._conns.start_checkpointer(checkpoint_interval)
        except BaseException:
            self._conns.close()
            raise

    # -- lifecycle -------------------------------------------------------------------------

    @property
    def schema_version(self) -> int:
        return self._version

    def close(self) -> None:
        self._conns.close()

    def claim_agent(
        self, *, location: str = DEFAULT_LOCATION, lease_seconds: float = 15.0
    ) -> AgentClaim:
        """The file's exclusive lock: one agent per SQLite database, whatever its location."""
        return AgentLock(self.path).acquire()

    def __enter__(self) -> SqliteStore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- writes ----------------------------------------------------------------------------

    def transaction(self) -> SqliteTransaction:
        return SqliteTransaction(self._conns, self._clock)

    def write_batch(self, batch: WriteBatch) -> WriteReceipt:
        if not len(batch):
            return WriteReceipt()
        with sqlite_errors("writing a batch", self._conns.path), self.transaction() as tx:
            receipt = self.stage_batch(tx, batch)
            tx.commit()
        return receipt

    @staticmethod
    def stage_batch(tx: SqliteTransaction, batch: WriteBatch) -> WriteReceipt:
        """Write ``batch`` in the open transaction ``tx``, uncommitted (the PostgreSQL store
        adds its change notices before committing)."""
        ids = tx.results.add_many(batch.results) if batch.results else ()
        if batch.states or batch.transitions:
            wanted = {r.check_id for r in batch.states} | {t.check_id for t in batch.transitions}
            pk_of = tx.alerts.pks(wanted)
            tx.alerts.save_states(batch.states, pk_of)
            tx.alerts.add_transitions(batch.transitions, pk_of)
        outbox_ids = tx.alerts.add_outbox(batch.outbox) if batch.outbox else ()
        tx.alerts.update_outbox(batch.outbox_updates)
        if batch.views:
            tx.alerts.save_views(batch.views)
        return WriteReceipt(result_ids=ids, outbox_ids=outbox_ids)

    def rollup_step(self, now: float, *, max_rows: int = 50_000) -> RollupReport:
        return rollup_job.rollup_step(self._conns, now, max_rows=max_rows, settle=self._settle)

    def cleaner_step(
        self, now: float, retention: Retention, *, max_rows: int = 2_000
    ) -> CleanerReport:
        return cleaner.cleaner_step(self._conns, now, retention, max_rows=max_rows)

    # -- reads (read-only connection of the calling thread) --------------------------------

    def get_service(self, name: str) -> Service | None:
        with sqlite_errors(f"reading service {name!r}"):
            return SqliteServiceRepository(self._conns.reader(), self._clock).get(name)

    def list_services(self) -> tuple[Service, ...]:
        with sqlite_errors("listing services"):
            return SqliteServiceRepository(self._conns.reader(), self._clock).all()

    def get_check(self, check_id: str, *, include_archived: bool = False) -> Check | None:
        with sqlite_errors(f"reading check {check_id!r}"):
            repo = SqliteCheckRepository(self._conns.reader(), self._clock)
            return repo.get(check_id, include_archived=include_archived)

    def list_checks(self, query: CheckQuery | None = None) -> Page[Check]:
        with self._conns.read_transaction("listing checks") as rc:
            return SqliteCheckRepository(rc, self._clock).query(query)

    def results(
        self,
        check_id: str,
        *,
        since: float | None = None,
        until: float | None = None,
        limit: int = 100,
        after: ResultCursor | None = None,
    ) -> ResultPage:
        with self._conns.read_transaction(f"reading results of check {check_id!r}") as rc:
            repo = SqliteResultRepository(rc)
            return repo.page(check_id, since=since, until=until, limit=limit, after=after)

    def latest_results(self, check_ids: Sequence[str] | None = None) -> dict[str, StoredResult]:
        with self._conns.read_transaction("reading latest results") as rc:
            return SqliteResultRepository(rc).latest(check_ids)

    def count_results(
        self, check_id: str | None = None, *, since: float | None = None, until: float | None = None
    ) -> int:
        with self._conns.read_transaction("counting results") as rc:
            return SqliteResultRepository(rc).count(check_id, since=since, until=until)

    def availability(self, check_id: str, *, now: float, window: float) -> Availability:
        return stats.availability(self._conns, check_id, now=now, window=window)

    def rollups(
        self,
        check_id: str,
        *,
        level: Literal["hourly", "daily"],
        since: float | None = None,
        until: float | None = None,
    ) -> tuple[RollupRow, ...]:
        return stats.rollups(self._conns, check_id, level=level, since=since, until=until)

    def recent_results(
        self, check_ids: Sequence[str], *, limit: int = 30, since: float | None = None
    ) -> dict[str, tuple[StoredResult, ...]]:
        with self._conns.read_transaction("reading recent results") as rc:
            return SqliteResultRepository(rc).recent(check_ids, limit, since)

    def recent_points(
        self, check_ids: Sequence[str], *, limit: int = 30
    ) -> dict[str, tuple[ResultPoint, ...]]:
        with self._conns.read_transaction("reading recent results") as rc:
            return SqliteResultRepository(rc).recent_points(check_ids, limit)

    def uptime_many(
        self, check_ids: Sequence[str], *, now: float, window: float
    ) -> dict[str, Uptime]:
        return stats.uptime_many(self._conns, check_ids, now=now, window=window)

    def series(self, check_id: str, *, start: float, end: float, step: float) -> list[SeriesPoint]:
        return stats.series(self._conns, check_id, start=start, end=end, step=step)

    def db_info(self) -> DbInfo:
        size = 0
        for suffix in ("", "-wal", "-shm"):
            with contextlib.suppress(FileNotFoundError):
                size += os.stat(f"{self.path}{suffix}").st_size
        with self._conns.read_transaction(f"reading database info of {self.path}") as rc:
            counts = {name: int(rc.execute(sql).fetchone()[0]) for name, sql in _COUNTED.items()}
            packed = int(rc.execute(_PACKED_COUNT).fetchone()[0])
            counts["results"] += packed
            oldest, newest = result_span(rc)
            hourly = read_progress(rc, "hourly")
            daily = read_progress(rc, "daily")
            version = schema_version_of(rc)
            storage = storage_figures(rc, counts, packed, newest)
        return DbInfo(
            location=str(self.path),
            size_bytes=size,
            schema_version=version,
            row_counts=counts,
            oldest_result_at=oldest,
            newest_result_at=newest,
            hourly_rolled_up_to=hourly.period_start if hourly else None,
            daily_rolled_up_to=daily.period_start if daily else None,
            storage=storage,
        )

    # -- alerting ------------------------------------------------------------------------------

    def location_views(
        self, check_ids: Sequence[str] | None = None
    ) -> dict[str, tuple[LocationView, ...]]:
        with self._conns.read_transaction(f"reading location views of {self.path}") as rc:
            return read_views(rc, check_ids)

    def load_states(self) -> dict[str, StateRow]:
        with self._conns.read_transaction(f"reading alert states of {self.path}") as rc:
            rows = rc.execute(
                "SELECT c.id, s.state, s.since, s.snapshot, s.updated_at FROM check_states s"
                " JOIN checks c ON c.pk = s.check_pk"
            ).fetchall()
        return {r[0]: StateRow(r[0], r[1], r[2], json.loads(r[3]), r[4]) for r in rows}

    def transitions(
        self,
        check_id: str | None = None,
        *,
        since: float | None = None,
        until: float | None = None,
        limit: int = 1000,
    ) -> tuple[Transition, ...]:
        """State changes newest first (of one check, or all), optionally in ``[since, until)``."""
        where, params = _where(("c.id = ?", check_id), ("t.at >= ?", since), ("t.at < ?", until))
        sql = (
            "SELECT c.id, t.at, t.from_state, t.to_state, t.message, t.since FROM state_changes t"
            f" JOIN checks c ON c.pk = t.check_pk{where} ORDER BY t.at DESC, t.id DESC LIMIT ?"
        )
        with self._conns.read_transaction(f"reading state changes of {self.path}") as rc:
            rows = rc.execute(sql, (*params, limit)).fetchall()
        return tuple(Transition(r[0], r[1], r[2], r[3], r[4], r[5]) for r in rows)

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
        """Outbox rows oldest first (or newest), filtered by status, check and due time."""
        where, params = _where(
            ("o.status = ?", status),
            ("o.check_id = ?", check_id),
            ("o.next_attempt_at <= ?", due_before),
            ("o.id > ?", after_id),
        )
        order = "o.id DESC" if newest_first else "o.id"
        sql = f"SELECT {OUTBOX_COLUMNS} FROM outbox o{where} ORDER BY {order} LIMIT ?"
        with self._conns.read_transaction(f"reading the outbox of {self.path}") as rc:
            rows = rc.execute(sql, (*params, limit)).fetchall()
        return tuple(entry for entry in map(outbox_from_row, rows) if entry is not None)

    def outbox_counts(self) -> dict[str, int]:
        with self._conns.read_transaction(f"counting the outbox of {self.path}") as rc:
            rows = rc.execute("SELECT status, count(*) FROM outbox GROUP BY status").fetchall()
        return {status: int(n) for status, n in rows}

    # -- users, API tokens, settings -------------------------------------------------------------

    def get_user(self, name: str) -> UserRecord | None:
        with self._conns.read_transaction(f"reading users of {self.path}") as rc:
            row = rc.execute(
                "SELECT name, password_hash, created_at, updated_at FROM users WHERE name = ?",
                (name,),
            ).fetchone()
        return user_from_row(row) if row else None

    def count_users(self) -> int:
        with self._conns.read_transaction(f"reading users of {self.path}") as rc:
            return int(rc.execute("SELECT count(*) FROM users").fetchone()[0])

    def find_token(self, token_hash: str) -> TokenRecord | None:
        """The live (not revoked) token with this hash."""
        with self._conns.read_transaction(f"reading API tokens of {self.path}") as rc:
            row = rc.execute(
                f"SELECT {TOKEN_COLUMNS} FROM api_tokens"
                " WHERE token_hash = ? AND revoked_at IS NULL",
                (token_hash,),
            ).fetchone()
        return token_from_row(row) if row else None

    def token_revocations(self) -> int:
        with self._conns.read_transaction(f"reading API tokens of {self.path}") as rc:
            row = rc.execute(
                "SELECT value FROM settings WHERE key = ?", (REVOCATIONS_KEY,)
            ).fetchone()
        return int(row[0]) if row else 0

    def list_tokens(self) -> tuple[TokenRecord, ...]:
        with self._conns.read_transaction(f"reading API tokens of {self.path}") as rc:
            rows = rc.execute(f"SELECT {TOKEN_COLUMNS} FROM api_tokens ORDER BY id").fetchall()
        return tuple(token_from_row(r) for r in rows)

    def find_session(self, token_hash: str) -> SessionRecord | None:
        with self._conns.read_transaction(f"reading sessions of {self.path}") as rc:
            row = rc.execute(
                f"SELECT {SESSION_COLUMNS} FROM web_sessions WHERE token_hash = ?", (token_hash,)
            ).fetchone()
        return session_from_row(row) if row else None

    def list_sessions(self, user: str) -> tuple[SessionRecord, ...]:
        with self._conns.read_transaction(f"reading sessions of {self.path}") as rc:
            rows = rc.execute(
                f"SELECT {SESSION_COLUMNS} FROM web_sessions WHERE user = ?"
                " ORDER BY created_at DESC",
                (user,),
            ).fetchall()
        return tuple(session_from_row(r) for r in rows)

    def session_revocations(self) -> int:
        with self._conns.read_transaction(f"reading sessions of {self.path}") as rc:
            row = rc.execute(
                "SELECT value FROM settings WHERE key = ?", (SESSION_REVOCATIONS_KEY,)
            ).fetchone()
        return int(row[0]) if row else 0

    def get_setting(self, key: str) -> str | None:
        with self._conns.read_transaction(f"reading settings of {self.path}") as rc:
            row = rc.execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
        return str(row[0]) if row else None

    def checks_fingerprint(self) -> tuple[object, ...]:
        # count catches deletes, max(pk) catches delete+add, updated_at catches edits, pauses
        # and archiving (every write stamps it); one pass over a small table. Services count
        # too, by content (a few rows): a check is read with its service's labels and group.
        with self._conns.read_transaction(f"reading the checks of {self.path}") as rc:
            row = rc.execute(
                "SELECT count(*), max(pk), max(updated_at), count(archived_at) FROM checks"
            ).fetchone()
            services = rc.execute(
                "SELECT group_concat(name || char(31) || grp || char(31) || labels, char(30))"
                " FROM (SELECT name, grp, labels FROM services ORDER BY name)"
            ).fetchone()
        return (*row, *services)


def _where(*conditions: tuple[str, object]) -> tuple[str, list[object]]:
    """A WHERE clause of the conditions whose value is not None, and their parameters."""
    used = [(sql, value) for sql, value in conditions if value is not None]
    if not used:
        return "", []
    return " WHERE " + " AND ".join(sql for sql, _ in used), [value for _, value in used]


def _conforms(store: SqliteStore) -> Store:
    """Never called: makes mypy prove that SqliteStore implements the Store protocol."""
    return store
