"""Health tells the truth: failing store writes make the agent not ready, and it recovers."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.integration.agent.conftest import ConfigFile, wait_for
from tests.servers.http_target import HttpTarget

from nyxmon.agent.agent import Agent
from nyxmon.agent.health import HealthThresholds
from nyxmon.bootstrap import build_agent
from nyxmon.errors import StoreError
from nyxmon.service_layer.records.batches import WriteBatch, WriteReceipt
from nyxmon.store.sqlite import SqliteStore


class FullDisk(SqliteStore):
    """A real SQLite store whose batch writes fail while ``full`` is set, as on a full disk."""

    def __init__(self, path: str) -> None:
        super().__init__(path)
        self.full = threading.Event()

    def write_batch(self, batch: WriteBatch) -> WriteReceipt:
        if self.full.is_set():
            raise StoreError("database or disk is full")
        return super().write_batch(batch)


@pytest.fixture
def agent_on_full_disk(
    config_file: ConfigFile, target: HttpTarget
) -> Iterator[tuple[Agent, FullDisk]]:
    config = config_file.write(
        f"  - name: web\n    checks:\n      - {{name: a, type: http, url: '{target.url('/')}'}}\n"
    )
    store = FullDisk(str(config_file.db))
    agent = build_agent(
        config,
        store=store,
        watch_period=0.2,
        cleaner_period=3600,
        health=HealthThresholds(write_grace=1.0),
    )
    agent.start()
    yield agent, store
    agent.stop(grace=2)


def _health(agent: Agent) -> dict[str, Any]:
    return agent.health().to_dict()


def test_failing_writes_make_the_agent_not_ready_and_it_recovers_losing_nothing(
    agent_on_full_disk: tuple[Agent, FullDisk], tmp_path: Path
) -> None:
    agent, store = agent_on_full_disk
    wait_for(lambda: store.count_results("web.a") >= 1, what="a first result written")
    assert _health(agent)["status"] == "ok"
    store.full.set()
    wait_for(lambda: not agent.health().ready, timeout=20, what="health to notice the failures")
    health = _health(agent)
    assert (health["status"], health["live"], health["ready"]) == ("failing", True, False)
    assert any("database or disk is full" in problem for problem in health["problems"])
    assert health["figures"]["rows_waiting"] > 0
    waiting_results = agent.app.statistics().staged
    written_before = store.count_results("web.a")
    store.full.clear()
    wait_for(lambda: agent.health().ready, timeout=30, what="recovery")
    wait_for(
        lambda: store.count_results("web.a") >= written_before + waiting_results,
        what="the results kept in memory to be written",
    )
    assert _health(agent)["figures"]["results_dropped"] == 0
