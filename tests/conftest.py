"""Suite-wide pytest configuration: artefact folder and shared markers."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    """Where tests save things worth looking at after a run (screenshots, logs)."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


def pytest_report_header() -> str:
    return f"nyxmon tests; CI={os.environ.get('CI', 'false')}"
