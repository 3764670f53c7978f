"""Helpers for the store contract suite: harnesses per implementation, builders, a clock.

A harness knows how to make a fresh store, reopen one, and tamper with its schema version;
everything else in the suite talks to the store through the implementation-neutral contract,
so a PostgreSQL store joins by adding a harness here and a ``pytest.param`` in conftest.py.
"""

from __future__ import annotations

import os
import sqlite3
import uuid
from pathlib import Path
from typing import Protocol

import psycopg
import pytest

from nyxmon.domain.model import Check, CheckSource, Outcome, Result
from nyxmon.service_layer.storage import Store
from nyxmon.store.postgres import PostgresStore
from nyxmon.store.sqlite import SqliteStore

#: A UTC midnight, so hour and day boundaries in tests are easy to read.
T0 = 1_699_920_000.0


class FakeClock:
    """A settable wall clock for created/updated/archived stamps."""

    def __init__(self, now: float = T0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class StoreHarness(Protocol):
    name: str

    def new(self, clock: FakeClock | None = None, *, settle: float = 300.0) -> Store: ...

    def reopen(self, store: Store) -> Store: ...

    def set_schema_version(self, store: Store, version: int) -> None: ...

    def close_all(self) -> None: ...


class SqliteHarness:
    name = "sqlite"

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._stores: list[SqliteStore] = []

    def _open(self, path: Path, clock: FakeClock, settle: float) -> SqliteStore:
        store = SqliteStore(path, clock=clock, rollup_settle=settle)
        self._stores.append(store)
        return store

    def new(self, clock: FakeClock | None = None, *, settle: float = 300.0) -> Store:
        path = self.folder / f"nyxmon-{len(self._stores)}.db"
        return self._open(path, clock or FakeClock(), settle)

    def reopen(self, store: Store) -> Store:
        assert isinstance(store, SqliteStore)
        store.close()
        return self._open(store.path, store._clock, store._settle)  # type: ignore[arg-type]

    def set_schema_version(self, store: Store, version: int) -> None:
        assert isinstance(store, SqliteStore)
        conn = sqlite3.connect(store.path)
        conn.execute(f"PRAGMA user_version = {version:d}")
        conn.commit()
        conn.close()

    def close_all(self) -> None:
        for store in self._stores:
            store.close()


#: The local PostgreSQL of the tests (trust auth); NYXMON_TEST_PG overrides it.
PG_BASE = os.environ.get("NYXMON_TEST_PG", "")


def pg_base_dsn() -> str:
    """A DSN that reaches the local test database, trying user ``postgres`` then the current
    user; the test is skipped, saying why, if neither connects."""
    global PG_BASE
    if PG_BASE:
        return PG_BASE
    errors = []
    for user in ("postgres", os.environ.get("USER", "root")):
        dsn = f"postgresql://{user}@127.0.0.1:5432/test"
        try:
            psycopg.connect(dsn, connect_timeout=3).close()
        except psycopg.Error as exc:
            errors.append(f"{user}: {str(exc).strip()}")
            continue
        PG_BASE = dsn
        return dsn
    pytest.skip(f"no PostgreSQL at 127.0.0.1:5432/test ({'; '.join(errors)})")


def schema_dsn(base: str, schema: str) -> str:
    return f"{base}?options=-csearch_path%3D{schema}"


class PgSchemas:
    """Fresh schemas in the test database, each dropped (with everything in it) at the end."""

    def __init__(self) -> None:
        self.base = pg_base_dsn()
        self.made: list[str] = []

    def new(self) -> str:
        """The DSN of a new, empty schema."""
        name = f"nyxtest_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.base, autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA "{name}"'.encode())
        self.made.append(name)
        return schema_dsn(self.base, name)

    def drop_all(self) -> None:
        if not self.made:
            return
        with psycopg.connect(self.base, autocommit=True) as conn:
            for name in self.made:
                conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE'.encode())
        self.made.clear()


class PostgresHarness:
    """Each store in a schema of its own on the local PostgreSQL, dropped afterwards."""

    name = "postgres"

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.schemas = PgSchemas()
        self._stores: list[PostgresStore] = []

    def _open(self, dsn: str, clock: FakeClock, settle: float) -> PostgresStore:
        store = PostgresStore(dsn, clock=clock, rollup_settle=settle, readers=3)
        self._stores.append(store)
        return store

    def new(self, clock: FakeClock | None = None, *, settle: float = 300.0) -> Store:
        return self._open(self.schemas.new(), clock or FakeClock(), settle)

    def reopen(self, store: Store) -> Store:
        assert isinstance(store, PostgresStore)
        store.close()
        return self._open(store.dsn, store._clock, store._settle)  # type: ignore[arg-type]

    def set_schema_version(self, store: Store, version: int) -> None:
        assert isinstance(store, PostgresStore)
        with psycopg.connect(store.dsn, autocommit=True) as conn:
            conn.execute("UPDATE nyxmon_schema SET version = %s", (version,))

    def close_all(self) -> None:
        for store in self._stores:
            store.close()
        self.schemas.drop_all()


def make_check(check_id: str, **overrides: object) -> Check:
    """A valid check; ``service.name`` ids give the service and name."""
    service, _, name = check_id.partition(".")
    fields: dict[str, object] = {
        "id": check_id,
        "service": service,
        "name": name or service,
        "type": "http",
        "interval": 30.0,
        "timeout": 5.0,
        "params": {"url": f"https://{service}.example/{name}"},
        "conditions": ("[STATUS] == 200",),
    }
    fields.update(overrides)
    return Check(**fields)  # type: ignore[arg-type]


def api_check(check_id: str, **overrides: object) -> Check:
    return make_check(check_id, source=CheckSource.API, **overrides)


def make_result(
    check_id: str,
    started_at: float,
    duration: float = 0.05,
    outcome: Outcome = Outcome.OK,
    *,
    degraded: bool = False,
) -> Result:
    return Result(
        check_id=check_id,
        scheduled_at=started_at,
        started_at=started_at,
        duration=duration,
        outcome=outcome,
        degraded=degraded,
        timings={"total": duration},
        details={"status": 200},
    )


def add_checks(store: Store, *check_ids: str) -> None:
    with store.transaction() as tx:
        for check_id in check_ids:
            tx.checks.upsert(api_check(check_id))
        tx.commit()


def roll_up_everything(store: Store, now: float) -> None:
    """Run rollup steps until none has more to do."""
    for _ in range(100_000):
        if not store.rollup_step(now).more:
            return
    raise AssertionError("rollup_step kept reporting more work")
