"""Moving an installation from a SQLite file to PostgreSQL (``nyxmon db copy``).

Every table is copied as it is stored (same ids and check keys, packed blocks as they are), so
links, outbox ids, token ids and rollup progress stay valid. Large tables go in chunks, each
chunk one transaction ordered by key, by ``COPY``: an interrupted copy resumes from the largest
key already in the target (integer keys: ids, or check key and period start for rollups).
Small tables keyed by text (services, users, settings, sessions, states) are copied whole
with ``ON CONFLICT DO NOTHING``, which resumes by itself. Identity sequences then move past the
copied ids, and every table's row count must match the source's, or the copy says which
does not.

The source must be at the schema version the target is at (open it once with this NyxMon to
migrate it) and no agent may run on it: the copy takes the agent lock of the file, so an
agent cannot start on it meanwhile either.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

from nyxmon.errors import StoreError
from nyxmon.store.postgres.cluster_schema import CLUSTER_COLUMNS
from nyxmon.store.postgres.connections import configure, pg_errors, redact_dsn
from nyxmon.store.postgres.migrations import apply_migrations
from nyxmon.store.sqlite.agent_lock import AgentLock
from nyxmon.store.sqlite.migrations import schema_version_of

__all__ = ["TABLES", "CopyReport", "TableCopy", "copy_sqlite_to_postgres"]


@dataclass(frozen=True, slots=True)
class TableCopy:
    name: str
    #: Columns ordering (and resuming) a chunked copy; empty: copied whole, conflicts skipped.
    key: tuple[str, ...] = ()
    #: The identity column whose sequence must move past the copied rows.
    identity: str | None = None


#: In foreign-key order.
TABLES: tuple[TableCopy, ...] = (
    TableCopy("services"),
    TableCopy("checks", ("pk",), "pk"),
    TableCopy("results", ("id",), "id"),
    TableCopy("result_templates", ("id",), "id"),
    TableCopy("result_blocks", ("id",), "id"),
    TableCopy("rollup_hourly", ("check_pk", "start")),
    TableCopy("rollup_daily", ("check_pk", "start")),
    TableCopy("rollup_progress"),
    TableCopy("check_states"),
    TableCopy("location_views"),
    TableCopy("state_changes", ("id",), "id"),
    TableCopy("outbox", ("id",), "id"),
    TableCopy("users"),
    TableCopy("api_tokens", ("id",), "id"),
    TableCopy("settings"),
    TableCopy("web_sessions"),
)


@dataclass(frozen=True, slots=True)
class CopyReport:
    #: table -> (rows in the source, rows copied by this run, rows in the target now)
    tables: dict[str, tuple[int, int, int]]

    @property
    def verified(self) -> bool:
        return all(source == target for source, _, target in self.tables.values())


def _quote(column: str) -> str:
    return f'"{column}"'


def _columns(pg: psycopg.Connection[Any], table: str) -> list[str]:
    rows = pg.execute(
        "SELECT column_name FROM information_schema.columns"
        " WHERE table_schema = current_schema() AND table_name = %s ORDER BY ordinal_position",
        (table,),
    ).fetchall()
    several_agents_only = CLUSTER_COLUMNS.get(table, frozenset())
    return [str(r[0]) for r in rows if str(r[0]) not in several_agents_only]


def _copy_chunked(
    src: sqlite3.Connection,
    pg: psycopg.Connection[Any],
    spec: TableCopy,
    columns: Sequence[str],
    chunk: int,
) -> int:
    cols = ", ".join(_quote(c) for c in columns)
    keys = ", ".join(spec.key)
    last = pg.execute(
        f"SELECT {keys} FROM {spec.name} ORDER BY {' DESC, '.join(spec.key)} DESC LIMIT 1".encode()
    ).fetchone()
    where = ""
    params: tuple[Any, ...] = ()
    if last is not None:
        where = f" WHERE ({keys}) > ({', '.join('?' * len(spec.key))})"
        params = tuple(last)
    cursor = src.execute(f"SELECT {cols} FROM {spec.name}{where} ORDER BY {keys}", params)
    copied = 0
    while rows := cursor.fetchmany(chunk):
        with (
            pg.transaction(),
            pg.cursor() as cur,
            cur.copy(f"COPY {spec.name} ({cols}) FROM STDIN".encode()) as copy,
        ):
            for row in rows:
                copy.write_row(row)
        copied += len(rows)
    return copied


def _copy_whole(
    src: sqlite3.Connection, pg: psycopg.Connection[Any], spec: TableCopy, columns: Sequence[str]
) -> int:
    cols = ", ".join(_quote(c) for c in columns)
    rows = src.execute(f"SELECT {cols} FROM {spec.name}").fetchall()
    if not rows:
        return 0
    marks = ", ".join(["%s"] * len(columns))
    with pg.transaction(), pg.cursor() as cur:
        cur.executemany(
            f"INSERT INTO {spec.name} ({cols}) VALUES ({marks}) ON CONFLICT DO NOTHING".encode(),
            rows,
        )
        return max(cur.rowcount, 0)


def _count(conn: Any, table: str) -> int:
    return int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


def copy_sqlite_to_postgres(
    source: Path,
    dsn: str,
    *,
    chunk: int = 10_000,
    progress: Callable[[str, int, int], None] | None = None,
) -> CopyReport:
    """Copy the installation in the SQLite file ``source`` into the PostgreSQL ``dsn``
    (migrated first); resumable, verified by counts (:attr:`CopyReport.verified`)."""
    if not source.is_file():
        raise StoreError(f"no SQLite database at {source}")
    lock = AgentLock(source).acquire()  # no agent writes to the source meanwhile
    try:
        src = sqlite3.connect(f"{source.absolute().as_uri()}?mode=ro", uri=True)
        try:
            src.execute("BEGIN")  # one snapshot of the source for the whole copy
            version = schema_version_of(src)
            with pg_errors(f"copying {source} to PostgreSQL", dsn):
                pg = psycopg.connect(dsn, autocommit=True)
                try:
                    configure(pg)
                    target_version = apply_migrations(pg, redact_dsn(dsn))
                    if version != target_version:
                        raise StoreError(
                            f"{source} has schema version {version}, the PostgreSQL store "
                            f"version {target_version}: open {source} once with this NyxMon "
                            "(e.g. nyxmon db info --db FILE) to migrate it, then copy"
                        )
                    return _copy_all(src, pg, chunk, progress)
                finally:
                    pg.close()
        finally:
            src.close()
    finally:
        lock.release()


def _copy_all(
    src: sqlite3.Connection,
    pg: psycopg.Connection[Any],
    chunk: int,
    progress: Callable[[str, int, int], None] | None,
) -> CopyReport:
    tables: dict[str, tuple[int, int, int]] = {}
    for spec in TABLES:
        columns = _columns(pg, spec.name)
        total = _count(src, spec.name)
        before = _count(pg, spec.name)
        if before > total:
            raise StoreError(
                f"table {spec.name} holds {before} rows in PostgreSQL but only {total} in the "
                "SQLite file: the target is not empty (copy into a new database or schema)"
            )
        if spec.key:
            copied = _copy_chunked(src, pg, spec, columns, chunk)
        else:
            copied = _copy_whole(src, pg, spec, columns)
        if spec.identity is not None:
            # Past every id SQLite ever gave out (AUTOINCREMENT never reuses one, and packed
            # or deleted results took theirs along), not only past the rows still there.
            used = src.execute(
                "SELECT seq FROM sqlite_sequence WHERE name = ?", (spec.name,)
            ).fetchone()
            pg.execute(
                f"SELECT setval(pg_get_serial_sequence('{spec.name}', '{spec.identity}'),"
                f" greatest((SELECT max({spec.identity}) FROM {spec.name}), %s, 1))".encode(),
                (int(used[0]) if used else 0,),
            )
        tables[spec.name] = (total, copied, _count(pg, spec.name))
        if progress is not None:
            progress(spec.name, copied, total)
    return CopyReport(tables)
