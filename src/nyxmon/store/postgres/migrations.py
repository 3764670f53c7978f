"""Numbered SQL migrations for the PostgreSQL store, applied in order when it opens.

Files ``migrations/NNNN_name.sql``; the first is 0007 (a PostgreSQL store begins at the
logical schema the SQLite store reached in seven steps, and both keep one numbering from there
on). Each file runs in one transaction with the version row it sets, under a transaction-level
advisory lock, so two processes opening a fresh database at once migrate it once, and a failed
migration leaves the database at the previous version (PostgreSQL's DDL is transactional).
A database newer than the code is refused, as on SQLite.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from typing import Any

import psycopg

from nyxmon.errors import SchemaVersionError, StoreError

__all__ = ["FIRST_VERSION", "apply_migrations", "latest_version", "schema_version_of"]

_NAME_RE = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")
FIRST_VERSION = 7
#: Key of the advisory lock migrations take (any constant; "nyxmon" in ASCII).
MIGRATION_LOCK = 0x6E79786D6F6E
_VERSION_TABLE = (
    "CREATE TABLE IF NOT EXISTS nyxmon_schema ("
    " one boolean PRIMARY KEY DEFAULT true CHECK (one), version integer NOT NULL)"
)


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    sql: str


def bundled_migrations() -> tuple[Migration, ...]:
    folder = resources.files("nyxmon.store.postgres").joinpath("migrations")
    found = []
    for entry in folder.iterdir():
        match = _NAME_RE.match(entry.name)
        if match:
            found.append(Migration(int(match.group(1)), entry.name, entry.read_text("utf-8")))
    found.sort(key=lambda m: m.version)
    for expected, migration in enumerate(found, start=FIRST_VERSION):
        if migration.version != expected:
            raise StoreError(f"migration {migration.name} is out of sequence: expected {expected}")
    return tuple(found)


def latest_version() -> int:
    return bundled_migrations()[-1].version


def schema_version_of(conn: psycopg.Connection[Any]) -> int:
    """The schema version (0: no NyxMon tables yet)."""
    exists = conn.execute("SELECT to_regclass('nyxmon_schema') IS NOT NULL").fetchone()
    if not exists or not exists[0]:
        return 0
    row = conn.execute("SELECT version FROM nyxmon_schema").fetchone()
    return int(row[0]) if row else 0


def _refuse_newer(current: int, known: int, location: str) -> None:
    if current > known:
        raise SchemaVersionError(
            f"database {location} has schema version {current}, but this NyxMon knows only up "
            f"to version {known}; upgrade NyxMon or use a database made for this version"
        )


def apply_migrations(conn: psycopg.Connection[Any], location: str) -> int:
    """Bring the database on ``conn`` (autocommit mode) up to date; returns the version."""
    migrations = bundled_migrations()
    known = migrations[-1].version
    current = schema_version_of(conn)
    _refuse_newer(current, known, location)
    for migration in migrations:
        if migration.version <= current:
            continue
        try:
            with conn.transaction():
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
                conn.execute(_VERSION_TABLE)
                current = schema_version_of(conn)
                if current >= migration.version:
                    continue  # another process migrated meanwhile
                conn.execute(migration.sql.encode())
                conn.execute(
                    "INSERT INTO nyxmon_schema (version) VALUES (%s)"
                    " ON CONFLICT (one) DO UPDATE SET version = excluded.version",
                    (migration.version,),
                )
                current = migration.version
        except psycopg.Error as exc:
            raise StoreError(
                f"migration {migration.name} failed on {location}: {str(exc).strip()}; "
                f"the database stays at schema version {current}"
            ) from exc
    _refuse_newer(current, known, location)
    return current
