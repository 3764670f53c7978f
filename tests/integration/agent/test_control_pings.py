"""Pings over the agent's control socket, as a web plane in a process of its own sends them: a
burst from one connection is answered ping by ping, each answer only once its ping is in the
database, an unknown key is refused alone, and a malformed ping is refused without closing the
connection or losing the pings around it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.integration.agent.conftest import ConfigFile

from nyxmon.agent.agent import Agent
from nyxmon.bootstrap import build_control_server
from nyxmon.config import LoadedConfig
from nyxmon.control.client import ControlClient
from nyxmon.control.wire import RemoteError, ping_to_wire
from nyxmon.domain.push import Ping, PingKind
from nyxmon.errors import PingKeyNotFoundError
from nyxmon.store.sqlite.store import SqliteStore

KEYS = 20

PUSH_YAML = "  - name: jobs\n    checks:\n" + "".join(
    f"      - {{name: j{i}, type: push, token: key-{i:02d}, interval: 1h}}\n" for i in range(KEYS)
)


def _stored(db: Path, check_id: str) -> int:
    with SqliteStore(db, readonly=True) as store:
        return store.count_results(check_id, since=0, until=time.time() + 60)


async def _client(path: Path) -> ControlClient:
    client = ControlClient(path, on_statuses=lambda statuses, full: None, on_health=lambda h: None)
    await client.connect(timeout=10)
    client.start()
    return client


def _ping(key: str, kind: PingKind = PingKind.SUCCESS, body: bytes = b"") -> list[Any]:
    return ping_to_wire(Ping(key, kind, time.time(), body=body, remote_addr="127.0.0.1"))


@pytest.fixture
def served(
    config_file: ConfigFile, start_agent: Callable[[LoadedConfig], Agent], tmp_path: Path
) -> Iterator[tuple[Agent, Path, Path]]:
    agent = start_agent(config_file.write(PUSH_YAML))
    path = tmp_path / "control.sock"
    server = build_control_server(agent, path).start()
    yield agent, path, config_file.db
    server.stop()


def test_a_burst_of_pings_is_answered_each_once_durable(served: tuple[Agent, Path, Path]) -> None:
    _agent, path, db = served
    answered: dict[str, int] = {}
    short: list[tuple[str, int, int]] = []

    async def main() -> list[Any]:
        client = await _client(path)
        try:

            async def one(n: int) -> Any:
                check_id = await client.request(
                    "ping", timeout=10, ping=_ping(f"key-{n % KEYS:02d}", body=b"run %d" % n)
                )
                # Answered means stored: every ping of this check answered so far is in the
                # database already (counted now, before another answer can land).
                answered[check_id] = answered.get(check_id, 0) + 1
                stored = _stored(db, check_id)
                if stored < answered[check_id]:
                    short.append((check_id, answered[check_id], stored))
                return check_id

            return await asyncio.gather(*(one(n) for n in range(200)))
        finally:
            await client.aclose()

    answers = asyncio.run(main())
    assert answers == [f"jobs.j{n % KEYS}" for n in range(200)]
    assert short == []
    assert sum(_stored(db, f"jobs.j{i}") for i in range(KEYS)) == 200


def test_an_unknown_key_and_a_malformed_ping_are_refused_alone(
    served: tuple[Agent, Path, Path],
) -> None:
    _agent, path, db = served

    async def main() -> list[Any]:
        client = await _client(path)
        try:
            requests = [
                client.request("ping", timeout=10, ping=_ping("key-01")),
                client.request("ping", timeout=10, ping=_ping("no-such-key")),
                client.request("ping", timeout=10, ping=["key-02", "sideways"]),
                client.request("ping", timeout=10, ping=_ping("key-02", PingKind.START)),
            ]
            return await asyncio.gather(*requests, return_exceptions=True)
        finally:
            await client.aclose()

    ok, unknown, malformed, start = asyncio.run(main())
    assert ok == "jobs.j1"
    assert isinstance(unknown, PingKeyNotFoundError)
    assert isinstance(malformed, RemoteError)
    assert "a ping on the wire is malformed" in str(malformed)
    assert start == "jobs.j2"
    assert _stored(db, "jobs.j1") == 1
    assert _stored(db, "jobs.j2") == 1  # the start; the malformed ping stored nothing
