"""Helpers for the store contract suite: harnesses per implementation, builders, a clock.

A harness knows how to make a fresh store, reopen one, and tamper with its schema version;
everything else in the suite talks to the store through the implementation-neutral contract,
so a PostgreSQL store joins by adding a harness here and a ``pytest.param`` in conftest.py.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Protocol

from nyxmon.domain.model import Check, CheckSource, Outcome, Result
from nyxmon.service_layer.storage import Store
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
