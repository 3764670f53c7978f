"""The virtual-time asyncio loop used by the scheduler tests: exact jumps, no real sleeps."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

import anyio
import pytest

from tests.support.virtual_loop import VirtualClockDeadlock, VirtualClockLoop

T = TypeVar("T")


def run(main: Callable[[], Coroutine[Any, Any, T]], **loop_options: Any) -> T:
    with asyncio.Runner(loop_factory=lambda: VirtualClockLoop(**loop_options)) as runner:
        return runner.run(main())


def test_time_jumps_exactly_to_the_next_timer() -> None:
    async def main() -> list[float]:
        loop = asyncio.get_running_loop()
        fired: list[float] = []
        loop.call_at(12.345, lambda: fired.append(loop.time()))
        await asyncio.sleep(20.0)
        fired.append(loop.time())
        return fired

    assert run(main) == [12.345, 20.0]


def test_a_sleep_of_1000_seconds_returns_at_once_in_wall_time() -> None:
    async def main() -> float:
        await asyncio.sleep(1000)
        return asyncio.get_running_loop().time()

    began = time.perf_counter()
    assert run(main, start=5.0) == 1005.0
    assert time.perf_counter() - began < 0.5


def test_a_timer_more_than_a_day_away_is_reached_in_one_jump() -> None:
    async def main() -> float:
        await asyncio.sleep(10 * 86400)  # asyncio caps one select() at a day
        return asyncio.get_running_loop().time()

    assert run(main) == 10 * 86400


def test_timers_fire_in_time_order_and_ties_in_call_order() -> None:
    async def main() -> list[tuple[str, float]]:
        loop = asyncio.get_running_loop()
        fired: list[tuple[str, float]] = []

        def fire(name: str) -> None:
            fired.append((name, loop.time()))

        for name, delay in [("e", 5.0), ("b", 1.0), ("d", 3.0), ("c", 1.0), ("a", 0.5)]:
            loop.call_later(delay, fire, name)
        await asyncio.sleep(10)
        return fired

    assert run(main) == [("a", 0.5), ("b", 1.0), ("c", 1.0), ("d", 3.0), ("e", 5.0)]


def test_a_cancelled_timer_does_not_move_time() -> None:
    async def main() -> list[float]:
        loop = asyncio.get_running_loop()
        loop.call_later(100.0, lambda: None).cancel()
        await asyncio.sleep(1.0)
        seen = [loop.time()]
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(2.0):
                await asyncio.sleep(50.0)
        seen.append(loop.time())
        return seen

    assert run(main) == [1.0, 3.0]


def test_real_readiness_is_served_call_soon_threadsafe_and_threads() -> None:
    async def main() -> tuple[str, int, float]:
        loop = asyncio.get_running_loop()
        woken: asyncio.Future[str] = loop.create_future()

        def later() -> None:
            time.sleep(0.05)  # real time: the loop has no timer and must wait for the pipe
            loop.call_soon_threadsafe(woken.set_result, "woken")

        thread = threading.Thread(target=later)
        thread.start()
        got = await woken
        thread.join()
        from_thread = await loop.run_in_executor(None, lambda: 42)
        return got, from_thread, loop.time()

    assert run(main) == ("woken", 42, 0.0)


def test_waiting_with_no_timer_and_no_io_fails_loudly() -> None:
    async def main() -> None:
        await asyncio.get_running_loop().create_future()  # never resolved, nothing else

    with (
        asyncio.Runner(loop_factory=lambda: VirtualClockLoop(idle_timeout=0.05)) as runner,
        pytest.raises(VirtualClockDeadlock, match="sleep forever"),
    ):
        runner.run(main())


def test_anyio_runs_on_it_with_virtual_time() -> None:
    async def main() -> list[float]:
        seen = [anyio.current_time()]
        with anyio.move_on_after(30):
            await anyio.sleep(3600)
        seen.append(anyio.current_time())
        await anyio.sleep(0.25)
        seen.append(anyio.current_time())
        return seen

    began = time.perf_counter()
    times = anyio.run(main, backend="asyncio", backend_options={"loop_factory": VirtualClockLoop})
    assert times == [0.0, 30.0, 30.25]
    assert time.perf_counter() - began < 0.5
