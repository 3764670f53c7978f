"""The web plane's pure pieces: the CPU budget, the login limiter, incidents, time parameters,
the live view's state rule. Clocks are injected; nothing here sleeps for real."""

from __future__ import annotations

import pytest

from nyxmon.domain.model import Check, Outcome, Result
from nyxmon.domain.status import CheckStatus, state_of
from nyxmon.service_layer.records.alerts import Transition
from nyxmon.web.api.params import parse_labels, parse_time
from nyxmon.web.budget import CpuBudget
from nyxmon.web.incidents import incidents_from
from nyxmon.web.problems import Problem
from nyxmon.web.ratelimit import LoginLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.cpu = 0.0

    def time(self) -> float:
        return self.now

    def thread_cpu(self) -> float:
        return self.cpu


def test_budget_refills_at_its_share_and_caps_at_the_burst() -> None:
    clock = Clock()
    budget = CpuBudget(0.25, 0.02, clock=clock.time, loop_cpu=clock.thread_cpu)
    assert budget.credit() == pytest.approx(0.02)
    clock.cpu += 0.1  # the loop used 100 ms of CPU
    assert budget.credit() == pytest.approx(-0.08)
    clock.now += 0.2  # 200 ms later: 50 ms earned at a quarter of a CPU
    assert budget.credit() == pytest.approx(-0.03)
    budget.charge(0.01)  # a worker thread's share
    assert budget.credit() == pytest.approx(-0.04)
    clock.now += 100  # idle for long: no more than the burst is saved up
    assert budget.credit() == pytest.approx(0.02)


def test_budget_refuses_a_share_of_nothing() -> None:
    with pytest.raises(ValueError, match="cpu_share must be > 0"):
        CpuBudget(0)


@pytest.mark.anyio
async def test_admit_waits_until_the_credit_is_back() -> None:
    clock = Clock()
    budget = CpuBudget(0.5, 0.01, clock=clock.time, loop_cpu=clock.thread_cpu)
    await budget.admit()
    assert budget.waits == 0
    clock.cpu += 0.05
    import anyio

    async def advance() -> None:
        while budget.waits == 0:
            await anyio.lowlevel.checkpoint()
        clock.now += 0.2  # 0.1 s of CPU earned: the debt of 0.04 s is paid

    async with anyio.create_task_group() as group:
        group.start_soon(advance)
        with anyio.fail_after(10):
            await budget.admit()
    assert budget.waits == 1
    assert budget.credit() >= 0


def test_login_limiter_locks_a_key_after_the_limit_until_the_window_passes() -> None:
    clock = Clock()
    limiter = LoginLimiter(3, 60, clock=clock.time)
    keys = ("ip:1", "user:a")
    for _ in range(3):
        assert limiter.retry_after(keys) is None
        limiter.failed(keys)
    assert limiter.retry_after(keys) == pytest.approx(60)
    assert limiter.retry_after(["ip:2"]) is None
    assert limiter.retry_after(["user:a"]) == pytest.approx(60)
    clock.now += 45
    assert limiter.retry_after(keys) == pytest.approx(15)
    clock.now += 15
    assert limiter.retry_after(keys) is None
    limiter.failed(keys)
    limiter.succeeded(keys)
    assert limiter.retry_after(keys) is None


def test_login_limiter_refuses_nonsense_settings() -> None:
    with pytest.raises(ValueError, match="limit >= 1"):
        LoginLimiter(0, 60)


def _t(check: str, at: float, before: str, after: str) -> Transition:
    return Transition(check, at, before, after, f"{before}->{after}")


def test_incidents_pair_each_descent_into_down_with_the_way_out() -> None:
    found = incidents_from(
        [
            _t("a", 30, "up", "down"),
            _t("a", 10, "pending", "up"),
            _t("b", 15, "up", "down"),
            _t("a", 20, "up", "down"),
            _t("a", 25, "down", "up"),
            _t("a", 40, "down", "flapping"),
            _t("b", 12, "down", "up"),  # the end of one that began before these rows
        ]
    )
    assert [(i.check_id, i.start, i.end) for i in found] == [
        ("a", 30, 40),
        ("a", 20, 25),
        ("b", 15, None),
    ]
    assert found[2].ongoing
    assert found[2].duration(now=100) == 85
    assert found[0].message == "up->down"


def test_incidents_run_from_the_first_failing_run_to_the_first_good_one() -> None:
    """A transition carries when its state began (the machine's ``since``); incidents use it,
    and fall back to the decision time for rows written before it was kept."""
    found = incidents_from(
        [
            Transition("a", 130, "up", "down", "503", since=100),
            Transition("a", 170, "down", "up", "ok", since=160),
            Transition("b", 50, "up", "down", "old row"),
        ]
    )
    assert [(i.check_id, i.start, i.end, i.duration(now=999)) for i in found] == [
        ("a", 100, 160, 60),
        ("b", 50, None, 949),
    ]


def test_a_return_to_down_within_the_same_outage_continues_its_incident() -> None:
    """Down, flapping, down again with no recovery between: the machine keeps the outage's
    start, and the page shows one incident lasting what RECOVERED will say."""
    found = incidents_from(
        [
            Transition("a", 130, "up", "down", "503", since=100),
            Transition("a", 200, "down", "flapping", "", since=200),
            Transition("a", 260, "flapping", "down", "", since=100),
            Transition("a", 330, "down", "up", "ok", since=300),
            Transition("a", 500, "up", "down", "later", since=480),
        ]
    )
    assert [(i.start, i.end, i.message) for i in found] == [
        (480, None, "later"),
        (100, 300, "503"),
    ]


def test_time_parameters_accept_posix_iso_and_durations() -> None:
    assert parse_time("1700000000", "q", now=2e9) == 1700000000
    assert parse_time("1h30m", "q", now=10_000) == 10_000 - 5400
    assert parse_time("1970-01-01T00:01:00Z", "q") == 60
    assert parse_time("1970-01-01T01:00:00+01:00", "q") == 0
    assert parse_time(None, "q") is None
    for bad in ("soon", "-3", "1e300", "2024-13-01"):
        with pytest.raises(Problem) as caught:
            parse_time(bad, "query.since")
        assert caught.value.errors[0]["field"] == "query.since"


def test_label_parameters_need_key_and_value() -> None:
    assert parse_labels(["a=b", " c = d "]) == {"a": "b", "c": "d"}
    assert parse_labels(["empty="]) == {"empty": ""}
    with pytest.raises(Problem):
        parse_labels(["novalue"])
    with pytest.raises(Problem):
        parse_labels(["=x"])


def test_state_shows_paused_checks_as_paused_until_the_agent_says_otherwise() -> None:
    check = Check("a.b", "a", "b", "http", 60, 10)
    paused = Check("a.b", "a", "b", "http", 60, 10, paused=True)
    down = CheckStatus("a.b").after(Result("a.b", 1, 1, 0.1, Outcome.FAIL))
    assert state_of(check, None) == "pending"
    assert state_of(paused, None) == "paused"
    assert state_of(paused, CheckStatus("a.b")) == "paused"
    assert state_of(check, down) == "down"
    assert state_of(paused, down) == "down"  # an explicit verdict of the agent wins


class _Agentish:
    """A status feed and a snapshot, the two things the live view asks the agent for."""

    def __init__(self) -> None:
        from nyxmon.agent.feed import StatusFeed

        self.feed = StatusFeed()
        self.snapshots = 0

    def subscribe(self, callback: object) -> object:
        return self.feed.subscribe(callback)  # type: ignore[arg-type]

    async def statuses(self) -> dict[str, CheckStatus]:
        self.snapshots += 1
        return {"a.b": CheckStatus("a.b")}


@pytest.mark.anyio
async def test_live_view_reads_checks_only_when_the_fingerprint_changes() -> None:
    from typing import cast

    from nyxmon.web.context import WebContext
    from nyxmon.web.live import LiveView

    agent = _Agentish()
    clock = Clock()
    live = LiveView(cast(WebContext, agent), ttl=1.0, clock=clock.time)
    mark: list[object] = [1]
    check = Check("a.b", "a", "b", "http", 60, 10)

    async def read_checks() -> tuple[Check, ...]:
        return (check,)

    async def fingerprint() -> tuple[object, ...]:
        return tuple(mark)

    views = await live.checks(read_checks, fingerprint)
    assert [v.state for v in views] == ["pending"]
    agent.feed.publish(CheckStatus("a.b").after(Result("a.b", 1, 1, 0.1, Outcome.FAIL)))
    assert [v.state for v in await live.checks(read_checks, fingerprint)] == ["pending"]  # ttl
    clock.now += 2
    assert [v.state for v in await live.checks(read_checks, fingerprint)] == ["down"]
    assert (live.check_reads, agent.snapshots) == (1, 1)  # statuses came from the feed
    mark[0] = 2
    clock.now += 2
    await live.checks(read_checks, fingerprint)
    assert live.check_reads == 2
    live.invalidate()
    await live.checks(read_checks, fingerprint)
    assert live.check_reads == 3
