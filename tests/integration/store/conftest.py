"""Fixtures for the store contract suite, parametrized over store implementations."""

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
