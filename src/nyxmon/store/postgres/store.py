"""The PostgreSQL store: the same Store port as the SQLite one, on psycopg 3 and a pool.

Schema: :mod:`.migrations` (the logical schema of the SQLite store's version 7, compact
results included: recent rows, packed hourly blocks, per-check templates). Everything above
the SQL is shared with :mod:`nyxmon.store.sqlite` rather than written twice: repositories,
history reads over rows and blocks, rollups, packing and retention run unchanged over
:class:`~.connections.PgConnections`, whose statements :mod:`.dialect` translates. What
differs lives here: connections and transactions, migrations, the batched results insert
(:mod:`.results`), sizes for ``db info``, the change fingerprint, and what several agents
sharing the database need (:mod:`.agents`, :mod:`.leases`, :mod:`.outbox_claims`).

Threads: as on SQLite, one writer connection behind a lock (the agent's store writer, the
rollup and cleaner timers and API writes take turns), and readers from a small pool that never
wait for it (MVCC). ``readonly=True`` opens no writer and runs no migration.

The DSN is libpq's (``postgresql://user@host:5432/db``); a schema other than ``public`` is
chosen the libpq way, ``?options=-csearch_path%3Dname``.

Each batch the agent's writer commits also sends change notices (:mod:`.change_notices`): a web
plane without an agent of its own follows the agents through them
(:mod:`nyxmon.web.shared_store`).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from typing import Any, cast

from nyxmon.errors import SchemaVersionError
from nyxmon.service_layer.records.alerts import StateRow
from nyxmon.service_layer.records.batches import WriteBatch, WriteReceipt
from nyxmon.service_layer.records.upkeep import (
    CleanerReport,
    DbInfo,
    Retention,
    RollupReport,
)
from nyxmon.service_layer.storage import DEFAULT_LOCATION, AgentClaim, Store
from nyxmon.store.postgres.agents import PgMembership
from nyxmon.store.postgres.change_notices import announce, changed_checks
from nyxmon.store.postgres.cluster_schema import apply_cluster_schema
from nyxmon.store.postgres.connections import PgConnections, pg_errors, redact_dsn
from nyxmon.store.postgres.migrations import apply_migrations, latest_version, schema_version_of
from nyxmon.store.postgres.transaction import PgTransaction
from nyxmon.store.sqlite import cleaner, rollup_job
from nyxmon.store.sqlite.progress import read_progress
from nyxmon.store.sqlite.sizes import figures_of, result_span
from nyxmon.store.sqlite.store import _COUNTED, _PACKED_COUNT, SqliteStore

__all__ = ["PostgresStore", "is_postgres_dsn"]

_SIZES = (
    "SELECT c.relname, pg_relation_size(c.oid) FROM pg_class c"
    " JOIN pg_namespace n ON n.oid = c.relnamespace"
    " WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'i')"
)


def is_postgres_dsn(database: str) -> bool:
    return database.startswith(("postgresql://", "postgres://"))


class PostgresStore(SqliteStore):
    """The :class:`~nyxmon.service_layer.storage.Store` on a PostgreSQL database (schema made
    or migrated when opened). It inherits the SQLite store's read methods: they speak only the
    shared SQL through ``self._conns``."""

    def __init__(
        self,
        dsn: str,
        *,
        clock: Callable[[], float] = time.time,
        rollup_settle: float = 300.0,
        readonly: bool = False,
        readers: int = 4,
    ) -> None:
        self.dsn = dsn
        self.location = redact_dsn(dsn)
        self.path = self.location  # type: ignore[assignment]
        self._clock = clock
        self._settle = rollup_settle
        conns = PgConnections(dsn, readers=readers, writable=not readonly)
        self._conns = cast(Any, conns)
        self._pg = conns
        self._agent_id: int | None = None
        try:
            if readonly:
                with pg_errors("reading the schema version", dsn), conns.connection() as conn:
                    version = schema_version_of(conn)
                if version != latest_version():
                    raise SchemaVersionError(
                        f"database {self.path} has schema version {version}, this NyxMon uses "
                        f"version {latest_version()}; open it read-write once to migrate"
                    )
                self._version = version
            else:
                with conns.write_lock:
                    self._version = apply_migrations(conns.writer.conn, self.location)
                    apply_cluster_schema(conns.writer.conn, self.location)
        except BaseException:
            conns.close()
            raise

    def claim_agent(
        self, *, location: str = DEFAULT_LOCATION, lease_seconds: float = 15.0
    ) -> AgentClaim:
        """Register the agent among those sharing this database (:mod:`.agents`); the
        results it writes from now on name it."""
        membership = PgMembership.register(self.dsn, location=location, lease_seconds=lease_seconds)
        self._agent_id = membership.agent_id
        return membership

    def __enter__(self) -> PostgresStore:
        return self

    def transaction(self) -> PgTransaction:  # type: ignore[override]
        return PgTransaction(self._pg, self._clock, agent_id=self._agent_id)

    def rollup_step(self, now: float, *, max_rows: int = 50_000) -> RollupReport:
        with pg_errors("rolling up", self.dsn):
            return rollup_job.rollup_step(self._conns, now, max_rows=max_rows, settle=self._settle)

    def cleaner_step(
        self, now: float, retention: Retention, *, max_rows: int = 2_000
    ) -> CleanerReport:
        with pg_errors("deleting expired rows", self.dsn):
            return cleaner.cleaner_step(self._conns, now, retention, max_rows=max_rows)

    def db_info(self) -> DbInfo:
        with self._pg.read_transaction(f"reading database info of {self.path}") as rc:
            counts = {name: int(rc.execute(sql).fetchone()[0]) for name, sql in _COUNTED.items()}
            packed = int(rc.execute(_PACKED_COUNT).fetchone()[0])
            counts["results"] += packed
            oldest, newest = result_span(rc)  # type: ignore[arg-type]
            hourly = read_progress(rc, "hourly")  # type: ignore[arg-type]
            daily = read_progress(rc, "daily")  # type: ignore[arg-type]
            sizes = {str(name): int(size) for name, size in rc.raw(_SIZES)}
            storage = figures_of(rc, sizes, counts, packed, newest)  # type: ignore[arg-type]
        return DbInfo(
            location=self.location,
            size_bytes=sum(sizes.values()),
            schema_version=self._version,
            row_counts=counts,
            oldest_result_at=oldest,
            newest_result_at=newest,
            hourly_rolled_up_to=hourly.period_start if hourly else None,
            daily_rolled_up_to=daily.period_start if daily else None,
            storage=storage,
        )

    def checks_fingerprint(self) -> tuple[object, ...]:
        # As on SQLite: count, max(pk), max(updated_at) and archived count of the checks, and
        # the services by content (a check is read with its service's labels and group).
        with self._pg.read_transaction(f"reading the checks of {self.path}") as rc:
            row = rc.raw(
                "SELECT count(*), max(pk), max(updated_at), count(archived_at) FROM checks"
            )[0]
            services = rc.raw(
                "SELECT string_agg(name || chr(31) || grp || chr(31) || labels, chr(30)"
                " ORDER BY name) FROM services"
            )[0]
        return (*row, *services)

    def write_batch(self, batch: WriteBatch) -> WriteReceipt:
        """As on SQLite, plus the change notices of :mod:`.change_notices` in the same
        transaction: whoever listens (a web plane of its own) hears of the checks this batch
        changed once, and only once, it committed."""
        if not len(batch):
            return WriteReceipt()
        with pg_errors("writing a batch", self.dsn), self.transaction() as tx:
            receipt = self.stage_batch(tx, batch)  # type: ignore[arg-type]
            announce(tx.connection, changed_checks(batch))
            tx.commit()
        return receipt

    def states_of(self, check_ids: Sequence[str]) -> dict[str, StateRow]:
        """The alert state rows of ``check_ids`` (``load_states()`` reads them all): what a
        listener re-reads for the checks a change notice names."""
        if not check_ids:
            return {}
        with self._pg.read_transaction(f"reading alert states of {self.path}") as rc:
            rows = rc.raw(
                "SELECT c.id, s.state, s.since, s.snapshot, s.updated_at FROM check_states s"
                " JOIN checks c ON c.pk = s.check_pk WHERE c.id = ANY(%s)",
                (list(check_ids),),
            )
        return {r[0]: StateRow(r[0], r[1], r[2], json.loads(r[3]), r[4]) for r in rows}


def _conforms(store: PostgresStore) -> Store:
    """Never called: makes mypy prove that PostgresStore implements the Store protocol."""
    return store
