"""The postgres probe against the local PostgreSQL server (trust, db ``test``) and, for wrong
passwords, a private server with password logins."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from tests.integration.probes.endpoints import probe, shows_no_secret
from tests.servers.postgres_cluster import private_postgres
from tests.servers.sockets import closed_port

from nyxmon.domain.model import Outcome
from nyxmon.probes.registry import ExecutorRegistry

pytestmark = [pytest.mark.anyio, pytest.mark.postgres]

LOCAL = {"host": "127.0.0.1", "database": "test"}
SECRET = "Pg-s3cret-pass"


async def test_login_and_ping_pass_with_timings(registry: ExecutorRegistry) -> None:
    result = await probe(registry, "postgres", LOCAL)
    assert result.outcome is Outcome.OK, result.message
    assert result.message.startswith("postgres 127.0.0.1:5432 answered in ")
    assert {"connect", "query", "total"} <= set(result.timings)
    assert "value" not in result.details


async def test_the_querys_first_value_feeds_the_conditions(registry: ExecutorRegistry) -> None:
    params = {**LOCAL, "query": "SELECT count(*) + 41, 'second' FROM pg_database"}
    passing = await probe(registry, "postgres", {**LOCAL, "query": "SELECT 6 * 7"}, "[VALUE] == 42")
    assert passing.outcome is Outcome.OK, passing.message
    assert passing.details["value"] == "42"
    failing = await probe(registry, "postgres", params, "[VALUE] < 42")
    assert failing.outcome is Outcome.FAIL
    assert failing.message.startswith("[VALUE] (")
    assert failing.message.endswith(") < 42")


async def test_json_values_are_read_by_path(registry: ExecutorRegistry) -> None:
    query = """SELECT '{"replicas": {"lag": 3}}'::jsonb"""
    result = await probe(
        registry, "postgres", {**LOCAL, "query": query}, "[VALUE].replicas.lag < 2"
    )
    assert result.outcome is Outcome.FAIL
    assert result.message == "[VALUE].replicas.lag (3) < 2"


async def test_a_query_without_rows_leaves_value_missing(registry: ExecutorRegistry) -> None:
    params = {**LOCAL, "query": "SELECT 1 WHERE false"}
    result = await probe(registry, "postgres", params, "[VALUE] == 1")
    assert result.outcome is Outcome.FAIL
    assert result.message == "[VALUE] (missing: the query returned no rows) == 1"


async def test_a_failing_query_fails_naming_the_error(registry: ExecutorRegistry) -> None:
    result = await probe(registry, "postgres", {**LOCAL, "query": "SELECT no_such_column"})
    assert result.outcome is Outcome.FAIL
    assert result.message.startswith("postgres 127.0.0.1:5432: query failed: column ")


async def test_a_closed_port_is_refused(registry: ExecutorRegistry) -> None:
    port = closed_port()
    result = await probe(registry, "postgres", {**LOCAL, "port": port})
    assert result.outcome is Outcome.ERROR
    assert result.message.startswith(f"postgres 127.0.0.1:{port}: ")
    assert "Connection refused" in result.message


async def test_a_silent_server_times_out_naming_the_phase(
    registry: ExecutorRegistry, silent_port: int
) -> None:
    result = await probe(registry, "postgres", {**LOCAL, "port": silent_port}, check_timeout=0.5)
    assert result.outcome is Outcome.TIMEOUT
    assert result.message == (
        f"no answer from postgres 127.0.0.1:{silent_port} within 0.5 s (connecting)"
    )


async def test_an_unknown_database_is_a_refused_login(registry: ExecutorRegistry) -> None:
    result = await probe(registry, "postgres", {**LOCAL, "database": "no_such_db"})
    assert result.outcome is Outcome.FAIL
    assert "login refused" in result.message
    assert "no_such_db" in result.message


@pytest.fixture(scope="module")
def password_server() -> Iterator[int]:
    with private_postgres(SECRET) as port:
        yield port


async def test_the_right_password_logs_in(registry: ExecutorRegistry, password_server: int) -> None:
    params = {"host": "127.0.0.1", "port": password_server, "password": SECRET}
    result = await probe(registry, "postgres", {**params, "query": f"SELECT '{SECRET}'"})
    assert result.outcome is Outcome.OK, result.message
    assert result.details["value"] == "***"  # even the query's own answer is scrubbed
    assert shows_no_secret(result, SECRET)


async def test_a_wrong_password_fails_without_showing_it(
    registry: ExecutorRegistry, password_server: int
) -> None:
    wrong = SECRET + "-wrong"
    params = {"host": "127.0.0.1", "port": password_server, "password": wrong}
    result = await probe(registry, "postgres", params)
    assert result.outcome is Outcome.FAIL
    assert result.message == (
        f"postgres 127.0.0.1:{password_server}: login refused: "
        'FATAL: password authentication failed for user "postgres"'
    )
    assert shows_no_secret(result, wrong)
