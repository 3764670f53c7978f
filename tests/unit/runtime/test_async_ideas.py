"""Seed 004's test ideas ASYNC-01..03 on a real Runtime; ASYNC-04 is the backend fixture.

No timing thresholds: a ticker task counts loop turns, and the tests assert on counts that a
blocked loop cannot change, however slow or busy the machine is.
"""

from __future__ import annotations

import threading
import time

import anyio
import pytest

from nyxmon.runtime import (
    DiscardedError,
    Dispatcher,
    OffloadPool,
    OffloadTimeoutError,
    Runtime,
    Session,
    SessionEvent,
)


class Ticker:
    """A task on the loop that counts its wake-ups and signals after a requested count."""

    def __init__(self) -> None:
        self.ticks = 0
        self._target = -1
        self.reached = threading.Event()

    async def run(self) -> None:
        while True:
            await anyio.sleep(0.001)
            self.ticks += 1
            if self.ticks == self._target:
                self.reached.set()

    def expect(self, more: int) -> threading.Event:
        self.reached.clear()
        self._target = self.ticks + more
        return self.reached


@pytest.fixture
def ticking(runtime: Runtime) -> tuple[Runtime, Ticker]:
    ticker = Ticker()
    runtime.spawn(ticker.run, name="ticker")
    deadline = time.monotonic() + 5
    while ticker.ticks < 3 and time.monotonic() < deadline:
        time.sleep(0.005)
    return runtime, ticker


def test_async01_a_blocking_section_in_a_coroutine_stops_every_other_task(
    ticking: tuple[Runtime, Ticker],
) -> None:
    runtime, ticker = ticking

    async def blocking_section() -> tuple[int, int, bool]:
        before = ticker.ticks
        progressed = ticker.expect(3).wait(0.3)  # blocks the loop thread itself
        return before, ticker.ticks, progressed

    before, after, progressed = runtime.call(blocking_section)
    assert after == before, "no other task may run while the loop thread is blocked"
    assert not progressed


def test_async02_offloading_the_blocking_section_keeps_the_loop_responsive(
    ticking: tuple[Runtime, Ticker],
) -> None:
    runtime, ticker = ticking
    pool = OffloadPool("async02", workers=1)

    async def offloaded_section() -> bool:
        reached = ticker.expect(3)
        return await pool.run(reached.wait, 10)

    try:
        assert runtime.call(offloaded_section) is True
    finally:
        pool.shutdown(timeout=2)


def test_async03_call_timeout_cancels_deterministically(runtime: Runtime) -> None:
    observed: list[str] = []

    async def slow() -> None:
        try:
            await anyio.sleep(30)
        except anyio.get_cancelled_exc_class():
            observed.append("cancelled")
            raise
        finally:
            observed.append("cleanup")

    with pytest.raises(TimeoutError):
        runtime.call(slow, timeout=0.02)
    assert observed == ["cancelled", "cleanup"]


def test_async03_cancelling_a_submit_future_reaches_the_coroutine(runtime: Runtime) -> None:
    started, finished = threading.Event(), threading.Event()

    async def slow() -> None:
        started.set()
        try:
            await anyio.sleep(30)
        finally:
            finished.set()

    future = runtime.submit(slow)
    assert started.wait(5)
    future.cancel()
    assert finished.wait(5)


def test_async03_completion_waiters_time_out_then_get_discarded_on_stop() -> None:
    class Idle(Session):
        def on_start(self) -> None:
            self.state = "idle"

        def on_event(self, event: SessionEvent) -> None:
            pass

    dispatcher = Dispatcher("async03").start()
    completion = dispatcher.register(Idle("idle"))
    with pytest.raises(TimeoutError):
        completion.wait(0.02)
    dispatcher.stop(timeout=1)
    with pytest.raises(DiscardedError):
        completion.wait(0)


def test_async03_an_awaited_offload_times_out_inside_a_runtime_task(runtime: Runtime) -> None:
    pool = OffloadPool("async03", workers=1)
    release = threading.Event()

    async def wait_for_stuck_call() -> str:
        try:
            await pool.submit(release.wait, 10, timeout=0.05)
        except OffloadTimeoutError as exc:
            return type(exc).__name__
        return "no timeout"

    try:
        assert runtime.call(wait_for_stuck_call) == "OffloadTimeoutError"
        assert pool.statistics().abandoned == 1
    finally:
        release.set()
        pool.shutdown(timeout=2)
