from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from tests.servers.http_target import HttpTarget, ThreadedHttpTarget

from nyxmon.agent.agent import Agent
from nyxmon.bootstrap import build_agent
from nyxmon.config import LoadedConfig, load_config


def wait_for(predicate: Callable[[], object], timeout: float = 15.0, what: str = "") -> None:
    """Poll until ``predicate()`` is truthy; the timeout only bounds a broken run."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or predicate}")
        time.sleep(0.02)


@pytest.fixture
def target() -> Iterator[HttpTarget]:
    with ThreadedHttpTarget() as running:
        yield running


class ConfigFile:
    """Writes agent configs into a temp folder and loads them."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / "nyxmon.yaml"
        self.db = folder / "nyxmon.db"

    def write(self, services_yaml: str, *, grace: str = "5s") -> LoadedConfig:
        self.path.write_text(
            f"agent:\n  database: {self.db}\n  shutdown_grace: {grace}\n"
            "defaults: {interval: 1s, timeout: 900ms}\n"
            f"services:\n{services_yaml}"
        )
        return load_config(self.path)


@pytest.fixture
def config_file(tmp_path: Path) -> ConfigFile:
    return ConfigFile(tmp_path)


@pytest.fixture
def start_agent() -> Iterator[Callable[[LoadedConfig], Agent]]:
    agents: list[Agent] = []

    def start(config: LoadedConfig) -> Agent:
        agent = build_agent(config, watch_period=0.2, cleaner_period=3600)
        agents.append(agent)
        agent.start()
        return agent

    yield start
    for agent in agents:
        if agent.runtime.running:
            agent.stop(grace=2)
