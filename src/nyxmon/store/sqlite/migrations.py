"""Numbered SQL migrations applied in order when a SQLite store opens.

Files ``migrations/NNNN_name.sql`` are applied one by one, each in its own transaction that
also sets ``PRAGMA user_version`` to its number, so a failing migration leaves the database
exactly as the previous one left it. A database newer than the code is refused: running old
code on a newer schema could silently corrupt data the new code relies on.

A migration too big for one transaction is Python (:func:`_python_migrations`): it runs its own
transactions, must be resumable from any of them, and sets the version in its last one. An
existing database (one that had a version before) is copied aside first when such a migration
asks for a backup.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Protocol

from nyxmon.errors import SchemaVersionError, StoreError

__all__ = [
    "Migration",
    "MigrationStep",
    "apply_migrations",
    "bundled_migrations",
    "latest_version",
    "split_sql",
]

_NAME_RE = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


class MigrationStep(Protocol):
    def __call__(self, conn: sqlite3.Connection, location: str, *, existing: bool) -> None: ...


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    sql: str
    #: For a Python migration: runs it on the writer (autocommit); ``existing`` is whether the
    #: database had data before this run (a fresh one needs no backup).
    run: MigrationStep | None = None


def _python_migrations() -> tuple[Migration, ...]:
    from nyxmon.store.sqlite.migrate_packed import migrate_to_packed

    return (Migration(7, "0007_packed_results (Python)", "", migrate_to_packed),)


def bundled_migrations() -> tuple[Migration, ...]:
    """The migrations shipped in ``nyxmon/store/sqlite/migrations``, in version order."""
    folder = resources.files("nyxmon.store.sqlite").joinpath("migrations")
    found: list[Migration] = []
    for entry in folder.iterdir():
        match = _NAME_RE.match(entry.name)
        if match:
            found.append(Migration(int(match.group(1)), entry.name, entry.read_text("utf-8")))
    found.extend(_python_migrations())
    found.sort(key=lambda m: m.version)
    for expected, migration in enumerate(found, start=1):
        if migration.version != expected:
            raise StoreError(f"migration {migration.name} is out of sequence: expected {expected}")
    return tuple(found)


def latest_version(migrations: Sequence[Migration] | None = None) -> int:
    migrations = bundled_migrations() if migrations is None else migrations
    return migrations[-1].version if migrations else 0


def split_sql(script: str) -> list[str]:
    """Split a script into statements (``executescript`` would commit our transaction)."""
    statements: list[str] = []
    pending = ""
    for line in script.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            statements.append(pending.strip())
            pending = ""
    if pending.strip() and not all(
        ln.strip().startswith("--") or not ln.strip() for ln in pending.splitlines()
    ):
        raise StoreError(f"unterminated SQL statement: {pending.strip()[:80]!r}")
    return statements


def schema_version_of(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def apply_migrations(
    conn: sqlite3.Connection, location: str, migrations: Sequence[Migration] | None = None
) -> int:
    """Bring the database on ``conn`` (autocommit mode) up to date; returns the version."""
    migrations = bundled_migrations() if migrations is None else migrations
    known = latest_version(migrations)
    current = schema_version_of(conn)
    if current > known:
        raise SchemaVersionError(
            f"database {location} has schema version {current}, but this NyxMon knows only up "
            f"to version {known}; upgrade NyxMon or use a copy of the database made for it"
        )
    existing = current > 0
    for migration in migrations:
        if migration.version <= current:
            continue
        if migration.run is not None:
            migration.run(conn, location, existing=existing)
            current = schema_version_of(conn)
            if current < migration.version:
                raise StoreError(f"migration {migration.name} did not finish on {location}")
            continue
        conn.execute("BEGIN IMMEDIATE")
        # Another process may have migrated between our read and taking the write lock.
        if schema_version_of(conn) >= migration.version:
            conn.execute("ROLLBACK")
            current = migration.version
            continue
        try:
            for statement in split_sql(migration.sql):
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {migration.version:d}")
        except BaseException as exc:
            conn.execute("ROLLBACK")
            if isinstance(exc, sqlite3.Error):
                raise StoreError(
                    f"migration {migration.name} failed on {location}: {exc}; "
                    f"the database stays at schema version {current}"
                ) from exc
            raise
        conn.execute("COMMIT")
        current = migration.version
    return current
