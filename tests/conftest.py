"""Suite-wide pytest configuration: artefact folder, a PostgreSQL schema per test."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.store.store_helpers import PgSchemas

ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    """Where tests save things worth looking at after a run (screenshots, logs)."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture
def pg_dsn() -> Iterator[str]:
    """A fresh schema of the local PostgreSQL (``?options=-csearch_path=...``), dropped with
    everything in it afterwards: tests and their agents never see each other's tables."""
    schemas = PgSchemas()
    try:
        yield schemas.new()
    finally:
        schemas.drop_all()


def pytest_report_header() -> str:
    return f"nyxmon tests; CI={os.environ.get('CI', 'false')}"
