"""Probe deadlines on one loop timer: due alarms go off in order, cleared ones never do, and
the heap does not keep the ended runs' entries."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest
import uvloop

from nyxmon.probes.deadlines import Deadlines


@pytest.mark.parametrize("new_loop", [asyncio.new_event_loop, uvloop.new_event_loop])
def test_alarms_go_off_in_order_and_cleared_ones_never(
    new_loop: Callable[[], asyncio.AbstractEventLoop],
) -> None:
    async def main() -> list[str]:
        loop = asyncio.get_running_loop()
        deadlines = Deadlines(loop)
        fired: list[str] = []
        deadlines.set(0.03, fired.append, "late")
        deadlines.set(0.01, fired.append, "early")
        cleared = deadlines.set(0.02, fired.append, "cleared")
        deadlines.clear(cleared)
        started = loop.time()
        await asyncio.sleep(0.015)
        assert fired == ["early"]
        await asyncio.sleep(0.05)
        assert loop.time() - started >= 0.03
        return fired

    loop = new_loop()
    try:
        assert loop.run_until_complete(main()) == ["early", "late"]
    finally:
        loop.close()


def test_an_alarm_set_earlier_than_the_armed_one_is_not_late() -> None:
    async def main() -> float:
        loop = asyncio.get_running_loop()
        deadlines = Deadlines(loop)
        done = loop.create_future()
        deadlines.set(5.0, done.set_result, "late")
        started = loop.time()
        deadlines.set(0.01, done.set_result, "early")
        assert await asyncio.wait_for(done, 1) == "early"
        return loop.time() - started

    assert asyncio.run(main()) < 1


def test_ended_runs_do_not_pile_up_in_the_heap() -> None:
    async def main() -> tuple[int, int]:
        deadlines = Deadlines(asyncio.get_running_loop())
        live = [deadlines.set(60.0, print, i) for i in range(10)]
        for i in range(5000):
            deadlines.clear(deadlines.set(60.0, print, i))
        held = len(deadlines._heap)
        for alarm in live:
            deadlines.clear(alarm)
        return held, len(deadlines)

    held, left = asyncio.run(main())
    assert held <= 2 * 1024 + 10
    assert left == 0


def test_a_failing_callback_does_not_stop_the_others() -> None:
    async def main() -> list[int]:
        loop = asyncio.get_running_loop()
        errors: list[object] = []
        loop.set_exception_handler(lambda _, context: errors.append(context["exception"]))
        deadlines = Deadlines(loop)
        fired: list[int] = []

        def boom(_: object) -> None:
            raise RuntimeError("boom")

        deadlines.set(0.01, boom, None)
        deadlines.set(0.01, fired.append, 1)
        deadlines.set(0.02, fired.append, 2)
        await asyncio.sleep(0.05)
        assert [str(e) for e in errors] == ["boom"]
        return fired

    assert asyncio.run(main()) == [1, 2]
