"""Fixtures for the store contract suite, parametrized over store implementations.

Every test taking ``store`` or ``harness`` runs on each store: SQLite (a file in tmp_path)
and PostgreSQL (a schema of its own in the local ``test`` database, dropped afterwards; see
``PostgresHarness``). Files named ``test_sqlite_*`` and ``test_agent_lock.py`` open SQLite
directly, as they must: they test SQLite's own file lock, WAL and crash behaviour and the
schema-7 upgrade of SQLite files, none of which PostgreSQL has. Their PostgreSQL
counterparts are ``test_postgres_agents.py`` (several agents sharing one database) and
``test_postgres_copy.py`` (moving a SQLite installation over).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from store_helpers import FakeClock, PostgresHarness, SqliteHarness, StoreHarness

from nyxmon.service_layer.storage import Store

HARNESSES: dict[str, type[StoreHarness]] = {"sqlite": SqliteHarness, "postgres": PostgresHarness}


@pytest.fixture(params=[pytest.param(name, id=name) for name in HARNESSES])
def harness(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StoreHarness]:
    made = HARNESSES[request.param](tmp_path)
    yield made
    made.close_all()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def store(harness: StoreHarness, clock: FakeClock) -> Store:
    return harness.new(clock)
