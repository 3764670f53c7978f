"""The redis probe against the local Redis, with an ACL user created here for password logins."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest
import redis
from tests.integration.probes.endpoints import probe, shows_no_secret
from tests.servers.sockets import closed_port

from nyxmon.domain.model import Outcome
from nyxmon.probes.registry import ExecutorRegistry

pytestmark = pytest.mark.anyio

LOCAL = {"host": "127.0.0.1"}
SECRET = "Rd-s3cret-pass"


@pytest.fixture(scope="module")
def admin() -> Iterator[redis.Redis]:
    client = redis.Redis(host="127.0.0.1", port=6379)
    try:
        yield client
    finally:
        client.close()


@pytest.fixture(scope="module")
def user(admin: redis.Redis) -> Iterator[str]:
    """An ACL user with a password, only for these tests."""
    name = f"nyx-{secrets.token_hex(4)}"
    admin.acl_setuser(name, enabled=True, passwords=[f"+{SECRET}"], keys=["*"], commands=["+@all"])
    try:
        yield name
    finally:
        admin.acl_deluser(name)


async def test_login_and_ping_pass_with_timings(registry: ExecutorRegistry) -> None:
    result = await probe(registry, "redis", LOCAL)
    assert result.outcome is Outcome.OK, result.message
    assert result.message.startswith("redis 127.0.0.1:6379 answered in ")
    assert {"connect", "query", "total"} <= set(result.timings)


async def test_the_commands_answer_feeds_the_conditions(
    registry: ExecutorRegistry, admin: redis.Redis
) -> None:
    key = f"nyx:{secrets.token_hex(4)}"
    admin.rpush(key, "a", "b", "c")
    try:
        passing = await probe(
            registry, "redis", {**LOCAL, "command": f"LLEN {key}"}, "[VALUE] == 3"
        )
        assert passing.outcome is Outcome.OK, passing.message
        assert passing.message.endswith(", value 3")
        failing = await probe(registry, "redis", {**LOCAL, "command": f"LLEN {key}"}, "[VALUE] < 3")
        assert failing.outcome is Outcome.FAIL
        assert failing.message == "[VALUE] (3) < 3"
        missing = await probe(
            registry, "redis", {**LOCAL, "command": f"GET {key}:none"}, "has([VALUE])"
        )
        assert missing.outcome is Outcome.FAIL
    finally:
        admin.delete(key)


async def test_a_refused_command_fails_naming_the_error(registry: ExecutorRegistry) -> None:
    result = await probe(registry, "redis", {**LOCAL, "command": "NO_SUCH_COMMAND"})
    assert result.outcome is Outcome.FAIL
    assert result.message.startswith(
        "redis 127.0.0.1:6379: NO_SUCH_COMMAND failed: unknown command"
    )


async def test_a_closed_port_is_refused(registry: ExecutorRegistry) -> None:
    port = closed_port()
    result = await probe(registry, "redis", {**LOCAL, "port": port})
    assert result.outcome is Outcome.ERROR
    assert result.message == f"redis 127.0.0.1:{port}: Connection refused"


async def test_a_silent_server_times_out_naming_the_phase(
    registry: ExecutorRegistry, silent_port: int
) -> None:
    result = await probe(registry, "redis", {**LOCAL, "port": silent_port}, check_timeout=0.5)
    assert result.outcome is Outcome.TIMEOUT
    assert (
        result.message == f"no answer from redis 127.0.0.1:{silent_port} within 0.5 s (connecting)"
    )


async def test_the_right_password_logs_in(registry: ExecutorRegistry, user: str) -> None:
    params = {**LOCAL, "username": user, "password": SECRET, "command": f"ECHO {SECRET}"}
    result = await probe(registry, "redis", params)
    assert result.outcome is Outcome.OK, result.message
    assert result.details["value"] == "***"
    assert shows_no_secret(result, SECRET)


async def test_a_wrong_password_fails_without_showing_it(
    registry: ExecutorRegistry, user: str
) -> None:
    wrong = SECRET + "-wrong"
    result = await probe(registry, "redis", {**LOCAL, "username": user, "password": wrong})
    assert result.outcome is Outcome.FAIL
    assert result.message.startswith(
        "redis 127.0.0.1:6379: login refused: invalid username-password"
    )
    assert shows_no_secret(result, wrong)
