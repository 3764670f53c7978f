"""Alerting in the running agent: state machines, the outbox, delivery to a real webhook."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest
from tests.integration.agent.conftest import wait_for
from tests.servers.http_target import HttpTarget
from tests.servers.webhook_receiver import ThreadedWebhookReceiver, WebhookReceiver

from nyxmon.agent.agent import Agent
from nyxmon.agent.scheduler import phase_of
from nyxmon.bootstrap import build_agent
from nyxmon.config import LoadedConfig, load_config
from nyxmon.notify import RetryPolicy
from nyxmon.store.sqlite.store import SqliteStore

SECRET = "s3cret"
FAST_RETRY = RetryPolicy(base=0.2, cap=0.5, give_up_after=120)


@pytest.fixture
def hook() -> Iterator[WebhookReceiver]:
    with ThreadedWebhookReceiver(secret=SECRET) as receiver:
        yield receiver


class AlertSetup:
    def __init__(self, folder: Path, target: HttpTarget, hook: WebhookReceiver) -> None:
        self.path = folder / "nyxmon.yaml"
        self.db = folder / "nyxmon.db"
        self.target = target
        self.hook = hook
        self.agents: list[Agent] = []

    def config(self, *, extra_check: str = "", alert: str = "", extra: str = "") -> LoadedConfig:
        self.path.write_text(
            f"agent: {{database: {self.db}, shutdown_grace: 3s}}\n"
            "defaults:\n  interval: 1s\n  timeout: 900ms\n"
            f"  alert: {{failure_threshold: 2, success_threshold: 2{alert}}}\n"
            "alerting:\n  routes:\n"
            f"    - {{name: hook, type: webhook, url: '{self.hook.url()}', secret: {SECRET}}}\n"
            f"{extra}"
            "services:\n  - name: web\n    checks:\n"
            f"      - {{name: site, type: http, url: '{self.target.url('/switch')}'}}\n"
            f"{extra_check}"
        )
        return load_config(self.path)

    def start(self, config: LoadedConfig) -> Agent:
        agent = build_agent(config, watch_period=0.2, cleaner_period=3600, notify_retry=FAST_RETRY)
        self.agents.append(agent)
        agent.start()
        return agent

    def kinds(self, check_id: str = "web.site") -> list[str]:
        return [doc["kind"] for doc in self.hook.state.accepted_for(check_id)]

    def state_of(self, agent: Agent, check_id: str = "web.site") -> str:
        return agent.control.statuses()[check_id].state


@pytest.fixture
def setup(tmp_path: Path, target: HttpTarget, hook: WebhookReceiver) -> Iterator[AlertSetup]:
    made = AlertSetup(tmp_path, target, hook)
    yield made
    for agent in made.agents:
        if agent.runtime.running:
            agent.stop(grace=2)


def switch(target: HttpTarget, healthy: bool) -> None:
    target.state.healthy = healthy


def test_down_then_recovered_sends_one_signed_notice_each(setup: AlertSetup) -> None:
    agent = setup.start(setup.config())
    wait_for(lambda: setup.state_of(agent) == "up", what="the check to come up")
    switch(setup.target, False)
    wait_for(lambda: setup.kinds() == ["down"], what="the DOWN notification")
    switch(setup.target, True)
    wait_for(lambda: setup.kinds() == ["down", "recovered"], what="the RECOVERED notification")
    recovered = setup.hook.state.accepted_for("web.site")[1]
    assert recovered["duration_seconds"] > 0
    assert "503" in setup.hook.state.accepted_for("web.site")[0]["message"]
    assert setup.hook.state.bad_signatures == 0
    assert not setup.hook.state.duplicates
    wait_for(lambda: agent.store.outbox_counts() == {"delivered": 2}, what="outcomes stored")
    states = [(t.from_state, t.to_state) for t in reversed(agent.store.transitions("web.site"))]
    assert ("up", "down") in states
    assert states[-1][1] == "up"


def test_a_receiver_that_was_down_gets_every_notice_once_and_in_order(
    setup: AlertSetup,
) -> None:
    setup.hook.state.fail_status = 500
    agent = setup.start(setup.config())
    wait_for(lambda: setup.state_of(agent) == "up")
    switch(setup.target, False)
    wait_for(lambda: setup.state_of(agent) == "down")
    switch(setup.target, True)
    wait_for(lambda: setup.state_of(agent) == "up")
    wait_for(
        lambda: any(i.attempts >= 2 for i in agent.store.outbox(status="pending")),
        what="failed attempts recorded",
    )
    setup.hook.state.fail_status = None
    wait_for(lambda: setup.kinds() == ["down", "recovered"], what="both after the outage")
    assert not setup.hook.state.duplicates
    wait_for(lambda: agent.store.outbox_counts() == {"delivered": 2})


def test_a_restart_resumes_the_state_without_a_second_down(setup: AlertSetup) -> None:
    config = setup.config()
    first = setup.start(config)
    wait_for(lambda: setup.state_of(first) == "up")
    switch(setup.target, False)
    wait_for(lambda: setup.kinds() == ["down"])
    first.stop(grace=2)

    second = setup.start(setup.config())
    assert setup.state_of(second) == "down", "the machine resumes from its saved state"
    runs = second.store.count_results("web.site")
    wait_for(
        lambda: second.store.count_results("web.site") >= runs + 4,
        what="more failing runs after the restart",
    )
    assert setup.kinds() == ["down"], "no second DOWN"
    switch(setup.target, True)
    wait_for(lambda: setup.kinds() == ["down", "recovered"])


def test_quiet_counters_are_saved_at_stop(setup: AlertSetup) -> None:
    """Results that change no state still move counters; a stop saves them all."""
    agent = setup.start(setup.config())
    wait_for(lambda: setup.state_of(agent) == "up")
    wait_for(lambda: agent.store.count_results("web.site") >= 4, what="a few more passing runs")
    agent.stop(grace=2)
    with SqliteStore(setup.db, readonly=True) as store:
        saved = store.load_states()["web.site"]
        total = store.count_results("web.site")
    assert saved.state == "up"
    assert saved.snapshot["consecutive_ok"] == total, "every passing run is in the snapshot"


def test_retries_rerun_a_failing_check_before_it_counts(setup: AlertSetup) -> None:
    # A name whose regular slot is at least 20 s away: only run-now and its retries run here.
    now = time.time()
    name = next(
        f"retry-{i}" for i in range(10_000) if (phase_of(f"web.retry-{i}") * 60 - now) % 60 > 20
    )
    check = (
        f"      - {{name: {name}, type: http, url: '" + setup.target.url("/status/500") + "',"
        " interval: 60s, timeout: 1s, alert: {retries: 2, retry_interval: 300ms,"
        " failure_threshold: 1}}\n"
    )
    agent = setup.start(setup.config(extra_check=check))
    check_id = f"web.{name}"
    anyio.run(agent.control.run_check_now, check_id)
    wait_for(lambda: setup.kinds(check_id) == ["down"], what="DOWN after the retries")
    assert setup.target.state.hits["/status/500"] == 3, "the failure and two quick retries"
    assert agent.store.count_results(check_id) == 3


def test_nothing_is_sent_inside_a_maintenance_window(setup: AlertSetup) -> None:
    window = (
        "maintenance:\n  - {name: now, all: true, start: '2020-01-01T00:00:00Z',"
        " end: '2099-01-01T00:00:00Z'}\n"
    )
    agent = setup.start(setup.config(extra=window))
    switch(setup.target, False)
    wait_for(lambda: setup.state_of(agent) == "maintenance")
    wait_for(lambda: agent.store.count_results("web.site") >= 4)
    assert setup.kinds() == []
    assert agent.store.outbox() == ()


def test_a_slow_route_does_not_hold_up_probes_or_another_route(setup: AlertSetup) -> None:
    server = ThreadedWebhookReceiver()
    slow = server.start()
    try:
        server.call(lambda state: setattr(state, "hold", True))
        extra_route = f"    - {{name: slow, type: webhook, url: '{slow.url()}'}}\n"
        text = (
            setup.config()
            .path.read_text()
            .replace("alerting:\n  routes:\n", "alerting:\n  routes:\n" + extra_route)
        )
        setup.path.write_text(text)
        agent = setup.start(load_config(setup.path))
        wait_for(lambda: setup.state_of(agent) == "up")
        switch(setup.target, False)
        wait_for(lambda: setup.kinds() == ["down"], what="the fast route's DOWN")
        wait_for(lambda: slow.state.held >= 1, what="the slow route holding its request")
        before = agent.store.count_results("web.site")
        wait_for(
            lambda: agent.store.count_results("web.site") >= before + 3,
            what="probes to go on while a receiver hangs",
        )
    finally:
        server.call(lambda state: state.release.set())
        server.stop()
