"""The agent in-process: real HTTP target, real SQLite file, real threads."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import anyio
import pytest
from tests.integration.agent.conftest import ConfigFile, wait_for
from tests.servers.http_target import HttpTarget

from nyxmon.agent.agent import Agent
from nyxmon.config import LoadedConfig
from nyxmon.domain.model import Check, CheckSource, Outcome, Service
from nyxmon.errors import CheckNotFoundError, ConflictError
from nyxmon.metrics import HistogramSample, MetricSnapshot
from nyxmon.service_layer.messages import AddCheck, RemoveCheck, SetPaused
from nyxmon.store.sqlite.store import SqliteStore

StartAgent = Callable[[LoadedConfig], Agent]


def http_check(name: str, url: str, extra: str = "") -> str:
    return f"      - {{name: {name}, type: http, url: '{url}'{extra}}}\n"


def service(name: str, checks: str) -> str:
    return f"  - name: {name}\n    checks:\n{checks}"


def count(agent: Agent, check_id: str) -> int:
    return agent.store.count_results(check_id)


def test_results_of_every_check_reach_the_database(
    target: HttpTarget, config_file: ConfigFile, start_agent: StartAgent
) -> None:
    config = config_file.write(
        service(
            "web",
            http_check("ok", target.url("/health"))
            + http_check("broken", target.url("/status/503"))
            + http_check("slow", target.url("/slow?delay=0.3"), ", max_response_time: 0.1"),
        )
    )
    agent = start_agent(config)
    for check_id in ("web.ok", "web.broken", "web.slow"):
        wait_for(lambda c=check_id: count(agent, c) >= 2, what=f"results of {check_id}")
    latest = {k: v.result for k, v in agent.store.latest_results().items()}
    assert latest["web.ok"].outcome is Outcome.OK
    assert latest["web.broken"].outcome is Outcome.FAIL
    assert "503" in latest["web.broken"].message
    assert latest["web.slow"].outcome is Outcome.OK
    assert latest["web.slow"].degraded
    statuses = agent.control.statuses()
    assert statuses["web.broken"].state == "down"
    assert statuses["web.slow"].state == "degraded"


def test_a_reload_adds_changes_and_removes_checks_and_keeps_history(
    target: HttpTarget, config_file: ConfigFile, start_agent: StartAgent
) -> None:
    first = config_file.write(
        service("web", http_check("a", target.url("/health")) + http_check("b", target.url("/")))
    )
    agent = start_agent(first)
    wait_for(lambda: count(agent, "web.a") >= 2 and count(agent, "web.b") >= 1)
    history_of_a = count(agent, "web.a")

    second = config_file.write(
        service(
            "web",
            http_check("a", target.url("/health"), ", interval: 2s")
            + http_check("c", target.url("/json")),
        )
    )
    applied = agent.reload(second)
    assert applied.added == ("web.c",)
    assert applied.changed == ("web.a",)
    assert applied.removed == ("web.b",)
    wait_for(lambda: count(agent, "web.c") >= 1, what="the added check to run")
    assert count(agent, "web.a") >= history_of_a, "history of a changed check must survive"
    assert agent.store.get_check("web.b") is None
    archived = agent.store.get_check("web.b", include_archived=True)
    assert archived is not None
    assert count(agent, "web.b") >= 1, "an archived check keeps its history"
    wait_for(lambda: agent.scheduler.statistics().checks == 2, what="the scheduler to follow")
    assert agent.store.get_check("web.a").interval == 2.0  # type: ignore[union-attr]


def test_api_checks_are_left_alone_by_a_reload(
    target: HttpTarget, config_file: ConfigFile, start_agent: StartAgent
) -> None:
    config = config_file.write(service("web", http_check("a", target.url("/health"))))
    agent = start_agent(config)
    api = Check(
        id="ops.extra",
        service="ops",
        name="extra",
        type="http",
        interval=1,
        timeout=0.9,
        params={"url": target.url("/")},
        source=CheckSource.API,
    )
    agent.control.command(AddCheck(api))
    wait_for(lambda: count(agent, "ops.extra") >= 1, what="the API check to run")
    agent.reload(config_file.write(service("web", http_check("z", target.url("/")))))
    assert agent.store.get_check("ops.extra") is not None
    assert agent.store.get_check("web.a") is None


def test_config_checks_are_read_only_through_the_bus(
    target: HttpTarget, config_file: ConfigFile, start_agent: StartAgent
) -> None:
    agent = start_agent(config_file.write(service("web", http_check("a", target.url("/")))))
    with pytest.raises(ConflictError, match="comes from the config file"):
        agent.control.command(RemoveCheck("web.a"))
    hijack = Check(
        id="web.a",
        service="web",
        name="a",
        type="http",
        interval=5,
        timeout=1,
        params={"url": target.url("/")},
        source=CheckSource.API,
    )
    with pytest.raises(ConflictError, match="read-only"):
        agent.control.command(AddCheck(hijack))
    assert agent.store.get_check("web.a").interval == 1.0  # type: ignore[union-attr]


def test_pausing_a_check_stops_its_runs_and_resuming_restarts_them(
    target: HttpTarget, config_file: ConfigFile, start_agent: StartAgent
) -> None:
    agent = start_agent(
        config_file.write(
            service(
                "web", http_check("a", target.url("/health")) + http_check("b", target.url("/"))
            )
        )
    )
    wait_for(lambda: count(agent, "web.a") >= 1)
    agent.control.command(SetPaused("web.a", True))
    wait_for(lambda: agent.scheduler.statistics().checks == 1, what="the pause to reach it")
    assert agent.store.get_check("web.a").paused  # type: ignore[union-attr]
    agent.control.command(SetPaused("web.a", False))
    wait_for(lambda: agent.scheduler.statistics().checks == 2, what="the resume to reach it")


def test_a_check_added_by_another_process_is_picked_up(
    target: HttpTarget, config_file: ConfigFile, start_agent: StartAgent
) -> None:
    agent = start_agent(config_file.write(service("web", http_check("a", target.url("/")))))
    with SqliteStore(config_file.db) as other, other.transaction() as tx:
        tx.services.upsert(Service("cli"), source=CheckSource.API)
        tx.checks.upsert(
            Check(
                id="cli.added",
                service="cli",
                name="added",
                type="http",
                interval=1,
                timeout=0.9,
                params={"url": target.url("/json")},
                source=CheckSource.API,
            )
        )
        tx.commit()
    wait_for(lambda: count(agent, "cli.added") >= 1, what="the watcher to pick it up")
    assert agent.watcher.reloads >= 1


def test_an_unknown_check_type_gives_error_results_not_a_crash(
    target: HttpTarget, config_file: ConfigFile, start_agent: StartAgent
) -> None:
    agent = start_agent(config_file.write(service("web", http_check("a", target.url("/")))))
    with SqliteStore(config_file.db) as other, other.transaction() as tx:
        tx.checks.upsert(
            Check(
                id="x.gopher",
                service="x",
                name="gopher",
                type="gopher",
                interval=1,
                timeout=0.5,
                source=CheckSource.API,
            )
        )
        tx.commit()
    wait_for(lambda: count(agent, "x.gopher") >= 1, what="an error result")
    result = agent.store.latest_results(["x.gopher"])["x.gopher"].result
    assert result.outcome is Outcome.ERROR
    assert "unknown check type 'gopher'" in result.message
    assert agent.failure() is None


def test_stop_lets_a_running_probe_finish_and_writes_its_result(
    target: HttpTarget, config_file: ConfigFile, start_agent: StartAgent
) -> None:
    agent = start_agent(
        config_file.write(
            service(
                "web",
                http_check("slow", target.url("/slow?delay=0.8"), ", interval: 3s, timeout: 2s"),
            )
        )
    )
    wait_for(lambda: target.state.in_flight >= 1, what="a probe in flight")
    report = agent.stop(grace=5)
    assert report.clean
    with SqliteStore(config_file.db, readonly=True) as store:
        assert store.count_results("web.slow") == target.state.hits["/slow"]


def test_a_crashed_scheduler_marks_the_agent_failed(
    target: HttpTarget,
    config_file: ConfigFile,
    start_agent: StartAgent,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    agent = start_agent(config_file.write(service("web", http_check("a", target.url("/")))))

    def broken_launch() -> None:
        raise RuntimeError("scheduler bug")

    monkeypatch.setattr(agent.scheduler, "_launch", broken_launch)
    assert agent.wait_failed(15)
    assert "scheduler crashed: RuntimeError: scheduler bug" in (agent.failure() or "")


def test_a_crashed_dispatcher_marks_the_agent_failed(
    target: HttpTarget, config_file: ConfigFile, start_agent: StartAgent
) -> None:
    agent = start_agent(config_file.write(service("web", http_check("a", target.url("/")))))

    class Fatal(BaseException):
        pass

    def explode() -> None:
        raise Fatal("dispatcher bug")

    agent.dispatcher.submit(explode)
    wait_for(lambda: agent.failure() is not None, what="the crash to be noticed")
    assert agent.failure() == "the dispatcher thread crashed"


def test_every_run_reports_its_start_lag_and_result_into_metrics(
    target: HttpTarget, config_file: ConfigFile, start_agent: StartAgent
) -> None:
    agent = start_agent(
        config_file.write(
            service(
                "web",
                http_check("a", target.url("/health")) + http_check("b", target.url("/status/500")),
            )
        )
    )
    wait_for(lambda: count(agent, "web.a") >= 2 and count(agent, "web.b") >= 2)

    def metrics() -> Mapping[str, MetricSnapshot]:
        return agent.recorder.get_metric_snapshots(timeout=5).metrics

    def count_of(name: str) -> int:
        sample = metrics()[name].samples[0]
        assert isinstance(sample, HistogramSample)
        return sample.count

    wait_for(lambda: count_of("store_batch_seconds") >= 1, what="a store batch to be measured")
    assert count_of("scheduler_start_lag_seconds") >= 4
    assert count_of("check_duration_seconds") >= 4
    by_name = metrics()
    outcomes = {s.labels: s.value for s in by_name["check_results_total"].samples}
    assert outcomes[("ok",)] >= 2
    assert outcomes[("fail",)] >= 2
    for reported_by_the_runtime in (
        "runtime_loop_lag_seconds",
        "dispatcher_events_total",
        "offload_operations_total",
    ):
        assert by_name[reported_by_the_runtime].samples, reported_by_the_runtime


def test_the_web_facing_api_runs_checks_now_and_streams_status_changes(
    target: HttpTarget, config_file: ConfigFile, start_agent: StartAgent
) -> None:
    agent = start_agent(
        config_file.write(
            service(
                "web",
                http_check("a", target.url("/health"), ", interval: 300s")
                + http_check("p", target.url("/"), ", paused: true"),
            )
        )
    )
    seen: list[str] = []
    unsubscribe = agent.feed.subscribe(lambda status: seen.append(status.check_id))

    async def scenario() -> None:
        result = await agent.control.run_check_now("web.a", timeout=10)
        assert result.ok
        statuses = await agent.control.statuses_async()
        assert statuses["web.a"].last_outcome is Outcome.OK, "applied before run-now answers"
        assert statuses["web.a"].results_seen == 1
        with pytest.raises(CheckNotFoundError):
            await agent.control.run_check_now("web.nope", timeout=10)
        with pytest.raises(ConflictError, match="paused"):
            await agent.control.run_check_now("web.p", timeout=10)
        await agent.control.command_async(SetPaused("web.p", False), timeout=10)

    anyio.run(scenario)
    wait_for(lambda: count(agent, "web.a") >= 1, what="the run-now result to be stored")
    wait_for(lambda: "web.a" in seen, what="the status change on the feed")
    unsubscribe()
    assert agent.feed.subscribers == 0
    wait_for(lambda: agent.scheduler.statistics().checks == 2, what="the resumed check")
