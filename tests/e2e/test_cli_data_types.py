"""``nyxmon check add --type`` and ``check run`` with the database and broker types, as a
subprocess against the machine's local services."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.conftest import nyxmon
from tests.servers.data_checks import LOCAL_SERVICE_PARAMS
from tests.servers.sockets import closed_port


def _settings(params: dict[str, object]) -> list[str]:
    return [arg for key, value in params.items() for arg in ("--set", f"{key}={value}")]


@pytest.mark.parametrize("type_name", sorted(LOCAL_SERVICE_PARAMS))
def test_a_check_of_each_type_is_added_and_passes(tmp_path: Path, type_name: str) -> None:
    db = str(tmp_path / "cli.db")
    settings = _settings(LOCAL_SERVICE_PARAMS[type_name])
    added = nyxmon(
        "check",
        "add",
        "--db",
        db,
        "--service",
        "data",
        "--name",
        type_name,
        "--type",
        type_name,
        *settings,
    )
    assert added.returncode == 0, added.stderr
    ran = nyxmon("check", "run", f"data.{type_name}", "--db", db)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert "1 of 1 passed" in ran.stdout


def test_a_closed_port_makes_check_run_fail(tmp_path: Path) -> None:
    db = str(tmp_path / "cli.db")
    port = closed_port()
    added = nyxmon(
        "check",
        "add",
        "--db",
        db,
        "--service",
        "data",
        "--name",
        "cache",
        "--type",
        "redis",
        "--set",
        "host=127.0.0.1",
        "--set",
        f"port={port}",
    )
    assert added.returncode == 0, added.stderr
    ran = nyxmon("check", "run", "data.cache", "--db", db)
    assert ran.returncode == 1
    assert "Connection refused" in ran.stdout


def test_a_bad_setting_is_refused_naming_the_option(tmp_path: Path) -> None:
    db = tmp_path / "cli.db"
    done = nyxmon(
        "check",
        "add",
        "--db",
        str(db),
        "--service",
        "data",
        "--name",
        "pg",
        "--type",
        "postgres",
        "--set",
        "host=127.0.0.1",
        "--set",
        "sslmode=sometimes",
    )
    assert done.returncode == 1
    assert "--set sslmode" in done.stderr
