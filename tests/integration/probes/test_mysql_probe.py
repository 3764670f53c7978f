"""The mysql probe against the local MariaDB (root without a password, db ``test``), with a
user created here for password logins."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pymysql
import pytest
from tests.integration.probes.endpoints import probe, shows_no_secret
from tests.servers.sockets import closed_port

from nyxmon.domain.model import Outcome
from nyxmon.probes.registry import ExecutorRegistry

pytestmark = pytest.mark.anyio

LOCAL = {"host": "127.0.0.1", "database": "test"}
SECRET = "My-s3cret-pass"


@pytest.fixture(scope="module")
def user() -> Iterator[str]:
    """A user with a password, only for these tests."""
    name = f"nyx_{secrets.token_hex(4)}"
    admin = pymysql.connect(host="127.0.0.1", user="root", password="", autocommit=True)
    try:
        with admin.cursor() as cursor:
            cursor.execute(f"CREATE USER '{name}'@'%' IDENTIFIED BY '{SECRET}'")
        yield name
    finally:
        with admin.cursor() as cursor:
            cursor.execute(f"DROP USER IF EXISTS '{name}'@'%'")
        admin.close()


async def test_login_and_ping_pass_with_timings(registry: ExecutorRegistry) -> None:
    result = await probe(registry, "mysql", LOCAL)
    assert result.outcome is Outcome.OK, result.message
    assert result.message.startswith("mysql 127.0.0.1:3306 answered in ")
    assert {"connect", "query", "total"} <= set(result.timings)


async def test_the_querys_first_value_feeds_the_conditions(registry: ExecutorRegistry) -> None:
    passing = await probe(registry, "mysql", {**LOCAL, "query": "SELECT 6 * 7"}, "[VALUE] == 42")
    assert passing.outcome is Outcome.OK, passing.message
    assert passing.details["value"] == "42"
    failing = await probe(registry, "mysql", {**LOCAL, "query": "SELECT 1.5, 'x'"}, "[VALUE] >= 2")
    assert failing.outcome is Outcome.FAIL
    assert failing.message == "[VALUE] (1.5) >= 2"


async def test_a_failing_query_fails_naming_the_error(registry: ExecutorRegistry) -> None:
    result = await probe(registry, "mysql", {**LOCAL, "query": "SELECT no_such_column"})
    assert result.outcome is Outcome.FAIL
    assert result.message == (
        "mysql 127.0.0.1:3306: query failed: Unknown column 'no_such_column' in 'SELECT'"
    )


async def test_a_closed_port_is_refused(registry: ExecutorRegistry) -> None:
    port = closed_port()
    result = await probe(registry, "mysql", {**LOCAL, "port": port})
    assert result.outcome is Outcome.ERROR
    assert result.message == f"mysql 127.0.0.1:{port}: Connection refused"


async def test_a_silent_server_times_out_naming_the_phase(
    registry: ExecutorRegistry, silent_port: int
) -> None:
    result = await probe(registry, "mysql", {**LOCAL, "port": silent_port}, check_timeout=0.5)
    assert result.outcome is Outcome.TIMEOUT
    assert (
        result.message == f"no answer from mysql 127.0.0.1:{silent_port} within 0.5 s (connecting)"
    )


async def test_the_right_password_logs_in(registry: ExecutorRegistry, user: str) -> None:
    params = {"host": "127.0.0.1", "username": user, "password": SECRET}
    result = await probe(registry, "mysql", {**params, "query": f"SELECT '{SECRET}'"})
    assert result.outcome is Outcome.OK, result.message
    assert result.details["value"] == "***"
    assert shows_no_secret(result, SECRET)


async def test_a_wrong_password_fails_without_showing_it(
    registry: ExecutorRegistry, user: str
) -> None:
    wrong = SECRET + "-wrong"
    result = await probe(
        registry, "mysql", {"host": "127.0.0.1", "username": user, "password": wrong}
    )
    assert result.outcome is Outcome.FAIL
    assert result.message.startswith(
        f"mysql 127.0.0.1:3306: login refused: Access denied for user '{user}'"
    )
    assert shows_no_secret(result, wrong)
