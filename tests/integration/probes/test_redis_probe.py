"""The redis probe against the local Redis, with an ACL user created here for password logins."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager

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


async def test_resp3_answers_keep_their_shapes(
    registry: ExecutorRegistry, admin: redis.Redis
) -> None:
    key = f"nyx:{secrets.token_hex(4)}"
    admin.hset(f"{key}:h", mapping={"a": "1", "b": "2"})
    admin.sadd(f"{key}:s", "x")
    try:
        hashed = await probe(registry, "redis", {**LOCAL, "command": f"HGETALL {key}:h"})
        assert hashed.outcome is Outcome.OK, hashed.message
        assert hashed.details["value"] == '{"a":"1","b":"2"}'
        members = await probe(registry, "redis", {**LOCAL, "command": f"SMEMBERS {key}:s"})
        assert members.details["value"] == '["x"]'
        nothing = await probe(registry, "redis", {**LOCAL, "command": f"GET {key}:none"})
        assert nothing.outcome is Outcome.OK, nothing.message
        assert nothing.details["value"] == "null"
        score = await probe(registry, "redis", {**LOCAL, "command": "INCRBYFLOAT nyx:f 0"})
        assert score.details["value"] == "0"  # a bulk string, as redis-py read it
    finally:
        admin.delete(f"{key}:h", f"{key}:s", "nyx:f")


async def test_a_database_is_selected_and_a_missing_one_refused(
    registry: ExecutorRegistry, admin: redis.Redis
) -> None:
    admin.execute_command("SELECT", 0)
    key = f"nyx:{secrets.token_hex(4)}"
    other = redis.Redis(host="127.0.0.1", port=6379, db=3)
    other.set(key, "in three")
    try:
        found = await probe(registry, "redis", {**LOCAL, "database": 3, "command": f"GET {key}"})
        assert found.details["value"] == "in three", found.message
        missing = await probe(registry, "redis", {**LOCAL, "database": 999})
        assert missing.outcome is Outcome.FAIL
        assert missing.message == "redis 127.0.0.1:6379: login refused: DB index is out of range"
    finally:
        other.delete(key)
        other.close()


@asynccontextmanager
async def fake_server(
    answers: dict[bytes, bytes], greeting: bytes = b""
) -> AsyncIterator[tuple[int, list[bytes]]]:
    """A peer on 127.0.0.1 that answers each command (by its first word) with a canned reply
    and records what it was sent: an old Redis, or something that is not Redis at all."""
    seen: list[bytes] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(greeting)
        try:
            while True:
                header = await reader.readline()
                if not header.startswith(b"*"):
                    break
                words = []
                for _ in range(int(header[1:])):
                    size = int((await reader.readline())[1:])
                    words.append((await reader.readexactly(size + 2))[:-2])
                seen.append(b" ".join(words))
                answer = answers.get(words[0].upper())
                if answer is None:
                    break
                writer.write(answer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1], seen
    finally:
        server.close()


async def test_a_redis_without_hello_gets_resp2_auth_with_the_password_alone(
    registry: ExecutorRegistry,
) -> None:
    old = {
        b"HELLO": b"-ERR unknown command 'HELLO'\r\n",
        b"AUTH": b"+OK\r\n",
        b"PING": b"+PONG\r\n",
    }
    async with fake_server(old) as (port, seen):
        result = await probe(registry, "redis", {**LOCAL, "port": port, "password": SECRET})
    assert result.outcome is Outcome.OK, result.message
    assert seen == [
        b"HELLO 3 AUTH default " + SECRET.encode(),
        b"AUTH default " + SECRET.encode(),
        b"PING",
    ]
    older = {
        b"HELLO": b"-ERR unknown command 'HELLO'\r\n",
        b"AUTH": b"-ERR wrong number of arguments for 'auth' command\r\n",
        b"PING": b"+PONG\r\n",
    }
    async with fake_server(older) as (port, seen):
        result = await probe(registry, "redis", {**LOCAL, "port": port, "password": SECRET})
    assert result.outcome is Outcome.FAIL  # the password-alone AUTH gets the same answer here
    assert seen[-1] == b"AUTH " + SECRET.encode()
    assert shows_no_secret(result, SECRET)


@pytest.mark.parametrize(
    ("answers", "greeting", "message"),
    [
        pytest.param(
            {},
            b"SSH-2.0-OpenSSH_9.2\r\n",
            "not a Redis reply: b'SSH-2.0-OpenSSH_9.2'",
            id="not-redis",
        ),
        pytest.param({}, b"", "the server closed the connection", id="closed"),
        pytest.param({}, b"$10\r\nshort", "the server closed the connection", id="cut"),
    ],
)
async def test_a_peer_that_is_not_redis_is_an_error(
    registry: ExecutorRegistry, answers: dict[bytes, bytes], greeting: bytes, message: str
) -> None:
    async with fake_server(answers, greeting) as (port, _):
        result = await probe(registry, "redis", {**LOCAL, "port": port})
    assert result.outcome is Outcome.ERROR
    assert result.message == f"redis 127.0.0.1:{port}: {message}"
