"""The scheduler on virtual time: exact assertions, no sleeps.

Each test runs twice: on asyncio with :class:`~tests.support.virtual_loop.VirtualClockLoop` (the
production path: runs are ``loop.create_task`` tasks, ``run_after`` uses ``loop.call_later``,
stopping cancels tasks) and on trio with ``MockClock`` (the task-group path).
"""

from __future__ import annotations

import asyncio
import itertools
from collections import Counter, defaultdict
from collections.abc import Callable
from typing import Any

import anyio
import pytest
from trio.testing import MockClock

from nyxmon.agent.scheduler import Scheduler, phase_of, target_host
from nyxmon.domain.model import Check, Outcome, Result
from tests.support.virtual_loop import VirtualClockLoop

pytestmark = pytest.mark.anyio

WALL_BASE = 1_700_000_000.0


#: A result's times are kept to the millisecond (``Result``), so its slot is exact to that.
MS = 0.001


def on_slot(offset: float, period: float) -> bool:
    """``offset`` is a whole number of ``period`` to the millisecond."""
    remainder = offset % period
    return min(remainder, period - remainder) <= MS


@pytest.fixture(
    params=[
        pytest.param("asyncio", id="asyncio-virtual-clock"),
        pytest.param("trio", id="trio-mock-clock"),
    ]
)
def anyio_backend(request: pytest.FixtureRequest) -> tuple[str, dict[str, Any]]:
    """Every test runs on both: asyncio is the production path (runs are ``loop.create_task``
    tasks, ``run_after`` is ``loop.call_later``), trio the task-group path. Both on virtual
    time that jumps to the next timer whenever every task waits, so timings are exact."""
    if request.param == "asyncio":
        return ("asyncio", {"loop_factory": VirtualClockLoop})
    return ("trio", {"clock": MockClock(autojump_threshold=0)})


def make_check(check_id: str, interval: float, url: str | None = None, **kw: Any) -> Check:
    params = {"url": url} if url else {}
    return Check(
        id=check_id,
        service="svc",
        name=check_id,
        type="fake",
        interval=interval,
        timeout=interval,
        params=params,
        **kw,
    )


class Harness:
    """Runs fake checks whose duration is chosen per check; records starts and results."""

    def __init__(self, durations: dict[str, float] | None = None, default: float = 0.01) -> None:
        self.durations = durations or {}
        self.default = default
        self.starts: dict[str, list[float]] = defaultdict(list)
        self.results: list[Result] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self.per_host: Counter[str] = Counter()
        self.max_per_host: Counter[str] = Counter()
        self.on_result: Callable[[Result], None] | None = None

    async def run(self, check: Check, scheduled_at: float) -> Result:
        host = target_host(check)
        self.starts[check.id].append(anyio.current_time())
        self.in_flight += 1
        self.per_host[host] += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        self.max_per_host[host] = max(self.max_per_host[host], self.per_host[host])
        try:
            await anyio.sleep(self.durations.get(check.id, self.default))
        finally:
            self.in_flight -= 1
            self.per_host[host] -= 1
        return Result(check.id, scheduled_at, scheduled_at, 0.0, Outcome.OK)

    def sink(self, result: Result) -> None:
        self.results.append(result)
        if self.on_result:
            self.on_result(result)


async def run_for(scheduler: Scheduler, seconds: float) -> None:
    async with anyio.create_task_group() as tg:
        tg.start_soon(scheduler.run, SINKS[scheduler])
        await anyio.sleep(seconds)
        scheduler.stop()


SINKS: dict[Scheduler, Callable[[Result], None]] = {}


def wall_clock() -> float:
    """A wall clock that runs with the loop's, as a real one does (from WALL_BASE)."""
    return WALL_BASE + anyio.current_time()


def scheduler_for(harness: Harness, **kw: Any) -> Scheduler:
    kw.setdefault("wall_clock", wall_clock)
    scheduler = Scheduler(harness.run, **kw)
    SINKS[scheduler] = harness.sink
    return scheduler


async def test_start_to_start_has_no_drift_over_1000_intervals() -> None:
    harness = Harness({"c": 0.37})
    scheduler = scheduler_for(harness)
    scheduler.set_checks([make_check("c", 1.0)])
    await run_for(scheduler, 1000.5)
    starts = harness.starts["c"]
    assert len(starts) >= 1000
    first = starts[0]
    for n, start in enumerate(starts):
        assert start == pytest.approx(first + n * 1.0, abs=1e-6)
    scheduled = [r.scheduled_at for r in harness.results]
    assert scheduled[999] - scheduled[0] == pytest.approx(999.0, abs=1e-6)
    assert scheduler.statistics().start_lag.max == pytest.approx(0.0, abs=1e-6)


async def test_first_runs_spread_evenly_over_the_interval() -> None:
    harness = Harness()
    scheduler = scheduler_for(harness)
    checks = [make_check(f"check-{i}", 10.0) for i in range(1000)]
    scheduler.set_checks(checks)
    await run_for(scheduler, 10.0)
    begin = min(s[0] for s in harness.starts.values())
    seconds = Counter(int(s[0] - begin) for s in harness.starts.values())
    assert sum(seconds.values()) == 1000
    assert all(60 <= seconds[b] <= 140 for b in range(10)), seconds  # ~100 per second


async def test_the_phase_is_stable_for_a_check_id() -> None:
    assert phase_of("web.homepage") == phase_of("web.homepage")
    assert 0.0 <= phase_of("web.homepage") < 1.0
    assert phase_of("web.homepage") != phase_of("web.homepage2")
    assert round(phase_of("web.homepage"), 12) == round(phase_of("web.homepage"), 12)


async def test_an_overrun_is_counted_and_the_missed_run_skipped_not_queued() -> None:
    harness = Harness({"slow": 2.5})
    scheduler = scheduler_for(harness)
    scheduler.set_checks([make_check("slow", 1.0)])
    await run_for(scheduler, 30.5)
    starts = harness.starts["slow"]
    gaps = {round(b - a, 6) for a, b in itertools.pairwise(starts)}
    assert gaps == {3.0}, "a 2.5 s run of a 1 s check must run every 3rd slot"
    assert harness.max_in_flight == 1
    stats = scheduler.statistics()
    assert stats.overruns >= 2 * (len(starts) - 1)


async def test_the_global_concurrency_limit_holds() -> None:
    harness = Harness(default=5.0)
    scheduler = scheduler_for(harness, concurrency=7)
    scheduler.set_checks([make_check(f"c{i}", 1.0) for i in range(50)])
    await run_for(scheduler, 20)
    assert harness.max_in_flight == 7
    assert scheduler.statistics().overruns > 0


async def test_a_busy_host_does_not_hold_up_other_hosts() -> None:
    durations = {f"busy{i}": 8.0 for i in range(20)}
    harness = Harness(durations, default=0.01)
    scheduler = scheduler_for(harness, per_host=2)
    busy = [make_check(f"busy{i}", 10.0, "http://busy.example/x") for i in range(20)]
    free = [make_check(f"free{i}", 1.0, f"http://free{i}.example/") for i in range(5)]
    scheduler.set_checks(busy + free)
    await run_for(scheduler, 30)
    assert harness.max_per_host["busy.example"] == 2
    for i in range(5):
        assert len(harness.starts[f"free{i}"]) >= 29
    free_lags = [r.started_at - r.scheduled_at for r in harness.results if r.check_id[:4] == "free"]
    assert max(free_lags) == 0.0


async def test_a_10_second_check_never_delays_a_1_second_check() -> None:
    harness = Harness({"slow": 9.0, "fast": 0.01})
    scheduler = scheduler_for(harness)
    scheduler.set_checks([make_check("slow", 10.0), make_check("fast", 1.0)])
    fast_results_during_slow: list[float] = []

    def note(result: Result) -> None:
        if result.check_id == "fast" and harness.per_host[""] >= 1:
            fast_results_during_slow.append(anyio.current_time())

    harness.on_result = note
    await run_for(scheduler, 30.5)
    fast = harness.starts["fast"]
    assert len(fast) >= 30
    assert [round(b - a, 6) for a, b in itertools.pairwise(fast)] == [1.0] * (len(fast) - 1)
    assert len(fast_results_during_slow) >= 20, "fast results must flow while slow is in flight"


async def test_checks_can_be_added_changed_and_removed_while_running() -> None:
    harness = Harness()
    scheduler = scheduler_for(harness)
    scheduler.set_checks([make_check("a", 1.0), make_check("b", 1.0)])

    async def reconfigure() -> None:
        await anyio.sleep(10.2)
        scheduler.set_checks([make_check("a", 2.0), make_check("c", 1.0)])

    async with anyio.create_task_group() as tg:
        tg.start_soon(scheduler.run, harness.sink)
        tg.start_soon(reconfigure)
        await anyio.sleep(20.2)
        scheduler.stop()
    assert max(harness.starts["b"]) < min(harness.starts["c"]) + 1.0
    late_a = [s for s in harness.starts["a"] if s > 11.0 + min(harness.starts["a"])]
    gaps = {round(y - x, 6) for x, y in itertools.pairwise(late_a)}
    assert gaps == {2.0}
    assert len(harness.starts["c"]) >= 9
    assert scheduler.statistics().checks == 2


async def test_paused_and_disabled_checks_are_not_scheduled() -> None:
    harness = Harness()
    scheduler = scheduler_for(harness)
    scheduler.set_checks(
        [
            make_check("on", 1.0),
            make_check("paused", 1.0, paused=True),
            make_check("off", 1.0, enabled=False),
        ]
    )
    await run_for(scheduler, 5.5)
    assert set(harness.starts) == {"on"}


async def test_a_stepped_wall_clock_moves_the_stamps_and_not_the_schedule() -> None:
    """The wall clock set three hours forward, then six back: runs stay one a second on the
    loop's clock, and each is stamped with the wall-clock time it was due at, as read then
    (its start lag stays its own, not three hours)."""
    step = 0.0

    def stepped() -> float:
        return WALL_BASE + anyio.current_time() + step

    harness = Harness()
    wall_at_start: list[float] = []
    plain_run = harness.run

    async def run(check: Check, scheduled_at: float) -> Result:
        wall_at_start.append(stepped())
        return await plain_run(check, scheduled_at)

    scheduler = Scheduler(run, wall_clock=stepped)
    SINKS[scheduler] = harness.sink
    scheduler.set_checks([make_check("j", 1.0)])

    async def set_the_clock() -> None:
        nonlocal step
        await anyio.sleep(5.5)
        step = 3 * 3600.0
        await anyio.sleep(5.0)
        step = -3 * 3600.0

    async with anyio.create_task_group() as tg:
        tg.start_soon(scheduler.run, harness.sink)
        tg.start_soon(set_the_clock)
        await anyio.sleep(15.5)
        scheduler.stop()
    starts = harness.starts["j"]
    assert len(starts) >= 15
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    assert gaps == [pytest.approx(1.0)] * len(gaps)
    lags = [wall - r.scheduled_at for wall, r in zip(wall_at_start, harness.results, strict=True)]
    assert lags == [pytest.approx(0.0, abs=MS)] * len(lags)


async def test_a_runner_that_raises_becomes_an_error_result() -> None:
    async def broken(check: Check, scheduled_at: float) -> Result:
        raise RuntimeError("runner bug")

    results: list[Result] = []
    scheduler = Scheduler(broken, wall_clock=wall_clock)
    SINKS[scheduler] = results.append
    scheduler.set_checks([make_check("x", 1.0)])
    await run_for(scheduler, 3.5)
    assert len(results) >= 3
    assert results[0].outcome is Outcome.ERROR
    assert "runner bug" in results[0].message


async def test_stop_lets_runs_in_flight_deliver_their_results() -> None:
    harness = Harness({"long": 5.0})
    scheduler = scheduler_for(harness)
    scheduler.set_checks([make_check("long", 10.0)])
    async with anyio.create_task_group() as tg:
        tg.start_soon(scheduler.run, harness.sink)
        while not harness.starts["long"]:  # noqa: ASYNC110 - simulated time, a poll is exact
            await anyio.sleep(0.1)
        scheduler.stop()
    assert len(harness.results) == 1
    assert scheduler.statistics().in_flight == 0


async def test_scheduled_at_is_wall_clock_time_of_the_due_slot() -> None:
    harness = Harness()
    scheduler = scheduler_for(harness)
    scheduler.set_checks([make_check("w", 60.0)])
    await run_for(scheduler, 60.0)
    (result,) = harness.results
    phase = phase_of("w") * 60.0
    assert on_slot(result.scheduled_at - phase, 60.0)
    assert WALL_BASE <= result.scheduled_at < WALL_BASE + 60


@pytest.mark.parametrize(
    ("params", "host"),
    [
        ({"url": "https://user:pw@Example.com:8443/path"}, "example.com:8443"),
        ({"url": "http://127.0.0.1/"}, "127.0.0.1"),
        ({"server": "10.0.0.1"}, "10.0.0.1"),
        ({}, ""),
    ],
)
async def test_target_host_is_taken_from_url_or_server(params: dict[str, str], host: str) -> None:
    check = Check(id="t", service="s", name="t", type="x", interval=1, timeout=1, params=params)
    assert target_host(check) == host


async def test_a_running_check_whose_interval_changes_moves_to_its_new_phase() -> None:
    harness = Harness({"r": 1.5})
    scheduler = scheduler_for(harness)
    scheduler.set_checks([make_check("r", 2.0)])

    async def change_while_running() -> None:
        while not harness.starts["r"]:  # noqa: ASYNC110 - simulated time, a poll is exact
            await anyio.sleep(0.01)
        await anyio.sleep(0.5)
        assert harness.in_flight == 1
        scheduler.set_checks([make_check("r", 6.0)])

    async with anyio.create_task_group() as tg:
        tg.start_soon(scheduler.run, harness.sink)
        tg.start_soon(change_while_running)
        await anyio.sleep(40)
        scheduler.stop()
    later = [r.scheduled_at for r in harness.results[1:]]
    assert len(later) >= 5
    phase = phase_of("r") * 6.0
    for scheduled in later:
        assert on_slot(scheduled - phase, 6.0)
    assert harness.max_in_flight == 1


async def test_cancelling_the_scheduler_cancels_runs_without_starting_new_ones() -> None:
    harness = Harness(default=1000.0)  # no run can finish before the cancel
    scheduler = scheduler_for(harness, concurrency=2)
    scheduler.set_checks([make_check(f"c{i}", 60.0) for i in range(10)])
    with anyio.move_on_after(120):  # longer than every first run's phase: all became due
        await scheduler.run(harness.sink)
    assert harness.results == []
    assert scheduler.statistics().in_flight == 0
    assert harness.max_in_flight == 2


async def test_cancelling_the_scheduler_mid_run_starts_nothing_new(anyio_backend_name: str) -> None:
    errors: list[BaseException] = []
    if anyio_backend_name == "asyncio":
        # Runs are plain loop tasks there: an error in one goes to the loop's handler, not here.
        loop = asyncio.get_running_loop()
        previous_handler = loop.get_exception_handler()
        loop.set_exception_handler(
            lambda loop, context: errors.append(context.get("exception") or RuntimeError(context))
        )
    try:
        harness = Harness(default=0.2)
        scheduler = scheduler_for(harness, concurrency=1, tick=0.001)
        scheduler.set_checks([make_check(f"c{i}", 1.0) for i in range(20)])
        async with anyio.create_task_group() as tg:
            tg.start_soon(scheduler.run, harness.sink)
            await anyio.sleep(1.5)
            assert scheduler.in_flight == 1
            tg.cancel_scope.cancel()
        started = scheduler.statistics().started
        assert scheduler.statistics().in_flight == 0, "run() returns once cancelled runs ended"
        await anyio.sleep(0.3)  # cancelled runs finish; none may start another
        assert scheduler.statistics().in_flight == 0
        assert scheduler.statistics().started == started
        assert sum(len(s) for s in harness.starts.values()) == started
    finally:
        if anyio_backend_name == "asyncio":
            loop.set_exception_handler(previous_handler)
    assert errors == []


async def test_stop_does_not_wait_for_a_pending_run_after() -> None:
    harness = Harness()
    scheduler = scheduler_for(harness)
    scheduler.set_checks([make_check("r", 60.0)])
    async with anyio.create_task_group() as tg:
        await tg.start(scheduler.run, harness.sink)
        scheduler.run_after("r", 1000.0)
        await anyio.sleep(0.5)
        stopped_at = anyio.current_time()
        scheduler.stop()
    assert anyio.current_time() == pytest.approx(stopped_at, abs=1e-6), "stop is prompt"
    await anyio.sleep(2000)  # the dropped retry never runs, not even after the scheduler
    assert harness.starts["r"] == []


async def test_run_now_runs_an_idle_check_at_once_and_keeps_its_schedule() -> None:
    harness = Harness({"n": 0.5})
    scheduler = scheduler_for(harness)
    scheduler.set_checks([make_check("n", 100.0)])
    got: list[Result | None] = []

    async with anyio.create_task_group() as tg:
        tg.start_soon(scheduler.run, harness.sink)
        await anyio.sleep(0.01)
        asked_at = anyio.current_time()
        assert scheduler.run_now("n", got.append)
        await anyio.sleep(150)
        scheduler.stop()
    starts = harness.starts["n"]
    assert starts[0] == pytest.approx(asked_at, abs=1e-6), "run now means now"
    assert got == [harness.results[0]]
    phase = phase_of("n") * 100.0
    scheduled = harness.results[1].scheduled_at
    assert on_slot(scheduled - phase, 100.0), "the regular schedule continues"
    assert harness.max_in_flight == 1


async def test_run_now_on_a_running_check_returns_that_run_without_a_second_one() -> None:
    harness = Harness({"b": 5.0})
    scheduler = scheduler_for(harness)
    scheduler.set_checks([make_check("b", 60.0)])
    got: list[Result | None] = []
    async with anyio.create_task_group() as tg:
        tg.start_soon(scheduler.run, harness.sink)
        while not harness.starts["b"]:  # noqa: ASYNC110 - simulated time, a poll is exact
            await anyio.sleep(0.1)
        assert scheduler.run_now("b", got.append)
        await anyio.sleep(10)
        scheduler.stop()
    assert len(harness.starts["b"]) == 1
    assert got == [harness.results[0]]


async def test_run_now_refuses_unknown_checks_and_reports_dropped_runs() -> None:
    harness = Harness(default=10.0)
    scheduler = scheduler_for(harness, concurrency=1)
    scheduler.set_checks([make_check("a", 60.0), make_check("b", 60.0)])
    got: list[Result | None] = []
    async with anyio.create_task_group() as tg:
        tg.start_soon(scheduler.run, harness.sink)
        await anyio.sleep(0.01)
        assert not scheduler.run_now("nope", got.append)
        assert scheduler.run_now("a", lambda r: None)
        assert scheduler.run_now("b", got.append)  # waits: concurrency 1 is taken by a
        scheduler.set_checks([make_check("a", 60.0)])  # b removed before its turn
        await anyio.sleep(11)
        scheduler.stop()
    assert got == [None]


async def test_run_after_gives_a_check_one_extra_run_and_keeps_its_schedule() -> None:
    harness = Harness({"r": 0.1})
    scheduler = scheduler_for(harness)
    scheduler.set_checks([make_check("r", 60.0)])
    async with anyio.create_task_group() as tg:
        tg.start_soon(scheduler.run, harness.sink)
        while not harness.starts["r"]:  # noqa: ASYNC110 - simulated time, a poll is exact
            await anyio.sleep(0.01)
        first = harness.starts["r"][0]
        await anyio.sleep(0.5)
        asked = anyio.current_time()
        scheduler.run_after("r", 5.0)
        scheduler.run_after("missing", 1.0)  # unknown: ignored
        await anyio.sleep(130)
        scheduler.stop()
    starts = harness.starts["r"]
    assert starts[1] == pytest.approx(asked + 5.0, abs=1e-6), "the retry"
    assert starts[2] == pytest.approx(first + 60.0, abs=1e-6), "the schedule is unchanged"
    assert starts[3] == pytest.approx(first + 120.0, abs=1e-6)
